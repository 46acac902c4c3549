package classes

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/codec/classes/classdesc"
	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/codec/javaser"
	at "github.com/recoverctl/recoverctl/internal/streamtest"
)

func sparkOrScala(name string) bool {
	return strings.HasPrefix(name, "org.apache.spark.") || strings.HasPrefix(name, "scala.")
}

// releaseStream writes one stream whose root is an Object[] holding an
// instance (fields zero or null) of every serializable class of the
// release's table that keep selects, each declared with the release's own
// descriptor and super classes: what a Master of that release would write
// for those classes. mutate, when set, may change a descriptor first.
func releaseStream(t *testing.T, tb *Table, keep func(string) bool, mutate func(*at.Desc)) []byte {
	t.Helper()
	var elems []at.Value
	for _, name := range tb.desc.Names() {
		c, _ := tb.Lookup(name)
		if !keep(name) || c.SUID == nil || !c.Serializable || c.Externalizable || c.Enum || c.Interface || c.Array || c.Proxy {
			continue
		}
		d := descOf(t, tb, name)
		if mutate != nil {
			mutate(d)
		}
		var chain []*at.Desc // super first, as the values are written
		for x := d; x != nil; x = x.Super {
			chain = append([]*at.Desc{x}, chain...)
		}
		var vals []at.Value
		for _, x := range chain {
			for _, f := range x.Fields {
				vals = append(vals, zero(f.Type))
			}
			if x.Flags&0x01 != 0 { // SC_WRITE_METHOD: the class's data ends with TC_ENDBLOCKDATA
				vals = append(vals, func(w *at.Writer) { w.Raw(0x78) })
			}
		}
		elems = append(elems, at.Obj(d, vals...))
	}
	if len(elems) == 0 {
		t.Fatalf("%s: no class selected", tb.Release())
	}
	w := at.New()
	w.Array("[Ljava.lang.Object;", elems...)
	return w.Bytes()
}

func zero(typ byte) at.Value {
	n := map[byte]int{'B': 1, 'Z': 1, 'C': 2, 'S': 2, 'I': 4, 'F': 4, 'J': 8, 'D': 8}[typ]
	if n == 0 {
		return at.Nul()
	}
	return func(w *at.Writer) { w.Raw(make([]byte, n)...) }
}

// fingerprintOf decodes a stream as codec.Decode does and fingerprints the
// descriptors it declares.
func fingerprintOf(t *testing.T, data []byte) codec.Fingerprint {
	t.Helper()
	d := javaser.NewDecoder(data, javaser.Options{})
	if _, _, err := d.DecodeRecord(); err != nil {
		t.Fatalf("synthetic stream: %v", err)
	}
	return codec.FingerprintOf(d.ClassDescs)
}

// lineReleases expands the ranges a fingerprint prints ("3.3.0-3.3.4 or
// 3.4.0") back into releases of the tables, so that the text is checked to
// say exactly what Matches holds.
func lineReleases(t *testing.T, c *classdesc.Catalog, fp codec.Fingerprint) []string {
	t.Helper()
	var out []string
	for _, part := range strings.Split(fp.Line, " or ") {
		scala := fp.Scala
		if i := strings.Index(part, " (Scala "); i >= 0 {
			scala = strings.TrimSuffix(part[i+len(" (Scala "):], ")")
			part = part[:i]
		}
		lo, hi, ok := strings.Cut(part, "-")
		if !ok {
			hi = lo
		}
		n := 0
		for _, r := range c.Releases {
			if r.Scala == scala && classdesc.CompareVersions(lo, r.Spark) <= 0 && classdesc.CompareVersions(r.Spark, hi) <= 0 {
				out = append(out, r.Name())
				n++
			}
		}
		if n == 0 {
			t.Errorf("fingerprint %q: %q names no release of Scala %s", fp.Line, part, scala)
		}
	}
	return out
}

// For every release in the tables, a record built from that release's own
// descriptors is named with a range holding that release, the text names
// exactly the matching releases, every release sharing its table is among
// them, a Master of any of them reads the record (status and audit agree),
// and its Scala classes alone give its Scala line.
func TestFingerprintOfEveryRelease(t *testing.T) {
	c := cat(t)
	lines := map[string]int{}
	for _, name := range Releases() {
		tb := release(t, name)
		lines[tb.Scala]++
		data := releaseStream(t, tb, sparkOrScala, nil)
		fp := fingerprintOf(t, data)
		if !slices.Contains(fp.Matches, name) || fp.Scala != tb.Scala || fp.Line == codec.UnknownLayout {
			t.Errorf("%s: fingerprint %+v", name, fp)
			continue
		}
		if got := lineReleases(t, c, fp); !slices.Equal(got, fp.Matches) {
			t.Errorf("%s: line %q names %v, matches are %v", name, fp.Line, got, fp.Matches)
		}
		for _, same := range tb.Same() {
			if !slices.Contains(fp.Matches, same) {
				t.Errorf("%s: %s has the same table but is not matched: %v", name, same, fp.Matches)
			}
		}
		s := Scan(data, javaser.Options{})
		for _, m := range fp.Matches {
			if p := Predict("app_x", s, release(t, m), "filesystem"); p.Verdict != VerdictOK {
				t.Errorf("%s: the fingerprint names %s, whose Master would not read it: %+v", name, m, p)
			}
		}
		sc := fingerprintOf(t, releaseStream(t, tb, func(n string) bool { return strings.HasPrefix(n, "scala.") }, nil))
		if sc.Scala != tb.Scala || !slices.Contains(sc.Matches, name) {
			t.Errorf("%s: Scala classes alone give %+v", name, sc)
		}
		for _, m := range sc.Matches {
			if !strings.HasSuffix(m, "-"+tb.Scala) {
				t.Errorf("%s: Scala %s classes match %s", name, tb.Scala, m)
			}
		}
	}
	for _, l := range []string{"2.11", "2.12", "2.13"} {
		if lines[l] == 0 {
			t.Errorf("no Scala %s release in the tables", l)
		}
	}
}

// A record whose Spark classes no release declares so is an unknown
// layout, not a guess; its Scala line still shows.
func TestFingerprintUnknownLayout(t *testing.T) {
	for _, name := range []string{"2.4.8-2.11", "3.5.8-2.12", "4.0.5-2.13"} {
		tb := release(t, name)
		data := releaseStream(t, tb, sparkOrScala, func(d *at.Desc) {
			if d.Name == "org.apache.spark.deploy.master.ApplicationInfo" {
				d.SUID++
			}
		})
		fp := fingerprintOf(t, data)
		if fp.Line != codec.UnknownLayout || len(fp.Matches) != 0 || fp.Scala != tb.Scala {
			t.Errorf("%s with a changed ApplicationInfo: %+v", name, fp)
		}
		// A field list no release has, with the real serialVersionUID.
		data = releaseStream(t, tb, sparkOrScala, func(d *at.Desc) {
			if d.Name == "org.apache.spark.deploy.master.DriverInfo" {
				d.Fields = append(d.Fields, at.Field{Type: 'L', Name: "zzExtra", Sig: "Ljava/lang/Object;"})
			}
		})
		if fp := fingerprintOf(t, data); fp.Line != codec.UnknownLayout {
			t.Errorf("%s with an extra DriverInfo field: %+v", name, fp)
		}
		// The same count of fields, one of another name or type.
		for _, change := range []func(*at.Field){
			func(f *at.Field) { f.Name += "X" },
			func(f *at.Field) { f.Sig = "Ljava/lang/Object;" },
		} {
			data = releaseStream(t, tb, sparkOrScala, func(d *at.Desc) {
				if d.Name == "org.apache.spark.deploy.master.DriverInfo" {
					for i := range d.Fields {
						if d.Fields[i].Name == "id" {
							change(&d.Fields[i])
						}
					}
				}
			})
			if fp := fingerprintOf(t, data); fp.Line != codec.UnknownLayout {
				t.Errorf("%s with a changed DriverInfo.id: %+v", name, fp)
			}
		}
	}
}

// Every real capture's records: whatever release the fingerprint names,
// audit --target-spark of that release reads the record.
func TestCaptureFingerprintAgreesWithAudit(t *testing.T) {
	for rel, files := range captures(t) {
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if u, err := envelope.Open(b, envelope.Limits{}); err != nil || u.Serializer == envelope.FormKryo {
				continue
			}
			name := filepath.Base(f)
			rec, err := codec.Decode(name, b, codec.Options{})
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if !slices.Contains(rec.Spark.Matches, rel) {
				t.Errorf("%s: fingerprint %+v does not name %s", f, rec.Spark, rel)
			}
			for _, m := range rec.Spark.Matches {
				p := Record(name, b, Options{Target: release(t, m), Engine: "zookeeper"}).Prediction
				if p == nil || p.Verdict != VerdictOK {
					t.Errorf("%s: status names %s, audit --target-spark %s says %+v", f, m, m, p)
				}
			}
		}
	}
}
