package classdesc

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
)

// The embedded tables parse, every release points at a table holding the
// record classes, and identical tables are stored once.
func TestEmbeddedTables(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if Loads() != 1 {
		t.Errorf("%d loads, want 1 however often Load is called", Loads())
	}
	if _, err := Load(); err != nil || Loads() != 1 {
		t.Errorf("second Load: %v, %d loads", err, Loads())
	}
	seen := map[string]bool{}
	for _, r := range c.Releases {
		if seen[r.Name()] {
			t.Errorf("%s listed twice", r.Name())
		}
		seen[r.Name()] = true
		tb := c.Tables[r.Table]
		for _, cl := range []string{"org.apache.spark.deploy.master.ApplicationInfo", "org.apache.spark.deploy.master.DriverInfo", "org.apache.spark.deploy.master.WorkerInfo", "scala.Option"} {
			if lc, _ := tb.Lookup(cl); lc == nil || lc.SUID == nil {
				t.Errorf("%s: no serializable %s", r.Name(), cl)
			}
		}
	}
	if !slices.IsSortedFunc(c.Releases, CompareReleases) {
		t.Error("releases are not sorted")
	}
	for i, a := range c.Tables {
		if len(a.Releases) == 0 {
			t.Errorf("table %d serves no release", i)
		}
		for _, b := range c.Tables[i+1:] {
			if slices.Equal(a.Names(), b.Names()) && sameClasses(a, b) {
				t.Errorf("tables %d and %d are identical", a.ID, b.ID)
			}
		}
	}
}

func sameClasses(a, b *Table) bool {
	for n, c := range a.byName {
		if b.byName[n] != c { // the pool stores each distinct class once
			return false
		}
	}
	return len(a.missing) == len(b.missing)
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"3.9", "3.10", -1}, {"3.10", "3.9", 1}, {"4.0", "4.0", 0}, {"3.5", "4.0", -1}, {"2.4", "3.0", -1}, {"3.5", "3.5.1", -1}} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d", c.a, c.b, got)
		}
	}
}

func TestParseRejectsBadIndexes(t *testing.T) {
	for _, doc := range []string{
		`{"releases":[{"spark":"1","scala":"2","table":3,"probes":0}],"probes":[[]],"tables":[{"classes":[]}]}`,
		`{"classes":[],"tables":[{"classes":[7]}],"probes":[[]]}`,
		`{"probed":[],"probes":[[2]]}`,
		`not json`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%s): no error", doc)
		}
	}
}

// BenchmarkLoad is what the first table costs: decompression and parse.
func BenchmarkLoad(b *testing.B) {
	b.SetBytes(int64(len(packed)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load(); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParse: whatever a regeneration writes, Parse returns an error or a
// catalog whose lookups stay in bounds; it never panics.
func FuzzParse(f *testing.F) {
	raw, err := unpack()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"releases":[{"spark":"1","scala":"2","table":0,"probes":0}],"probed":["a"],"probes":[[0]],"classes":[{"name":"x"}],"tables":[{"classes":[0],"missing":["y"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		for _, r := range c.Releases {
			tb := c.Tables[r.Table]
			for _, n := range tb.Names() {
				tb.Lookup(n)
				tb.Lookup("[L" + n + ";")
				c.Variants(n)
			}
			c.Probe(r, "a")
		}
	})
}

var updateReleases = flag.Bool("update", false, "rewrite releases.txt from the tables")

// TestReleasesFile keeps releases.txt, which --version prints without
// loading a table, equal to the releases the tables hold.
func TestReleasesFile(t *testing.T) {
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range cat.Releases {
		want = append(want, r.Name())
	}
	if *updateReleases {
		if err := os.WriteFile("releases.txt", []byte(strings.Join(want, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := ReleaseNames(); !slices.Equal(got, want) {
		t.Fatalf("releases.txt lists %d releases, the tables %d (go test ./codec/classes/classdesc -update)", len(got), len(want))
	}
}
