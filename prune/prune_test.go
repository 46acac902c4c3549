package prune_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/prune"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/storetest"
	"github.com/recoverctl/recoverctl/store/zk"
)

func sample(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "codec", "envelope", "testdata", "samples", "4.0.5", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// contents is a store with real Spark 4.0 records, undecodable ones,
// a Kryo record and a foreign entry.
func contents(t *testing.T) map[string][]byte {
	garbage := []byte{0xAC, 0xED, 0x00, 0x05, 'z', 'z'}
	return map[string][]byte{
		"worker_worker-20260101000000-h1-7078": sample(t, "small.bin"),
		"worker_worker-20260102000000-h1-7078": sample(t, "small.bin"),
		"worker_worker-20260103000000-h1-7078": sample(t, "small.bin"),
		"worker_worker-20200101000000-h2-7078": sample(t, "kryo-worker.bin"),
		"driver_driver-20260101000000-0000":    sample(t, "driver.bin"),
		"app_app-20200101000000-0000":          garbage,
		"app_app-20991231000000-0001":          garbage,
		"README":                               []byte("notes\n"),
	}
}

func fsStore(t *testing.T) *fs.Store {
	dir := t.TempDir()
	for name, data := range contents(t) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPlanRules(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	tests := []struct {
		name  string
		rules prune.Rules
		want  []string
	}{
		{"undecodable", prune.Rules{Undecodable: true}, []string{"app_app-20200101000000-0000", "app_app-20991231000000-0001"}},
		{"undecodable and old", prune.Rules{Undecodable: true, OlderThan: year}, []string{"app_app-20200101000000-0000"}},
		{"old apps and workers", prune.Rules{OlderThan: year, Kinds: []store.Kind{store.KindApp, store.KindWorker}},
			[]string{"app_app-20200101000000-0000", "worker_worker-20200101000000-h2-7078"}},
		{"duplicate workers", prune.Rules{DuplicateWorkers: true},
			[]string{"worker_worker-20260101000000-h1-7078", "worker_worker-20260102000000-h1-7078"}},
		{"kind", prune.Rules{Kinds: []store.Kind{store.KindDriver}}, []string{"driver_driver-20260101000000-0000"}},
		{"id prefix", prune.Rules{IDs: []string{"app-2099"}}, []string{"app_app-20991231000000-0001"}},
		{"id exact and name", prune.Rules{IDs: []string{"driver-20260101000000-0000", "worker_worker-2020"}},
			[]string{"driver_driver-20260101000000-0000", "worker_worker-20200101000000-h2-7078"}},
		{"foreign", prune.Rules{Foreign: true}, []string{"README"}},
		{"foreign narrowed", prune.Rules{Foreign: true, IDs: []string{"nothing"}}, nil},
		{"foreign and undecodable", prune.Rules{Foreign: true, Undecodable: true},
			[]string{"README", "app_app-20200101000000-0000", "app_app-20991231000000-0001"}},
		{"kryo is not undecodable", prune.Rules{Undecodable: true, Kinds: []store.Kind{store.KindWorker}}, nil},
	}
	s := fsStore(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rules.Now, tt.rules.Location = now, time.UTC
			p, err := prune.PlanPrune(context.Background(), s, tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range p.Steps {
				got = append(got, it.Name)
				if len(it.Reasons) == 0 {
					t.Errorf("%s: no reason", it.Name)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("deletes %v, want %v", got, tt.want)
			}
			if p.Extra+len(p.Steps) != len(contents(t)) {
				t.Fatalf("kept %d + delete %d != %d", p.Extra, len(p.Steps), len(contents(t)))
			}
		})
	}
	if _, err := prune.PlanPrune(context.Background(), s, prune.Rules{}); !errors.Is(err, prune.ErrNoRule) {
		t.Fatalf("no rule: %v", err)
	}
}

func TestParseID(t *testing.T) {
	tm, host := prune.ParseID("worker-20261124101010-my-host-1-7078", time.UTC)
	if host != "my-host-1:7078" || !tm.Equal(time.Date(2026, 11, 24, 10, 10, 10, 0, time.UTC)) {
		t.Fatalf("worker id: %v %q", tm, host)
	}
	if tm, host := prune.ParseID("app-20261124101010-0003", time.UTC); host != "" || tm.Year() != 2026 {
		t.Fatalf("app id: %v %q", tm, host)
	}
	if tm, _ := prune.ParseID("weird", time.UTC); !tm.IsZero() {
		t.Fatal("weird id has a time")
	}
}

// TestApplyZooKeeper prunes real znodes: what is deleted is in the archive
// first (the foreign znode too), the rest stays, a rerun has nothing to do.
func TestApplyZooKeeper(t *testing.T) {
	srv := zktest.Start(t)
	ctx := context.Background()
	s, err := zk.Open(ctx, zk.Options{Servers: srv.Addr() + "/prune"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all := contents(t)
	for name, data := range all {
		storetest.Create(t, s, store.NewRecord(name, data))
	}
	p, err := prune.PlanPrune(ctx, s, prune.Rules{Foreign: true, Undecodable: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pruned.rctl.zst")
	res, err := plan.Apply(ctx, p, s, nil, plan.Options{ArchivePath: path, ArchiveInfo: backup.Info{StoreKind: "zk", Address: s.String()}})
	if err != nil || res.Deleted != 3 {
		t.Fatalf("apply: %+v %v", res, err)
	}
	a, err := backup.OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var archived []string
	for rec, err := range a.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if string(rec.Data) != string(all[rec.Name]) {
			t.Fatalf("archive holds other bytes for %s", rec.Name)
		}
		archived = append(archived, rec.Name)
	}
	for rec, err := range a.Foreign(ctx) { // foreign entries: the archive's foreign part, never restored
		if err != nil || string(rec.Data) != string(all[rec.Name]) {
			t.Fatalf("foreign part: %s %v", rec.Name, err)
		}
		archived = append(archived, rec.Name)
	}
	slices.Sort(archived)
	if !slices.Equal(archived, []string{"README", "app_app-20200101000000-0000", "app_app-20991231000000-0001"}) {
		t.Fatalf("archived %v", archived)
	}
	entries, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(all)-3 {
		t.Fatalf("%d entries left", len(entries))
	}
	p, err = prune.PlanPrune(ctx, s, prune.Rules{Foreign: true, Undecodable: true})
	if err != nil || len(p.Steps) != 0 {
		t.Fatalf("rerun: %v %v", p, err)
	}
	// A plan applied twice (interrupted run) finds the entries gone.
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
