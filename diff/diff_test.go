package diff_test

// External test package: diff itself never imports a concrete store (the
// command hands it readers); the tests wire real ones in.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/diff"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/storetest"
	"github.com/recoverctl/recoverctl/store/zk"
)

const captures = "../testdata/spark"

// capture returns the records of one real capture, by name.
func capture(t testing.TB, release, variant string) map[string][]byte {
	t.Helper()
	dir := filepath.Join(captures, release, variant, "records")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// firstOfKind is the record of that kind whose name sorts first.
func firstOfKind(t testing.TB, recs map[string][]byte, kind store.Kind) string {
	t.Helper()
	var names []string
	for n := range recs {
		if k, _ := store.ParseName(n); k == kind {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		t.Fatalf("no %s record", kind)
	}
	slices.Sort(names)
	return names[0]
}

// master returns the elements of a capture's master.json (what the live
// Master served) by id.
func master(t testing.TB, release, variant string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(captures, release, variant, "master.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, key := range []string{"workers", "activeapps", "activedrivers"} {
		var elems []map[string]any
		if err := json.Unmarshal(doc[key], &elems); err != nil {
			t.Fatalf("master.json %s: %v", key, err)
		}
		for _, e := range elems {
			out[e["id"].(string)] = e
		}
	}
	return out
}

// modelKeys are the top-level /json names of a decoded record's model.
func modelKeys(t testing.TB, name string, data []byte) map[string]bool {
	t.Helper()
	r, err := codec.Decode(name, data, codec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var v any = r.App
	switch {
	case r.Driver != nil:
		v = r.Driver
	case r.Worker != nil:
		v = r.Worker
	}
	b, _ := json.Marshal(v)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for k := range m {
		keys[k] = true
	}
	return keys
}

func topLevel(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// TestFieldsAgainstMaster compares a record of each kind from two
// captures of one release and checks the reported fields against what the
// two live Masters served: among the fields both the model and /json
// have, exactly those whose /json values differ are reported, with those
// values.
func TestFieldsAgainstMaster(t *testing.T) {
	for _, release := range []string{"2.4.8-2.12", "3.5.8-2.12", "4.0.5-2.13"} {
		recA, recB := capture(t, release, "filesystem"), capture(t, release, "zookeeper")
		mA, mB := master(t, release, "filesystem"), master(t, release, "zookeeper")
		for _, kind := range []store.Kind{store.KindApp, store.KindDriver, store.KindWorker} {
			t.Run(release+"/"+kind.String(), func(t *testing.T) {
				nameA, nameB := firstOfKind(t, recA, kind), firstOfKind(t, recB, kind)
				_, idA := store.ParseName(nameA)
				_, idB := store.ParseName(nameB)
				jA, jB := mA[idA], mB[idB]
				if jA == nil || jB == nil {
					t.Fatalf("master.json lacks %s or %s", idA, idB)
				}
				// The record of B under A's name: what a diff of two
				// Masters' stores sees for a record that changed.
				d := diff.Record(nameA, recA[nameA], recB[nameB], "", "")
				if d.UndecodableA != "" || d.UndecodableB != "" || d.BytesOnly {
					t.Fatalf("want decoded field differences, got %+v", d)
				}
				reported := map[string][]diff.Field{}
				for _, f := range d.Fields {
					reported[topLevel(f.Path)] = append(reported[topLevel(f.Path)], f)
				}
				checked := 0
				for key := range modelKeys(t, nameA, recA[nameA]) {
					va, okA := jA[key]
					vb, okB := jB[key]
					if !okA || !okB {
						continue
					}
					checked++
					differ := !jsonEqual(t, va, vb)
					if differ != (len(reported[key]) > 0) {
						t.Errorf("%s: /json says %v vs %v (differ %v), diff reported %v", key, va, vb, differ, reported[key])
					}
					if !differ || !isScalar(va) || !isScalar(vb) {
						continue
					}
					f := reported[key][0]
					if f.Path != key || !jsonEqual(t, rawValue(t, f.A), va) || !jsonEqual(t, rawValue(t, f.B), vb) {
						t.Errorf("%s: reported %s %s -> %s, /json has %v -> %v", key, f.Path, f.A, f.B, va, vb)
					}
				}
				if checked < 4 || len(d.Fields) == 0 {
					t.Fatalf("only %d fields checked, %d reported", checked, len(d.Fields))
				}
			})
		}
	}
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func rawValue(t testing.TB, raw json.RawMessage) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

func jsonEqual(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(ja, jb)
}

// TestOneFieldChanged changes one field of a real worker in its bytes (the
// host, padded to the same length so the Java stream stays valid) and
// expects that field alone, with both values.
func TestOneFieldChanged(t *testing.T) {
	recs := capture(t, "3.5.8-2.12", "filesystem")
	name := firstOfKind(t, recs, store.KindWorker)
	orig := recs[name]
	changed := bytes.Replace(orig, []byte("\x00\x09127.0.0.1"), []byte("\x00\x09127.0.0.9"), 1)
	if bytes.Equal(changed, orig) {
		t.Fatal("host not found in the worker record")
	}
	d := diff.Record(name, orig, changed, "", "")
	var paths []string
	for _, f := range d.Fields {
		paths = append(paths, f.Path+"="+string(f.A)+">"+string(f.B))
	}
	// The worker's host and its endpoint's are one string in the Java
	// stream (a back reference), so both change; the endpoint's
	// address text is a string of its own and stays.
	want := []string{`endpoint.host="127.0.0.1">"127.0.0.9"`, `host="127.0.0.1">"127.0.0.9"`}
	if !slices.Equal(paths, want) {
		t.Fatalf("fields %q, want %q", paths, want)
	}
}

// scenario is A (a real capture) and B (the same capture with a record
// removed, one added, one changed in content and one padded), and what a
// diff of them must say.
type scenario struct {
	a, b            map[string][]byte
	removed, added  string
	changed, padded string
	identical       int
}

func newScenario(t testing.TB) scenario {
	t.Helper()
	a := capture(t, "3.5.8-2.12", "filesystem")
	other := capture(t, "3.5.8-2.12", "zookeeper")
	s := scenario{a: a, b: map[string][]byte{}}
	for n, d := range a {
		s.b[n] = d
	}
	s.removed = firstOfKind(t, a, store.KindApp)
	delete(s.b, s.removed)
	s.added = firstOfKind(t, other, store.KindDriver)
	s.b[s.added] = other[s.added]
	s.changed = firstOfKind(t, a, store.KindWorker)
	s.b[s.changed] = other[firstOfKind(t, other, store.KindWorker)]
	var apps []string
	for n := range a {
		if k, _ := store.ParseName(n); k == store.KindApp {
			apps = append(apps, n)
		}
	}
	slices.Sort(apps)
	s.padded = apps[len(apps)-1]
	// What the RocksDB engine stores: the serializer's whole buffer, zeros
	// after the object.
	s.b[s.padded] = append(slices.Clone(a[s.padded]), make([]byte, 100)...)
	s.identical = len(a) - 3
	return s
}

func (s scenario) check(t *testing.T, res *diff.Result) {
	t.Helper()
	names := func(es []diff.Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Name)
		}
		return out
	}
	if got := names(res.OnlyA); !slices.Equal(got, []string{s.removed}) {
		t.Errorf("only in A: %v, want %v", got, s.removed)
	}
	if got := names(res.OnlyB); !slices.Equal(got, []string{s.added}) {
		t.Errorf("only in B: %v, want %v", got, s.added)
	}
	if res.Identical != s.identical {
		t.Errorf("identical %d, want %d", res.Identical, s.identical)
	}
	if res.Equal() {
		t.Error("Equal() on different sides")
	}
	want := []string{s.padded, s.changed}
	sort.Strings(want)
	var got []string
	for _, d := range res.Differ {
		got = append(got, d.Name)
		switch d.Name {
		case s.padded:
			if !d.BytesOnly || len(d.Fields) != 0 || d.SizeB != d.SizeA+100 {
				t.Errorf("padded record: %+v", d)
			}
		case s.changed:
			if d.BytesOnly || len(d.Fields) == 0 {
				t.Errorf("changed record: %+v", d)
			}
			for _, f := range d.Fields {
				if topLevel(f.Path) == "host" {
					t.Errorf("host reported changed, both captures ran on one host: %+v", f)
				}
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("differ %v, want %v", got, want)
	}
}

func writeFS(t testing.TB, recs map[string][]byte) (*fs.Store, string) {
	t.Helper()
	dir := t.TempDir()
	for n, d := range recs {
		if err := os.WriteFile(filepath.Join(dir, n), d, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func writeArchive(t testing.TB, src store.Reader) *diff.Archive {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.rctl.zst")
	if _, err := backup.WriteFile(ctx, src, path, backup.Info{StoreKind: "fs", Address: src.String(), Version: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	a, err := backup.OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return diff.NewArchive(a, path)
}

func records(recs map[string][]byte) []store.Record {
	var out []store.Record
	for n, d := range recs {
		out = append(out, store.NewRecord(n, d))
	}
	return out
}

// TestEveryPairOfKinds diffs the same two sets of records held in a
// directory, a real ZooKeeper and archives, in every pairing.
func TestEveryPairOfKinds(t *testing.T) {
	ctx := context.Background()
	s := newScenario(t)
	srv := zktest.Start(t)
	zkB, err := zk.Open(ctx, zk.Options{Servers: srv.Addr() + "/b"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zkB.Close() })
	storetest.Create(t, zkB, records(s.b)...)
	fsA, dirA := writeFS(t, s.a)
	fsB, _ := writeFS(t, s.b)
	if err := os.WriteFile(filepath.Join(dirA, "notes.txt"), []byte("operator's"), 0o600); err != nil {
		t.Fatal(err)
	}
	arA, arB := writeArchive(t, fsA), writeArchive(t, fsB)
	for _, c := range []struct {
		name string
		a, b store.Reader
	}{
		{"fs-zk", fsA, zkB},
		{"fs-fs", fsA, fsB},
		{"fs-archive", fsA, arB},
		{"archive-zk", arA, zkB},
		{"archive-archive", arA, arB},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := diff.Compare(ctx, diff.Side{Reader: c.a}, diff.Side{Reader: c.b})
			if err != nil {
				t.Fatal(err)
			}
			s.check(t, res)
			if res.A != c.a.String() || res.B != c.b.String() {
				t.Errorf("sides named %q, %q", res.A, res.B)
			}
		})
	}
	t.Run("foreign counted", func(t *testing.T) {
		res, err := diff.Compare(ctx, diff.Side{Reader: fsA}, diff.Side{Reader: arA})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Equal() || res.Identical != len(s.a) || res.ForeignA != 1 || res.ForeignB != 0 {
			t.Fatalf("a store against its own backup: %+v", res)
		}
	})
	t.Run("reversed", func(t *testing.T) {
		res, err := diff.Compare(ctx, diff.Side{Reader: zkB}, diff.Side{Reader: fsA})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.OnlyA) != 1 || res.OnlyA[0].Name != s.added || len(res.OnlyB) != 1 || res.OnlyB[0].Name != s.removed {
			t.Fatalf("reversed: %+v", res)
		}
	})
}

// TestUndecodable reports a record that does not decode as differing in
// bytes, with the reason, rather than failing the diff.
func TestUndecodable(t *testing.T) {
	recs := capture(t, "3.5.8-2.12", "filesystem")
	name := firstOfKind(t, recs, store.KindDriver)
	d := diff.Record(name, recs[name], []byte("not java"), "", "")
	if d.UndecodableA != "" || d.UndecodableB == "" || d.BytesOnly || len(d.Fields) != 0 {
		t.Fatalf("%+v", d)
	}
}

// TestFieldsBounded caps the fields of two unrelated records.
func TestFieldsBounded(t *testing.T) {
	a := capture(t, "3.5.8-2.12", "filesystem")
	b := capture(t, "2.4.8-2.12", "filesystem")
	name := firstOfKind(t, a, store.KindApp)
	d := diff.Record(name, a[name], b[firstOfKind(t, b, store.KindApp)], "", "")
	if len(d.Fields) > diff.MaxFields {
		t.Fatalf("%d fields", len(d.Fields))
	}
	if len(d.Fields) == 0 {
		t.Fatal("no fields between two releases' apps")
	}
}

// FuzzRecord feeds arbitrary bytes against a real record: the comparison
// never panics and stays bounded.
func FuzzRecord(f *testing.F) {
	recs := capture(f, "3.5.8-2.12", "filesystem")
	for _, d := range recs {
		f.Add(d)
	}
	name := firstOfKind(f, recs, store.KindApp)
	base := recs[name]
	f.Fuzz(func(t *testing.T, data []byte) {
		d := diff.Record(name, base, data, "", "")
		if len(d.Fields) > diff.MaxFields {
			t.Fatalf("%d fields", len(d.Fields))
		}
	})
}

// TestBytesOnlyFraming wraps a real record in each codec Spark's Masters
// write: the same content in another framing differs in bytes only.
func TestBytesOnlyFraming(t *testing.T) {
	recs := capture(t, "3.5.8-2.12", "filesystem")
	for _, kind := range []store.Kind{store.KindApp, store.KindDriver, store.KindWorker} {
		name := firstOfKind(t, recs, kind)
		for _, c := range []string{"lz4", "lzf", "snappy", "zstd"} {
			framed, err := envelope.Wrap(c, recs[name])
			if err != nil {
				t.Fatal(err)
			}
			d := diff.Record(name, recs[name], framed, "", c)
			if !d.BytesOnly || d.CodecA != "" || d.CodecB != c || len(d.Fields) != 0 {
				t.Errorf("%s in %s: %+v", name, c, d)
			}
		}
	}
}
