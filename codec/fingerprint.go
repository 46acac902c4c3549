package codec

import (
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/recoverctl/recoverctl/codec/classes/classdesc"
	"github.com/recoverctl/recoverctl/codec/javaser"
)

// Fingerprint names the Spark releases that could have written a record.
//
// None of the persisted Spark classes declares a serialVersionUID, so the
// JVM computes one from the class's shape and every record carries it,
// with the class's field list. A release matches when every Spark and Scala
// class descriptor the record declares equals that release's own (package
// classdesc: the same tables `audit --target-spark` judges by), so a
// release named here reads the record's descriptors without an
// InvalidClassException. The Scala line comes from the Scala classes
// themselves (2.11, 2.12 and 2.13 serialize their collections
// differently). JDK classes are left out: the tables hold one JDK's.
type Fingerprint struct {
	// Line names the matching releases as ranges, "3.3.0-3.3.4 or
	// 3.4.0-3.4.1"; UnknownLayout when no release in the tables matches.
	Line string `json:"line"`
	// Scala is the Scala line the record's classes were built with, ""
	// when they do not tell.
	Scala string `json:"scala,omitempty"`
	// Matches lists the matching releases ("3.3.0-2.12"), oldest first.
	// Records with the same matches share the slice: do not modify it.
	Matches []string `json:"matches,omitempty"`
}

// Lines of a Fingerprint that name no release.
const (
	// UnknownLayout: no release in the tables declares these classes so.
	UnknownLayout = "unknown layout"
	// MixedReleases: Combine found no release that every record matches.
	MixedReleases = "records of different releases"
)

type fpKey struct {
	all, scala classdesc.Set
	compressed bool
}

// fingerprints holds the fingerprint of every table set seen, shared by
// the records that have it (a store holds few distinct sets), so that a
// fingerprint allocates nothing after the first.
var fingerprints struct {
	sync.RWMutex
	m map[fpKey]Fingerprint
}

// fingerprint narrows the releases to those that agree with every class
// descriptor the record's stream declares. The descriptors are all there is
// to read: the stream writes each class once, whatever number of objects
// use it.
func fingerprint(descs iter.Seq[*javaser.ClassDesc], _ *javaser.Object, compressed bool) Fingerprint {
	return fingerprintOf(descs, compressed)
}

// FingerprintOf is the fingerprint of a stream's class descriptors.
func FingerprintOf(descs iter.Seq[*javaser.ClassDesc]) Fingerprint {
	return fingerprintOf(descs, false)
}

// fingerprintOf leaves out, for a compressed record, the releases before
// 4.0: spark.deploy.recoveryCompressionCodec came with 4.0, and an older
// Master neither writes nor reads a compressed record.
func fingerprintOf(descs iter.Seq[*javaser.ClassDesc], compressed bool) Fingerprint {
	cat, err := classdesc.Load()
	if err != nil {
		return Fingerprint{Line: UnknownLayout}
	}
	all, scala := cat.All, cat.All
	for d := range descs {
		if d.Proxy || d.Name == "" || d.Name[0] == '[' {
			continue
		}
		isScala := strings.HasPrefix(d.Name, "scala.")
		if !isScala && !strings.HasPrefix(d.Name, "org.apache.spark.") {
			continue
		}
		m := matching(cat, d)
		all = all.And(m)
		if isScala {
			scala = scala.And(m)
		}
	}
	key := fpKey{all, scala, compressed}
	fingerprints.RLock()
	fp, ok := fingerprints.m[key]
	fingerprints.RUnlock()
	if ok {
		return fp
	}
	if all.Empty() {
		fp = Fingerprint{Line: UnknownLayout, Scala: oneScala(cat, func(r classdesc.Release) bool { return scala.Has(r.Table) })}
	} else {
		fp = nameReleases(cat, func(r classdesc.Release) bool {
			return all.Has(r.Table) && (!compressed || classdesc.CompareVersions(r.Spark, "4.0.0") >= 0)
		})
		if len(fp.Matches) == 0 {
			fp = Fingerprint{Line: UnknownLayout, Scala: oneScala(cat, func(r classdesc.Release) bool { return scala.Has(r.Table) })}
		}
	}
	fingerprints.Lock()
	defer fingerprints.Unlock()
	if prev, ok := fingerprints.m[key]; ok {
		return prev
	}
	if fingerprints.m == nil {
		fingerprints.m = map[fpKey]Fingerprint{}
	}
	fingerprints.m[key] = fp
	return fp
}

// matching is the set of tables consistent with one stream descriptor:
// those holding the same serialVersionUID and field list, and those that
// do not know the class at all (a class outside the generator's seeds
// says nothing about the release).
func matching(cat *classdesc.Catalog, d *javaser.ClassDesc) classdesc.Set {
	variants, known := cat.Variants(d.Name)
	m := cat.All.AndNot(known)
	for _, v := range variants {
		if sameDescriptor(v.Class, d) {
			m = m.Or(v.Tables)
		}
	}
	return m
}

// sameDescriptor compares what ObjectStreamClass writes of a class: its
// serialVersionUID and its serializable fields, in the stream's order
// (primitives first, then by name, on both sides).
func sameDescriptor(c *classdesc.Class, d *javaser.ClassDesc) bool {
	if d.Flags&(javaser.SCSerializable|javaser.SCExternalizable) == 0 {
		// A Class object of a class that is not serializable (a Scala
		// object's, in a ModuleSerializationProxy): serialVersionUID 0, no
		// fields, and no descriptor in the table.
		return c.SUID == nil && len(d.Fields) == 0
	}
	if c.SUID == nil || *c.SUID != d.SUID || len(c.Fields) != len(d.Fields) {
		return false
	}
	for i, lf := range c.Fields {
		f := d.Fields[i]
		if f.Name != lf.Name {
			return false
		}
		if lf.Primitive() {
			if f.Type != lf.Type[0] || f.ClassName != "" {
				return false
			}
		} else if f.ClassName != lf.Type {
			return false
		}
	}
	return true
}

// nameReleases names the releases for which in is true as ranges of
// consecutive releases in the tables, split at each major.minor line and at
// each release the tables do not cover, grouped by Scala line.
func nameReleases(cat *classdesc.Catalog, in func(classdesc.Release) bool) Fingerprint {
	var fp Fingerprint
	scalas := []string{}
	for _, r := range cat.Releases {
		if in(r) {
			fp.Matches = append(fp.Matches, r.Name())
			if !slices.Contains(scalas, r.Scala) {
				scalas = append(scalas, r.Scala)
			}
		}
	}
	fp.Matches = slices.Clip(fp.Matches)
	slices.SortFunc(scalas, classdesc.CompareVersions)
	var parts []string
	for _, s := range scalas {
		var runs []string
		var lo, hi string
		flush := func() {
			switch {
			case lo == "":
			case lo == hi:
				runs = append(runs, lo)
			default:
				runs = append(runs, lo+"-"+hi)
			}
			lo, hi = "", ""
		}
		for _, r := range cat.Releases {
			if r.Scala != s {
				continue
			}
			if !in(r) || (hi != "" && (majorMinor(hi) != majorMinor(r.Spark) || uncoveredBetween(cat, s, hi, r.Spark))) {
				flush()
			}
			if in(r) {
				if lo == "" {
					lo = r.Spark
				}
				hi = r.Spark
			}
		}
		flush()
		part := strings.Join(runs, " or ")
		if len(scalas) > 1 {
			part += " (Scala " + s + ")"
		}
		parts = append(parts, part)
	}
	fp.Line = strings.Join(parts, " or ")
	if len(scalas) == 1 {
		fp.Scala = scalas[0]
	}
	return fp
}

// oneScala is the Scala line shared by every release for which in is
// true, "" when they are of several lines.
func oneScala(cat *classdesc.Catalog, in func(classdesc.Release) bool) string {
	s := ""
	for _, r := range cat.Releases {
		if !in(r) {
			continue
		}
		if s != "" && s != r.Scala {
			return ""
		}
		s = r.Scala
	}
	return s
}

// uncoveredBetween reports whether a release the tables could not cover
// lies between two covered ones: a range must not claim it.
func uncoveredBetween(cat *classdesc.Catalog, scala, lo, hi string) bool {
	for _, u := range cat.Uncovered {
		if u.Scala == scala && classdesc.CompareVersions(lo, u.Spark) < 0 && classdesc.CompareVersions(u.Spark, hi) < 0 {
			return true
		}
	}
	return false
}

func majorMinor(v string) string {
	if i := strings.IndexByte(v, '.'); i >= 0 {
		if j := strings.IndexByte(v[i+1:], '.'); j >= 0 {
			return v[:i+1+j]
		}
	}
	return v
}

// Combine narrows the fingerprints of the records of one store (one Master
// wrote them all) to the releases every record agrees with: a driver record
// alone cannot tell 3.5 from 4.3 (its classes did not change), the workers
// and apps beside it can. Records of an unknown layout are left out of the
// intersection; when no record matched anything the result is
// UnknownLayout, with the Scala line they agree on.
func Combine(fps ...Fingerprint) Fingerprint {
	cat, err := classdesc.Load()
	if err != nil {
		return Fingerprint{Line: UnknownLayout}
	}
	var set map[string]bool
	scala, scalaAgreed := "", true
	for _, fp := range fps {
		if fp.Scala != "" && scala != "" && fp.Scala != scala {
			scalaAgreed = false
		}
		if fp.Scala != "" {
			scala = fp.Scala
		}
		if len(fp.Matches) == 0 {
			continue
		}
		if set == nil {
			set = map[string]bool{}
			for _, m := range fp.Matches {
				set[m] = true
			}
			continue
		}
		for m := range set {
			if !slices.Contains(fp.Matches, m) {
				delete(set, m)
			}
		}
	}
	switch {
	case set == nil:
		if !scalaAgreed {
			scala = ""
		}
		if len(fps) == 0 {
			return Fingerprint{}
		}
		return Fingerprint{Line: UnknownLayout, Scala: scala}
	case len(set) == 0:
		return Fingerprint{Line: MixedReleases}
	}
	return nameReleases(cat, func(r classdesc.Release) bool { return set[r.Name()] })
}
