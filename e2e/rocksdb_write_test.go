package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/sparktest"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/rocksdb"
)

// TestMigrateIntoRocksDB (issue 13, item 4): the FILESYSTEM capture of a
// real Spark 4.0.5 Master, migrated through the plan engine (migrate's
// planner, plan.Run: lock, archive, staged batches, Commit, read-back) into
// a new RocksDB directory, is recovered by a real Spark 4.0.5 Master in
// ROCKSDB mode: its /json lists the workers, apps and driver of the
// capture's own master.json. It calls the packages rather than the binary
// until the commands take rocksdb:// targets.
func TestMigrateIntoRocksDB(t *testing.T) {
	home := sparktest.Prepare(t, "4.0.5", "2.13")
	capture := filepath.Join("..", "testdata", "spark", "4.0.5-2.13", "filesystem")
	src := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(capture, "records"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(capture, "records", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(capture, "master.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mj map[string]any
	if err := json.Unmarshal(b, &mj); err != nil {
		t.Fatal(err)
	}
	want := idsOf(mj)
	if len(want.Workers) == 0 || len(want.Apps) == 0 || len(want.Drivers) == 0 {
		t.Fatalf("capture's master.json lists %s", want)
	}

	ctx := context.Background()
	from, err := fs.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "recovery")
	to, err := rocksdb.OpenTarget(dir)
	if err != nil {
		t.Fatal(err)
	}
	run := &plan.Run{
		Target: to,
		Holder: "e2e migrate",
		Plan: func(ctx context.Context) (*plan.Plan, plan.Source, error) {
			p, s, err := migrate.Plan(ctx, from, to, migrate.Options{}, nil)
			if err != nil {
				return nil, nil, err
			}
			return p, s, nil
		},
		Options: plan.Options{ArchivePath: filepath.Join(t.TempDir(), "pre-write.rctl.zst")},
	}
	_, res, err := run.Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != len(want.records()) || res.Verified != res.Written {
		t.Fatalf("migrate wrote %d and verified %d records, want %d", res.Written, res.Verified, len(want.records()))
	}
	if !rocksdb.IsDatabase(dir) {
		t.Fatalf("%s holds no database after the run", dir)
	}
	if sib, _ := filepath.Glob(dir + ".recoverctl-*"); len(sib) != 0 {
		t.Fatalf("left beside the database: %v", sib)
	}

	start := time.Now()
	m := sparktest.StartMaster(t, home, sparktest.MasterOptions{Mode: "ROCKSDB", Dir: dir, WorkerTimeout: recoveryWait})
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last map[string]any
	err = m.WaitJSON(wctx, "the migrated records", func(v map[string]any) bool {
		last = v
		return idsOf(v).equal(want)
	})
	if err != nil {
		t.Fatalf("ROCKSDB Master on the migrated directory lists %s, want %s: %v", idsOf(last), want, err)
	}
	t.Logf("ROCKSDB Master listed %s in %s (status %v)", want, time.Since(start).Round(time.Second), last["status"])
	// Spark recovered it: the log it replayed is flushed into an SST once
	// it closes, and the reader reads the same records back.
	m.Stop()
	s, err := rocksdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, want.records()) {
		t.Errorf("after the Master: %v, want %v", names, want.records())
	}
}
