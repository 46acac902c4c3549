package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/diff"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/storetest"
)

const (
	diffCaptureA = "../../testdata/spark/3.5.8-2.12/filesystem/records"
	diffCaptureB = "../../testdata/spark/3.5.8-2.12/zookeeper/records"
)

func sortedNames(recs map[string][]byte, kind store.Kind) []string {
	var out []string
	for n := range recs {
		if k, _ := store.ParseName(n); k == kind {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func writeRecordDir(t *testing.T, recs map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for n, d := range recs {
		if err := os.WriteFile(filepath.Join(dir, n), d, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// diffSides is a real capture (A) and the same capture with an app
// removed, a driver of another capture added, a worker holding another
// capture's worker and an app padded with zeros (B).
func diffSides(t *testing.T) (a, b map[string][]byte) {
	t.Helper()
	a, other := readDirRecords(t, diffCaptureA), readDirRecords(t, diffCaptureB)
	b = map[string][]byte{}
	for n, d := range a {
		b[n] = d
	}
	apps := sortedNames(a, store.KindApp)
	delete(b, apps[0])
	added := sortedNames(other, store.KindDriver)[0]
	b[added] = other[added]
	b[sortedNames(a, store.KindWorker)[0]] = other[sortedNames(other, store.KindWorker)[0]]
	b[apps[1]] = append(slices.Clone(a[apps[1]]), make([]byte, 100)...)
	return a, b
}

// TestDiffGolden prints a directory against an archive of the changed
// records, as a person sees it.
func TestDiffGolden(t *testing.T) {
	a, b := diffSides(t)
	dirA, dirB := writeRecordDir(t, a), writeRecordDir(t, b)
	arch := backupTo(t, "--fs", dirB, "--to", t.TempDir()+"/").Archive
	out, stderr, code := runCLI(t, "diff", "fs://"+dirA, arch)
	if code != exitDiffers {
		t.Fatalf("exit %d, want %d: %s", code, exitDiffers, stderr)
	}
	if !strings.Contains(stderr, "1 only in A, 1 only in B, 2 differ") {
		t.Errorf("stderr %q does not sum up the differences", stderr)
	}
	out = strings.ReplaceAll(strings.ReplaceAll(out, dirA, "DIR_A"), arch, "ARCHIVE_B")
	golden(t, "diff.table.golden", []byte(out))
}

// TestDiffJSON is the contract for scripts: a directory against a real
// ZooKeeper holding the changed records.
func TestDiffJSON(t *testing.T) {
	a, b := diffSides(t)
	srv := zktest.Start(t)
	zs := openZK(t, srv.Addr()+"/b")
	var recs []store.Record
	for n, d := range b {
		recs = append(recs, store.NewRecord(n, d))
	}
	storetest.Create(t, zs, recs...)
	dirA := writeRecordDir(t, a)
	out, stderr, code := runCLI(t, "diff", "fs://"+dirA, "zk://"+srv.Addr()+"/b", "-o", "json")
	if code != exitDiffers {
		t.Fatalf("exit %d, want %d: %s", code, exitDiffers, stderr)
	}
	var res diff.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	apps, workers := sortedNames(a, store.KindApp), sortedNames(a, store.KindWorker)
	if len(res.OnlyA) != 1 || res.OnlyA[0].Name != apps[0] || len(res.OnlyB) != 1 || res.OnlyB[0].Kind != "driver" {
		t.Errorf("one side only: %+v %+v", res.OnlyA, res.OnlyB)
	}
	if res.Identical != len(a)-3 || len(res.Differ) != 2 {
		t.Fatalf("identical %d, differ %d", res.Identical, len(res.Differ))
	}
	for _, d := range res.Differ {
		switch d.Name {
		case apps[1]:
			if !d.BytesOnly {
				t.Errorf("padded app: %+v", d)
			}
		case workers[0]:
			var paths []string
			for _, f := range d.Fields {
				paths = append(paths, f.Path)
			}
			if !slices.Contains(paths, "port") || !slices.Contains(paths, "id") || slices.Contains(paths, "host") {
				t.Errorf("worker fields %v", paths)
			}
		default:
			t.Errorf("unexpected difference %s", d.Name)
		}
	}
	if !strings.Contains(res.B, srv.Addr()) {
		t.Errorf("B named %q", res.B)
	}
}

// TestDiffEqual exits 0 for a store against its own backup, and says so.
func TestDiffEqual(t *testing.T) {
	dir := writeRecordDir(t, readDirRecords(t, diffCaptureA))
	arch := backupTo(t, "--fs", dir, "--to", t.TempDir()+"/").Archive
	out, stderr, code := runCLI(t, "diff", arch, "fs://"+dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasSuffix(out, "5 identical, 0 only in A, 0 only in B, 0 differ (0 in bytes only)\n") {
		t.Errorf("output %q", out)
	}
}

func TestDiffUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"diff", "fs://" + dir},
		{"diff", dir, "fs://" + dir},
		{"diff", "nfs://x", "fs://" + dir},
		{"diff", "fs://" + dir, "fs://" + dir, "-o", "xml"},
	} {
		if _, stderr, code := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
	if _, stderr, code := runCLI(t, "diff", filepath.Join(dir, "missing.rctl.zst"), "fs://"+dir); code != exitFailure {
		t.Errorf("missing archive: exit %d: %s", code, stderr)
	}
}

// TestDiffRocksDB compares the database a real Spark 4 Master left with
// the key/value pairs dumped from it by RocksDB's own reader (the
// capture's records/): the same records byte for byte, zero padding
// included; then with one record's padding stripped, which differs in
// bytes only.
func TestDiffRocksDB(t *testing.T) {
	const capture = "../../testdata/spark/4.0.5-2.13/rocksdb"
	db := filepath.Join(t.TempDir(), "rocksdb")
	if err := os.CopyFS(db, os.DirFS(filepath.Join(capture, "rocksdb"))); err != nil {
		t.Fatal(err)
	}
	recs := readDirRecords(t, filepath.Join(capture, "records"))
	dir := writeRecordDir(t, recs)
	out, stderr, code := runCLI(t, "diff", "rocksdb://"+db, "fs://"+dir, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	name := sortedNames(recs, store.KindApp)[0]
	stripped := bytes.TrimRight(recs[name], "\x00")
	if len(stripped) == len(recs[name]) {
		t.Fatalf("%s has no zero padding", name)
	}
	if err := os.WriteFile(filepath.Join(dir, name), stripped, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = runCLI(t, "diff", "rocksdb://"+db, "fs://"+dir, "-o", "json")
	if code != exitDiffers {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	var res diff.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Identical != len(recs)-1 || len(res.Differ) != 1 || res.Differ[0].Name != name || !res.Differ[0].BytesOnly {
		t.Fatalf("%+v", res)
	}
}

// TestDiffWide prints every value whole with -o wide, and the table
// fitted to a narrow terminal otherwise.
func TestDiffWide(t *testing.T) {
	a, b := diffSides(t)
	dirA, dirB := writeRecordDir(t, a), writeRecordDir(t, b)
	o := &diffOptions{output: "wide", timeout: 10 * time.Second}
	var wide, narrow, stderr bytes.Buffer
	if err := runDiff(context.Background(), o, "fs://"+dirA, "fs://"+dirB, widthWriter{Writer: &wide, cols: 60}, &stderr); exitCode(err) != exitDiffers {
		t.Fatalf("%v", err)
	}
	o.output = "table"
	if err := runDiff(context.Background(), o, "fs://"+dirA, "fs://"+dirB, widthWriter{Writer: &narrow, cols: 60}, &stderr); exitCode(err) != exitDiffers {
		t.Fatalf("%v", err)
	}
	worker := sortedNames(a, store.KindWorker)[0]
	if !strings.Contains(wide.String(), worker) || strings.Contains(narrow.String(), worker) || !strings.Contains(narrow.String(), "…") {
		t.Errorf("wide:\n%s\nnarrow:\n%s", wide.String(), narrow.String())
	}
}
