package migrate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
)

var samples = map[string]string{
	"worker_worker-20260101000000-10.0.0.1-7078": "small.bin",
	"driver_driver-20260101000000-0000":          "driver.bin",
	"app_app-20260101000000-0000":                "lz4-small.bin",
	"app_app-20260101000000-0001":                "lzf-small.bin",
	"app_app-20260101000000-0002":                "snappy-small.bin",
	"app_app-20260101000000-0003":                "zstd-small.bin",
	"app_app-20260101000000-0004":                "lz4-large.bin",
	"app_app-20260101000000-0005":                "large.bin",
	"app_app-20260101000000-0006":                "zstd-large.bin",
	"app_app-20260101000000-0007":                "lzf-large.bin",
	"app_app-20260101000000-0008":                "snappy-large.bin",
}

// sampleDir holds real Spark 4.x records in every codec framing (mixed,
// which no real Master writes, so the source codec is detected), a Kryo
// record and a foreign file.
func sampleDir(t *testing.T, kryo bool) string {
	t.Helper()
	dir := t.TempDir()
	for name, file := range samples {
		data, err := os.ReadFile(filepath.Join("..", "codec", "envelope", "testdata", "samples", "4.0.5", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if kryo {
		data, err := os.ReadFile(filepath.Join("..", "codec", "envelope", "testdata", "samples", "4.0.5", "kryo-worker.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "worker_worker-kryo-10.0.0.2-7078"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not a record\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSamplesEveryRoad: compressed records into ZooKeeper come out plain,
// back into a compressing directory framed by its codec, and across
// chroots and directories unchanged; sources never change; a second run
// writes nothing.
func TestSamplesEveryRoad(t *testing.T) {
	srv := startZK(t)
	ctx := context.Background()
	src := openFS(t, sampleDir(t, false))
	before := snapshot(t, src)

	zkA := openZK(t, srv.Addr()+"/a", "", nil)
	p, res := migrateAll(t, src, zkA, migrate.Options{})
	if res.Written != len(samples) || res.Verified != len(samples) || len(p.Foreign) != 1 || p.Foreign[0] != "README" {
		t.Fatalf("fs -> zk: %+v, foreign %v", res, p.Foreign)
	}
	if p.Steps[0].Conversion != "lz4 -> plain" {
		t.Fatalf("first step conversion %q", p.Steps[0].Conversion)
	}
	checkTarget(t, before, snapshot(t, zkA), "", "")
	sameSnapshot(t, "source", before, snapshot(t, src))

	// Idempotent: the second run plans skips only.
	p2, _, err := migrate.Plan(ctx, src, zkA, migrate.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Count(plan.Identical) != len(samples) || p2.Writes() != 0 {
		t.Fatalf("rerun plan: %d skips, %d writes", p2.Count(plan.Identical), p2.Writes())
	}

	// zk -> zk: another chroot and spark dir.
	zkB := openZK(t, srv.Addr()+"/b/c", "/spark-ha", nil)
	migrateAll(t, zkA, zkB, migrate.Options{})
	checkTarget(t, snapshot(t, zkA), snapshot(t, zkB), "", "")

	// zk -> fs for every codec, then fs -> fs into plain again.
	for _, codec := range []string{"", "lz4", "lzf", "snappy", "zstd"} {
		t.Run("zk-to-fs-"+codec, func(t *testing.T) {
			dst := openFS(t, t.TempDir())
			migrateAll(t, zkB, dst, migrate.Options{TargetCodec: codec})
			checkTarget(t, snapshot(t, zkB), snapshot(t, dst), "", codec)
			if p, _, _ := migrate.Plan(ctx, zkB, dst, migrate.Options{TargetCodec: codec}, nil); p.Writes() != 0 {
				t.Fatalf("rerun writes %d", p.Writes())
			}
			back := openFS(t, t.TempDir())
			migrateAll(t, dst, back, migrate.Options{SourceCodec: codec})
			checkTarget(t, snapshot(t, dst), snapshot(t, back), codec, "")
		})
	}
}

func TestKryoAndConflicts(t *testing.T) {
	ctx := context.Background()
	src := openFS(t, sampleDir(t, true))
	dst := openFS(t, t.TempDir())

	p, msrc, err := migrate.Plan(ctx, src, dst, migrate.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count(plan.Unconvertible) != 1 || len(p.Refused()) != 1 {
		t.Fatalf("kryo record: %d unconvertible", p.Count(plan.Unconvertible))
	}
	if _, err := plan.Apply(ctx, p, dst, msrc, applyOpts(t)); !errors.Is(err, plan.ErrUnconvertible) {
		t.Fatalf("apply with a kryo record: %v", err)
	}
	if got := snapshot(t, dst); len(got) != 0 {
		t.Fatalf("refused apply wrote %d records", len(got))
	}
	// Into a Kryo Master only the Kryo record goes.
	if p, _, err = migrate.Plan(ctx, src, dst, migrate.Options{TargetSerializer: migrate.SerializerKryo}, nil); err != nil {
		t.Fatal(err)
	}
	if p.Count(plan.Create) != 1 {
		t.Fatalf("kryo target: %d creates", p.Count(plan.Create))
	}
	_, res := migrateAll(t, src, dst, migrate.Options{SkipUnconvertible: true})
	if res.Written != len(samples) || res.Left != 1 {
		t.Fatalf("skip unconvertible: %+v", res)
	}

	// A different record under a known name is a conflict...
	name := "app_app-20260101000000-0005"
	if err := os.WriteFile(filepath.Join(src.Dir(), name), javaRecord(1, 300), 0o644); err != nil {
		t.Fatal(err)
	}
	p, msrc, err = migrate.Plan(ctx, src, dst, migrate.Options{SkipUnconvertible: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count(plan.Differs) != 1 || p.Writes() != 0 {
		t.Fatalf("conflict plan: %d conflicts %d writes", p.Count(plan.Differs), p.Writes())
	}
	if _, err := plan.Apply(ctx, p, dst, msrc, applyOpts(t)); !errors.Is(err, plan.ErrConflict) || !contains(err, "--overwrite") {
		t.Fatalf("conflict apply: %v", err)
	}
	// ... that Overwrite replaces, after backing the target up.
	p, msrc, err = migrate.Plan(ctx, src, dst, migrate.Options{SkipUnconvertible: true, Overwrite: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ao := applyOpts(t)
	res, err = plan.Apply(ctx, p, dst, msrc, ao)
	if err != nil || res.Written != 1 || p.Count(plan.Overwrite) != 1 {
		t.Fatalf("overwrite: %+v %v", res, err)
	}
	a, err := backup.OpenFile(ctx, ao.ArchivePath)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Manifest().Records != len(samples) {
		t.Fatalf("backup of the target holds %d records", a.Manifest().Records)
	}
}

// TestSourceChanged: a record changed between plan and apply stops the
// write before it happens.
func TestSourceChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fillDir(t, dir, 20, 200)
	src := openFS(t, dir)
	dst := openFS(t, t.TempDir())
	p, msrc, err := migrate.Plan(ctx, src, dst, migrate.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, p.Steps[0].Name), javaRecord(999, 200), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Apply(ctx, p, dst, msrc, applyOpts(t)); !errors.Is(err, plan.ErrSourceChanged) {
		t.Fatalf("apply after a source change: %v", err)
	}
	if got := snapshot(t, dst); len(got) != 0 {
		t.Fatalf("%d records written", len(got))
	}
}

// TestBatchesBySize: many records go in several Apply calls, none over
// the byte budget, into ZooKeeper's multi.
func TestBatchesBySize(t *testing.T) {
	srv := startZK(t)
	ctx := context.Background()
	dir := t.TempDir()
	fillDir(t, dir, 400, 20<<10) // 8 MB
	src := openFS(t, dir)
	dst := openZK(t, srv.Addr(), "", nil)
	rec := &recordingTarget{Store: dst}
	p, msrc, err := migrate.Plan(ctx, src, rec, migrate.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ao := applyOpts(t)
	ao.BatchBytes = 512 << 10
	res, err := plan.Apply(ctx, p, rec, msrc, ao)
	if err != nil {
		t.Fatal(err)
	}
	if res.Batches < 16 || res.Batches != len(rec.sizes) {
		t.Fatalf("%d batches", res.Batches)
	}
	for _, n := range rec.sizes {
		if n > 512<<10 {
			t.Fatalf("batch of %d bytes", n)
		}
	}
	checkTarget(t, snapshot(t, src), snapshot(t, dst), "", "")
}

type recordingTarget struct {
	store.Store
	sizes []int
}

func (r *recordingTarget) Apply(ctx context.Context, ops []store.Op) error {
	n := 0
	for _, op := range ops {
		n += len(op.Record.Data)
	}
	r.sizes = append(r.sizes, n)
	return r.Store.Apply(ctx, ops)
}

func (r *recordingTarget) String() string { return "recording" }
