package codec

import (
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// Fingerprint is a guess at which Spark release line wrote a record.
//
// None of the persisted classes declares a serialVersionUID, so the JVM
// computes one from the class's shape and every record carries it. The
// table (fingerprint_table.go) holds those values for each release whose jars
// we had; a record matches the releases that agree on every class it holds.
// Releases not in the table (2.4, 3.3, new ones) match nothing, and then only
// the layout is used.
type Fingerprint struct {
	// Line is the best guess, e.g. "3.4-3.5", "4.0", "3.0-3.2"; a "~" prefix
	// marks a guess from the field layout alone.
	Line string `json:"line"`
	// Scala is the Scala binary version the classes were built with.
	Scala string `json:"scala,omitempty"`
	// Matches lists the releases in the table consistent with every class
	// descriptor in the record. Records with the same matches share the
	// slice: do not modify it.
	Matches []string `json:"matches,omitempty"`
}

type suidEntry struct {
	class   string
	suid    int64
	release string // "<spark>-<scala>"
}

// releaseSet is a bit set over tableReleases.
type releaseSet uint64

var (
	suidByClass   map[string]map[int64]releaseSet
	tableReleases []string
	releaseLine   []string // major.minor of each release
	// lineSpans holds every "lo-hi" text in advance, so that a fingerprint
	// costs no allocation for it.
	lineSpans map[[2]string]string
)

func init() {
	index := map[string]int{}
	for _, e := range suidTable {
		if _, ok := index[e.release]; !ok {
			index[e.release] = 0
			tableReleases = append(tableReleases, e.release)
		}
	}
	sort.Strings(tableReleases)
	if len(tableReleases) > 64 {
		tableReleases = tableReleases[:64] // releaseSet holds 64; the table is far smaller
	}
	releaseLine = make([]string, len(tableReleases))
	for i, r := range tableReleases {
		index[r] = i
		v := r
		if j := strings.IndexByte(v, '-'); j >= 0 {
			v = v[:j]
		}
		if j := strings.LastIndexByte(v, '.'); j >= 0 && strings.Count(v, ".") >= 2 {
			v = v[:j]
		}
		releaseLine[i] = v
	}
	lineSpans = map[[2]string]string{}
	for _, lo := range releaseLine {
		for _, hi := range releaseLine {
			if lo == hi {
				lineSpans[[2]string{lo, hi}] = lo
			} else {
				lineSpans[[2]string{lo, hi}] = lo + "-" + hi
			}
		}
	}
	suidByClass = map[string]map[int64]releaseSet{}
	for _, e := range suidTable {
		i, ok := index[e.release]
		if !ok || i >= 64 {
			continue
		}
		m := suidByClass[e.class]
		if m == nil {
			m = map[int64]releaseSet{}
			suidByClass[e.class] = m
		}
		m[e.suid] |= 1 << uint(i)
	}
}

// fingerprint narrows the releases to those that agree with every class
// descriptor the record's stream declares. The descriptors are all there is
// to read: the stream writes each class once, whatever number of objects
// use it.
func fingerprint(descs iter.Seq[*javaser.ClassDesc], root *javaser.Object) Fingerprint {
	cands := releaseSet(1)<<uint(len(tableReleases)) - 1
	if len(tableReleases) == 64 {
		cands = ^releaseSet(0)
	}
	scala213 := false
	var appDesc *javaser.ClassDesc
	for d := range descs {
		switch d.Name {
		case defaultProxy, moduleProxy:
			scala213 = true
		case classAppDesc:
			appDesc = d
		}
		// Every class in the table is Spark's; most of a record's are not.
		if strings.HasPrefix(d.Name, "org.apache.spark.") {
			if bySUID, ok := suidByClass[d.Name]; ok {
				cands &= bySUID[d.SUID]
			}
		}
	}
	if fp, ok := tableFingerprint(cands); ok {
		return fp
	}
	var fp Fingerprint
	fp.Scala = "2.12"
	if scala213 {
		fp.Scala = "2.13"
	}
	fp.Line = "~" + layoutLine(appDesc, root)
	return fp
}

// matchSets holds the fingerprint of every release set seen, shared by the
// records that have it (a store holds few distinct sets), so that a
// fingerprint allocates nothing.
var matchSets sync.Map // releaseSet -> Fingerprint

// tableFingerprint is the fingerprint of a non-empty set of releases.
func tableFingerprint(set releaseSet) (Fingerprint, bool) {
	if set == 0 {
		return Fingerprint{}, false
	}
	if fp, ok := matchSets.Load(set); ok {
		return fp.(Fingerprint), true
	}
	var fp Fingerprint
	for i, r := range tableReleases {
		if set&(1<<uint(i)) != 0 {
			fp.Matches = append(fp.Matches, r)
		}
	}
	fp.Matches = slices.Clip(fp.Matches)
	fp.Line = lineOf(set)
	fp.Scala = fp.Matches[0][strings.LastIndexByte(fp.Matches[0], '-')+1:]
	stored, _ := matchSets.LoadOrStore(set, fp)
	return stored.(Fingerprint), true
}

// lineOf turns the matching releases into a span of major.minor lines.
func lineOf(set releaseSet) string {
	lo, hi := lineBounds(set)
	if s, ok := lineSpans[[2]string{lo, hi}]; ok {
		return s
	}
	return lo + "-" + hi
}

func lineBounds(set releaseSet) (string, string) {
	lo, hi := "", ""
	for i, l := range releaseLine {
		if set&(1<<uint(i)) == 0 {
			continue
		}
		if lo == "" || versionLess(l, lo) {
			lo = l
		}
		if hi == "" || versionLess(hi, l) {
			hi = l
		}
	}
	return lo, hi
}

// versionLess compares dotted numbers without allocating.
func versionLess(a, b string) bool {
	for a != "" && b != "" {
		na, ra := leadingNumber(a)
		nb, rb := leadingNumber(b)
		if na != nb {
			return na < nb
		}
		a, b = strings.TrimPrefix(ra, "."), strings.TrimPrefix(rb, ".")
	}
	return a == "" && b != ""
}

func leadingNumber(s string) (int, string) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 && s != "" {
		i = 1 // skip a non-digit so the loop always advances
	}
	return n, s[i:]
}

// layoutLine guesses from fields when no release in the table matches.
func layoutLine(appDesc *javaser.ClassDesc, root *javaser.Object) string {
	has := func(d *javaser.ClassDesc, name string) bool {
		for ; d != nil; d = d.Super {
			for _, f := range d.Fields {
				if f.Name == name {
					return true
				}
			}
		}
		return false
	}
	switch {
	case appDesc != nil && has(appDesc, "defaultProfile"):
		return "3.4+"
	case appDesc != nil && has(appDesc, "resourceReqsPerExecutor"):
		return "3.0-3.3"
	case appDesc != nil:
		return "2.x"
	case has(root.Desc, "resources"), has(root.Desc, "_resources"):
		return "3.0+"
	}
	return "2.x"
}

// Combine narrows the fingerprints of the records of one store (one Master
// wrote them all) to the releases every record agrees with: a driver record
// alone cannot tell 3.5 from 4.3 (its classes did not change), the workers
// and apps beside it can. Records that matched nothing are ignored.
func Combine(fps ...Fingerprint) Fingerprint {
	var out Fingerprint
	var set releaseSet
	first := true
	for _, fp := range fps {
		if len(fp.Matches) == 0 {
			if out.Line == "" {
				out.Line, out.Scala = fp.Line, fp.Scala
			}
			continue
		}
		var s releaseSet
		for _, m := range fp.Matches {
			for i, r := range tableReleases {
				if r == m {
					s |= 1 << uint(i)
				}
			}
		}
		if first {
			set, first = s, false
		} else {
			set &= s
		}
	}
	if first {
		return out
	}
	out = Fingerprint{}
	for i, r := range tableReleases {
		if set&(1<<uint(i)) != 0 {
			out.Matches = append(out.Matches, r)
		}
	}
	if len(out.Matches) == 0 {
		out.Line = "?" // records from different releases in one store
		return out
	}
	out.Line = lineOf(set)
	out.Scala = out.Matches[0][strings.LastIndexByte(out.Matches[0], '-')+1:]
	return out
}
