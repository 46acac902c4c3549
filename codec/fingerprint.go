package codec

import (
	"sort"
	"strings"

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
	// descriptor in the record.
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

// fpWalk visits each object once (by handle) and narrows the candidate set.
type fpWalk struct {
	cands    releaseSet
	scala213 bool
	appDesc  *javaser.ClassDesc
	seen     []uint64
	visits   int
	buf      [16]uint64 // backing for seen: 1024 handles cover real records
}

// fpMaxVisits bounds the walk; the persisted classes sit near the root.
const fpMaxVisits = 1 << 14

func (w *fpWalk) visit(v javaser.Value, depth int) {
	if depth > 64 || w.visits > fpMaxVisits {
		return
	}
	switch t := v.(type) {
	case *javaser.Array:
		if t == nil || w.once(t.Handle) {
			return
		}
		w.visits++
		if vals, ok := t.Data.([]javaser.Value); ok {
			for _, e := range vals {
				w.visit(e, depth+1)
			}
		}
	case *javaser.Object:
		if t == nil {
			return
		}
		if w.once(t.Handle) {
			return
		}
		w.visits++
		for _, cd := range t.Classes {
			d := cd.Desc
			switch d.Name {
			case defaultProxy, moduleProxy:
				w.scala213 = true
			case classAppDesc:
				w.appDesc = d
			}
			if bySUID, ok := suidByClass[d.Name]; ok {
				w.cands &= bySUID[d.SUID]
			}
			for _, x := range cd.Values {
				w.visit(x, depth+1)
			}
			for _, x := range cd.Annotations {
				w.visit(x, depth+1)
			}
		}
	}
}

// once reports whether the value with this handle was visited before, and
// marks it. Handles are dense from BaseHandle, so a bit set is enough.
func (w *fpWalk) once(handle int32) bool {
	h := int(handle) - javaser.BaseHandle
	if h < 0 {
		return false // not from a stream (built in a test); depth still bounds it
	}
	for len(w.seen) <= h/64 {
		w.seen = append(w.seen, 0)
	}
	if w.seen[h/64]&(1<<uint(h%64)) != 0 {
		return true
	}
	w.seen[h/64] |= 1 << uint(h%64)
	return false
}

func fingerprint(root *javaser.Object) Fingerprint {
	w := fpWalk{cands: releaseSet(1)<<uint(len(tableReleases)) - 1}
	w.seen = w.buf[:0]
	if len(tableReleases) == 64 {
		w.cands = ^releaseSet(0)
	}
	w.visit(root, 0)
	var fp Fingerprint
	for i, r := range tableReleases {
		if w.cands&(1<<uint(i)) != 0 {
			fp.Matches = append(fp.Matches, r)
		}
	}
	if w.scala213 {
		fp.Scala = "2.13"
	} else {
		fp.Scala = "2.12"
	}
	if len(fp.Matches) > 0 {
		fp.Line = lineOf(w.cands)
		fp.Scala = fp.Matches[0][strings.LastIndexByte(fp.Matches[0], '-')+1:]
		return fp
	}
	fp.Line = "~" + layoutLine(w.appDesc, root)
	return fp
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
