package codec

import (
	"slices"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/codec/classes/classdesc"
	"github.com/recoverctl/recoverctl/codec/javaser"
)

func catalog(t testing.TB) *classdesc.Catalog {
	t.Helper()
	c, err := classdesc.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func releasesWhere(c *classdesc.Catalog, in func(classdesc.Release) bool) []string {
	var out []string
	for _, r := range c.Releases {
		if in(r) {
			out = append(out, r.Name())
		}
	}
	return out
}

// The text names consecutive releases as one range, split at each
// major.minor line and at each gap, per Scala line.
func TestFingerprintRanges(t *testing.T) {
	c := catalog(t)
	line := func(r classdesc.Release, mm string) bool { return strings.HasPrefix(r.Spark, mm+".") }
	cases := []struct {
		in          func(classdesc.Release) bool
		line, scala string
	}{
		{func(r classdesc.Release) bool {
			return r.Scala == "2.12" && (line(r, "3.3") || r.Spark == "3.4.0" || r.Spark == "3.4.1")
		}, "3.3.0-3.3.4 or 3.4.0-3.4.1", "2.12"},
		{func(r classdesc.Release) bool { return r.Scala == "2.12" && (r.Spark == "3.5.0" || r.Spark == "3.5.2") }, "3.5.0 or 3.5.2", "2.12"},
		{func(r classdesc.Release) bool { return line(r, "2.4") && r.Scala == "2.11" }, "2.4.0-2.4.8", "2.11"},
		{func(r classdesc.Release) bool { return r.Spark == "3.5.8" }, "3.5.8 (Scala 2.12) or 3.5.8 (Scala 2.13)", ""},
	}
	for _, tc := range cases {
		fp := nameReleases(c, tc.in)
		if fp.Line != tc.line || fp.Scala != tc.scala || !slices.Equal(fp.Matches, releasesWhere(c, tc.in)) {
			t.Errorf("got %+v, want line %q scala %q", fp, tc.line, tc.scala)
		}
	}
}

func TestCombine(t *testing.T) {
	c := catalog(t)
	fp := func(in func(classdesc.Release) bool) Fingerprint { return nameReleases(c, in) }
	a := fp(func(r classdesc.Release) bool { return r.Scala == "2.12" && strings.HasPrefix(r.Spark, "3.") })
	b := fp(func(r classdesc.Release) bool { return r.Scala == "2.12" && strings.HasPrefix(r.Spark, "3.5.") })
	unknown := Fingerprint{Line: UnknownLayout, Scala: "2.12"}
	got := Combine(a, unknown, b)
	if !slices.Equal(got.Matches, b.Matches) || got.Line != "3.5.0-3.5.9" || got.Scala != "2.12" {
		t.Errorf("3.x with 3.5: %+v", got)
	}
	other := fp(func(r classdesc.Release) bool { return r.Scala == "2.13" && strings.HasPrefix(r.Spark, "4.") })
	if got := Combine(b, other); got.Line != MixedReleases || len(got.Matches) != 0 {
		t.Errorf("3.5 (2.12) with 4.x (2.13): %+v", got)
	}
	if got := Combine(unknown, unknown); got.Line != UnknownLayout || got.Scala != "2.12" {
		t.Errorf("unknown only: %+v", got)
	}
	if got := Combine(unknown, Fingerprint{Line: UnknownLayout, Scala: "2.13"}); got.Line != UnknownLayout || got.Scala != "" {
		t.Errorf("unknown of two Scala lines: %+v", got)
	}
	if got := Combine(); got.Line != "" {
		t.Errorf("nothing: %+v", got)
	}
}

// JDK classes and classes outside the tables say nothing about the release;
// a Spark class the tables know, with a serialVersionUID none has, leaves
// nothing.
func TestFingerprintIgnoresForeignClasses(t *testing.T) {
	c := catalog(t)
	descs := func(ds ...*javaser.ClassDesc) func(func(*javaser.ClassDesc) bool) {
		return func(yield func(*javaser.ClassDesc) bool) {
			for _, d := range ds {
				if !yield(d) {
					return
				}
			}
		}
	}
	ser := javaser.SCSerializable
	jdk := &javaser.ClassDesc{Name: "java.util.Date", SUID: 7523967970034938905, Flags: ser | javaser.SCWriteMethod}
	foreign := &javaser.ClassDesc{Name: "org.apache.spark.NotInTheSeeds", SUID: 1, Flags: ser}
	fp := FingerprintOf(descs(jdk, foreign))
	if len(fp.Matches) != len(c.Releases) {
		t.Errorf("JDK and unknown classes narrowed the releases to %v", fp.Matches)
	}
	bad := &javaser.ClassDesc{Name: "org.apache.spark.deploy.master.WorkerInfo", SUID: 12345, Flags: ser}
	if fp := FingerprintOf(descs(jdk, bad)); fp.Line != UnknownLayout || len(fp.Matches) != 0 {
		t.Errorf("WorkerInfo with a made-up serialVersionUID: %+v", fp)
	}
}

// A store's records share fingerprints: the answer for a set of tables is
// built once and shared, not rebuilt per record.
func TestFingerprintSharedAnswer(t *testing.T) {
	d := &javaser.ClassDesc{Name: "java.util.Date", SUID: 7523967970034938905, Flags: javaser.SCSerializable}
	seq := func(yield func(*javaser.ClassDesc) bool) { yield(d) }
	a, b := FingerprintOf(seq), FingerprintOf(seq)
	if len(a.Matches) == 0 || &a.Matches[0] != &b.Matches[0] {
		t.Errorf("two fingerprints of the same descriptors do not share their matches: %p %p", a.Matches, b.Matches)
	}
}

// A range never spans a release the tables do not cover.
func TestFingerprintRangesStopAtUncovered(t *testing.T) {
	c, err := classdesc.Parse([]byte(`{"releases":[
		{"spark":"9.0.0","scala":"2.13","table":0,"probes":0},{"spark":"9.0.1","scala":"2.13","table":0,"probes":0},
		{"spark":"9.0.3","scala":"2.13","table":0,"probes":0},{"spark":"9.0.4","scala":"2.13","table":0,"probes":0}],
		"uncovered":[{"spark":"9.0.2","scala":"2.13"}],"probes":[[]],"tables":[{"classes":[]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	fp := nameReleases(c, func(classdesc.Release) bool { return true })
	if fp.Line != "9.0.0-9.0.1 or 9.0.3-9.0.4" || len(fp.Matches) != 4 {
		t.Errorf("got %+v", fp)
	}
}
