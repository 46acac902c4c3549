package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/codec/javaser"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// captureRoot holds real captures made by real Spark Masters
// (testdata/spark/generate.sh at the module root).
const captureRoot = "../testdata/spark"

type capture struct {
	dir     string // e.g. ../testdata/spark/3.5.8-2.12/filesystem
	release string // 3.5.8-2.12
	variant string // filesystem
	info    struct {
		Spark            string  `json:"spark"`
		Scala            string  `json:"scala"`
		RecoveryMode     string  `json:"recoveryMode"`
		Serializer       string  `json:"serializer"`
		CompressionCodec *string `json:"compressionCodec"`
	}
	records map[string][]byte
	infoErr error // capture.json unreadable: reported, the records still tested
}

// codec is the compression codec of the capture: capture.json's, or the
// variant name's (filesystem-lz4) when capture.json is unusable.
func (c capture) codec() string {
	if c.info.CompressionCodec != nil {
		return *c.info.CompressionCodec
	}
	if c.infoErr != nil && strings.HasPrefix(c.variant, "filesystem-") && !c.kryo() {
		return strings.TrimPrefix(c.variant, "filesystem-")
	}
	return ""
}

func (c capture) scala() string {
	if c.info.Scala != "" {
		return c.info.Scala
	}
	return c.release[strings.LastIndexByte(c.release, '-')+1:]
}

func (c capture) kryo() bool {
	return strings.Contains(strings.ToLower(c.info.Serializer+c.variant), "kryo")
}

// loadCaptures reads every capture; it fails the test when there is none, so
// a checkout without testdata cannot pass by testing nothing.
func loadCaptures(tb testing.TB) []capture {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join(captureRoot, "*", "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []capture
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		release, variant := filepath.Base(filepath.Dir(dir)), filepath.Base(dir)
		if release == "java" || release == "lib" || strings.HasPrefix(release, ".") {
			continue
		}
		c := capture{dir: dir, release: release, variant: variant, records: map[string][]byte{}}
		if b, err := os.ReadFile(filepath.Join(dir, "capture.json")); err == nil {
			if err := json.Unmarshal(b, &c.info); err != nil {
				c.infoErr = fmt.Errorf("%s/capture.json: %w", dir, err)
			}
		} else {
			// generate.sh writes capture.json last: without it the capture is
			// still being made (or failed) and is not ground truth yet.
			tb.Logf("%s: no capture.json, capture incomplete; not used", dir)
			continue
		}
		entries, err := os.ReadDir(filepath.Join(dir, "records"))
		if err != nil {
			tb.Fatalf("%s: %v (every capture, rocksdb included, has records/)", dir, err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, "records", e.Name()))
			if err != nil {
				tb.Fatal(err)
			}
			c.records[e.Name()] = b
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		tb.Fatalf("no capture under %s: run testdata/spark/generate.sh", captureRoot)
	}
	return out
}

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestCaptures decodes every captured record and compares it, field by field,
// with what the same Master showed in its /json just before it was killed.
func TestCaptures(t *testing.T) {
	for _, c := range loadCaptures(t) {
		t.Run(c.release+"/"+c.variant, func(t *testing.T) {
			if c.infoErr != nil {
				t.Errorf("%v (settings taken from the directory names)", c.infoErr)
			}
			var master masterJSON
			b, err := os.ReadFile(filepath.Join(c.dir, "master.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &master); err != nil {
				t.Fatal(err)
			}
			goldenDir := filepath.Join("testdata", "golden", c.release, c.variant)
			if *update {
				// A regenerated capture has new record names: start afresh.
				if err := os.RemoveAll(goldenDir); err != nil {
					t.Fatal(err)
				}
			} else {
				checkNoStaleGolden(t, goldenDir, c)
			}
			decoded := map[string]*Record{}
			for _, name := range sortedNames(c.records) {
				rec, err := Decode(name, c.records[name], Options{})
				if c.kryo() {
					// Kryo is recognised, not decoded: the claim is the kind
					// and a clear ErrKryo.
					if !errors.Is(err, ErrKryo) || rec == nil || rec.Serializer != "kryo" {
						t.Errorf("%s: want ErrKryo with a kryo record, got %v", name, err)
						continue
					}
					if k, _ := KindOf(name); rec.Kind != k {
						t.Errorf("%s: kind %q, want %q", name, rec.Kind, k)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				decoded[name] = rec
				// The captures were made with TZ=UTC; the ids must say so.
				if off, ok := rec.IDZoneOffset(); rec.Worker == nil && (!ok || off != 0) {
					t.Errorf("%s: zone offset from the id %v (ok %v), want 0", name, off, ok)
				}
				checkRecordShape(t, c, name, rec)
				golden(t, filepath.Join(goldenDir, name+".json"), rec)
			}
			if c.kryo() {
				return
			}
			compareWithMaster(t, master, decoded)
			var fps []Fingerprint
			for _, r := range decoded {
				fps = append(fps, r.Spark)
			}
			// The releases whose descriptors are identical (one table) are
			// all named; for 4.x, the workers and apps beside the drivers
			// narrow it to them alone (3.0 and 3.1 differ only in classes
			// these records do not hold, so they stay together).
			fp := Combine(fps...)
			if !slices.Contains(fp.Matches, c.release) || fp.Scala != c.scala() {
				t.Errorf("combined fingerprint %+v, want %s", fp, c.release)
			}
			same := sameTable(t, c.release)
			for _, r := range same {
				if !slices.Contains(fp.Matches, r) {
					t.Errorf("combined fingerprint %+v lacks %s, whose descriptors equal %s's", fp, r, c.release)
				}
			}
			if strings.HasPrefix(c.release, "4.") && !slices.Equal(fp.Matches, same) {
				t.Errorf("combined fingerprint %+v, want exactly %v", fp, same)
			}
		})
	}
}

// sameTable lists the releases whose descriptors equal those of release.
func sameTable(t *testing.T, release string) []string {
	t.Helper()
	c := catalog(t)
	spark, scala, _ := strings.Cut(release, "-")
	r, ok := c.Find(spark, scala)
	if !ok {
		t.Fatalf("%s is not in the tables", release)
	}
	var out []string
	for _, x := range c.Tables[r.Table].Releases {
		out = append(out, x.Name())
	}
	return out
}

// checkNoStaleGolden fails on golden files of records the capture no longer
// has, so that a regenerated capture cannot pass against old expectations.
func checkNoStaleGolden(t *testing.T, dir string, c capture) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // missing golden files are reported record by record
	}
	for _, e := range entries {
		if _, ok := c.records[strings.TrimSuffix(e.Name(), ".json")]; !ok {
			t.Errorf("%s/%s: golden file of a record the capture does not have (go test ./codec -update)", dir, e.Name())
		}
	}
}

func checkRecordShape(t *testing.T, c capture, name string, rec *Record) {
	t.Helper()
	set := 0
	for _, p := range []bool{rec.App != nil, rec.Driver != nil, rec.Worker != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		t.Errorf("%s: %d of App/Driver/Worker set", name, set)
	}
	// Only the RocksDB engine pads (see Record.TrailingZeros).
	if rec.Trailing != -1 && (!strings.HasPrefix(c.variant, "rocksdb") || !rec.TrailingZeros) {
		t.Errorf("%s: trailing bytes at %d (zeros: %v)", name, rec.Trailing, rec.TrailingZeros)
	}
	wantCodec := c.codec()
	if rec.Codec != wantCodec {
		t.Errorf("%s: codec %q, capture says %q", name, rec.Codec, wantCodec)
	}
	if len(rec.Unknown) > 0 {
		t.Errorf("%s: fields the model does not know: %+v", name, rec.Unknown)
	}
	// The fingerprint must include the release that wrote the record.
	found := false
	for _, m := range rec.Spark.Matches {
		found = found || m == c.release
	}
	if !found {
		t.Errorf("%s: fingerprint %+v does not include %s", name, rec.Spark, c.release)
	}
	if rec.Spark.Scala != c.scala() {
		t.Errorf("%s: fingerprint scala %s, capture %s", name, rec.Spark.Scala, c.scala())
	}
}

type masterJSON struct {
	Workers       []map[string]any `json:"workers"`
	ActiveApps    []map[string]any `json:"activeapps"`
	ActiveDrivers []map[string]any `json:"activedrivers"`
}

// What JsonProtocol shows that a record persists; app "cores" is
// coresGranted, a transient field, so it is not compared.
var (
	workerKeys = []string{"id", "host", "port", "webuiaddress", "cores", "memory", "resources"}
	appKeys    = []string{"id", "name", "user", "starttime", "submitdate", "memoryperexecutor", "resourcesperexecutor"}
	driverKeys = []string{"id", "starttime", "submitdate", "cores", "memory", "mainclass", "resources"}
)

// slaveAliases are the names the Master's JSON used before 3.2 for the
// same values (JsonProtocol kept them as deprecated aliases after).
var slaveAliases = map[string]string{
	"memoryperexecutor":    "memoryperslave",
	"resourcesperexecutor": "resourcesperslave",
}

func compareWithMaster(t *testing.T, master masterJSON, decoded map[string]*Record) {
	t.Helper()
	seen := map[string]bool{}
	check := func(prefix string, entries []map[string]any, keys []string, pick func(*Record) any) {
		for _, want := range entries {
			id, _ := want["id"].(string)
			name := prefix + id
			seen[name] = true
			rec := decoded[name]
			if rec == nil {
				t.Errorf("master.json has %s but records/ has no decodable record of it", name)
				continue
			}
			got := toGeneric(t, pick(rec))
			for _, k := range keys {
				wv, ok := want[k]
				if alias, has := slaveAliases[k]; !ok && has {
					wv = want[alias] // Spark 3.0 and 3.1 write only the old names
				}
				w, g := normalize(k, wv), normalize(k, got[k])
				if !reflect.DeepEqual(w, g) {
					t.Errorf("%s: %s = %v, master.json %v", name, k, g, w)
				}
			}
		}
	}
	check("worker_", master.Workers, workerKeys, func(r *Record) any { return r.Worker })
	check("app_", master.ActiveApps, appKeys, func(r *Record) any { return r.App })
	check("driver_", master.ActiveDrivers, driverKeys, func(r *Record) any { return r.Driver })
	for name, rec := range decoded {
		if seen[name] {
			continue
		}
		if why := reregistration(rec, master, decoded); why != "" {
			t.Logf("records/ has %s, not in master.json: %s", name, why)
			continue
		}
		t.Errorf("records/ has %s, which master.json does not list as a worker, active app or active driver", name)
	}
}

// reregistration explains an app record missing from master.json when it is
// a second registration of a listed app's driver, started after it: the
// driver's StandaloneAppClient re-sends RegisterApplication when no answer
// comes in time, the Master persists each attempt under a new app id, and the
// capture's /json snapshot can miss the last one.
func reregistration(rec *Record, master masterJSON, decoded map[string]*Record) string {
	if rec.App == nil || rec.App.Driver == nil {
		return ""
	}
	for _, a := range master.ActiveApps {
		id, _ := a["id"].(string)
		other := decoded["app_"+id]
		if other == nil || other.App.Driver == nil {
			continue
		}
		if other.App.Driver.Address == rec.App.Driver.Address && other.App.StartTime < rec.App.StartTime {
			return fmt.Sprintf("a later registration of the driver %s of %s", rec.App.Driver.Address, id)
		}
	}
	return ""
}

func toGeneric(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// normalize keeps, of resource values, only what JsonProtocol writes:
// name and addresses of a resource, name and amount of a requirement.
func normalize(key string, v any) any {
	switch key {
	case "resources":
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := map[string]any{}
		for k, r := range m {
			if rm, ok := r.(map[string]any); ok {
				out[k] = map[string]any{"name": rm["name"], "addresses": rm["addresses"]}
			}
		}
		return out
	case "resourcesperexecutor":
		l, ok := v.([]any)
		if !ok {
			return v
		}
		out := []any{}
		for _, r := range l {
			if rm, ok := r.(map[string]any); ok {
				out = append(out, map[string]any{"name": rm["name"], "amount": rm["amount"]})
			}
		}
		return out
	}
	return v
}

func golden(t *testing.T, path string, rec *Record) {
	t.Helper()
	got, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (run go test ./codec -update)", err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the decoded record (go test ./codec -update to accept):\n%s", path, firstDiff(want, got))
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}

func FuzzDecodeRecord(f *testing.F) {
	for _, c := range loadCaptures(f) {
		for _, name := range sortedNames(c.records) {
			f.Add(name, c.records[name])
		}
	}
	var seedName string
	var seed []byte
	for _, c := range loadCaptures(f) {
		for _, name := range sortedNames(c.records) {
			if c.codec() == "" && seed == nil {
				seedName, seed = name, c.records[name]
			}
		}
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		rec, err := Decode(name, data, Options{})
		// A reused Decoder, after a real record, must agree with Decode.
		d := NewDecoder(Options{})
		if _, err := d.Decode(seedName, seed); err != nil {
			t.Fatal(err)
		}
		again, againErr := d.Decode(name, data)
		if (err == nil) != (againErr == nil) {
			t.Fatalf("Decode error %v, reused Decoder error %v", err, againErr)
		}
		if err != nil {
			return
		}
		a, _ := json.Marshal([]any{rec.App, rec.Driver, rec.Worker})
		b, _ := json.Marshal([]any{again.App, again.Driver, again.Worker})
		if !bytes.Equal(a, b) {
			t.Fatalf("reused Decoder gives %s, Decode %s", b, a)
		}
		set := 0
		for _, p := range []bool{rec.App != nil, rec.Driver != nil, rec.Worker != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("no error but %d of App/Driver/Worker set", set)
		}
		if _, err := json.Marshal(rec); err != nil {
			t.Fatalf("decoded record does not marshal: %v", err)
		}
	})
}

func BenchmarkDecodeRecord(b *testing.B) {
	type item struct {
		name string
		data []byte
	}
	var items []item
	total := 0
	for _, c := range loadCaptures(b) {
		if c.kryo() {
			continue
		}
		for _, name := range sortedNames(c.records) {
			items = append(items, item{name, c.records[name]})
			total += len(c.records[name])
		}
	}
	run := func(b *testing.B, decode func(name string, data []byte) error) {
		b.SetBytes(int64(total))
		b.ReportAllocs()
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, it := range items {
				if err := decode(it.name, it.data); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		n := float64(b.N * len(items))
		if secs := b.Elapsed().Seconds(); secs > 0 {
			b.ReportMetric(n/secs, "records/s")
		}
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/n, "allocs/record")
	}
	// Decode is the whole path; the Java stream alone shows the share of
	// allocations that belongs to codec/javaser.
	b.Run("Decode", func(b *testing.B) {
		run(b, func(name string, data []byte) error {
			_, err := Decode(name, data, Options{})
			return err
		})
	})
	b.Run("JavaStreamOnly", func(b *testing.B) {
		run(b, func(name string, data []byte) error {
			u, err := envelope.Open(data, envelope.Limits{})
			if err != nil {
				return err
			}
			_, _, err = javaser.Decode(u.Payload, javaser.Options{})
			return err
		})
	})
}
