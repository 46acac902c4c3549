package backup_test

// External test package: backup itself never imports store/zk (the command
// hands it a store); the test wires a real one in.

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/storetest"
	"github.com/recoverctl/recoverctl/store/zk"
)

func openZK(t *testing.T, servers string) *zk.Store {
	t.Helper()
	s, err := zk.Open(context.Background(), zk.Options{Servers: servers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestZooKeeperRoundTrip backs up a real ZooKeeper master_status holding
// many small records, a few large ones (close to what one multi may carry)
// and records with their own ACLs, restores into another chroot in
// byte-sized multi batches, and compares bytes and ACLs.
func TestZooKeeperRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := zktest.Start(t)
	src := openZK(t, srv.Addr()+"/src")
	rng := rand.New(rand.NewPCG(7, 7))
	acl := []store.ACL{{Perms: zk.PermAll, Scheme: "world", ID: "anyone"}, {Perms: zk.PermRead, Scheme: "ip", ID: "127.0.0.1"}}
	want := map[string]store.Record{}
	var batch []store.Record
	for i := range 1500 {
		size := 200 + rng.IntN(4000)
		switch {
		case i%500 == 7:
			size = 300 << 10 // one of these nearly fills a batch
		case i == 3:
			size = 0
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.IntN(20))
		}
		name := fmt.Sprintf("%s%05d", []string{"app_app-20261128043000-", "driver_driver-20261128043000-", "worker_worker-20261128043000-"}[i%3], i)
		rec := store.NewRecord(name, data)
		if i%10 == 0 {
			rec.ACL = acl
		}
		want[name] = rec
		batch = append(batch, rec)
	}
	storetest.Create(t, src, batch...)

	path := filepath.Join(t.TempDir(), "zk.rctl.zst")
	info := backup.Info{StoreKind: "zk", Address: src.String(), Dir: "/src/spark", Version: "test"}
	sum, err := backup.WriteFile(ctx, src, path, info, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != len(want) {
		t.Fatalf("archived %d records, want %d", sum.Records, len(want))
	}
	a, err := backup.OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var names []string
	for r, err := range a.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, r.Name)
		w := want[r.Name]
		if !bytes.Equal(r.Data, w.Data) {
			t.Fatalf("archive: %s differs", r.Name)
		}
		if wantACL := w.ACL; wantACL == nil && !slices.Equal(r.ACL, zk.DefaultACL) || wantACL != nil && !slices.Equal(r.ACL, wantACL) {
			t.Fatalf("archive: %s ACL %v, want %v", r.Name, r.ACL, w.ACL)
		}
	}
	if !slices.IsSorted(names) || len(names) != len(want) {
		t.Fatalf("archive holds %d records (sorted %v)", len(names), slices.IsSorted(names))
	}

	dst := openZK(t, srv.Addr()+"/dst")
	p, s, err := migrate.PlanRestore(ctx, a, dst, migrate.RestoreOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.Apply(ctx, p, dst, s, plan.Options{ArchivePath: filepath.Join(t.TempDir(), "pre.rctl.zst")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != len(want) || res.Verified != len(want) || res.Batches < 2 {
		t.Fatalf("apply: %+v", res)
	}
	for name, w := range want {
		got, err := dst.Read(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Data, w.Data) {
			t.Fatalf("restored %s differs", name)
		}
		if w.ACL != nil && !slices.Equal(got.ACL, w.ACL) {
			t.Fatalf("restored %s ACL %v, want %v", name, got.ACL, w.ACL)
		}
	}
	// Restoring again changes nothing.
	p, _, err = migrate.PlanRestore(ctx, a, dst, migrate.RestoreOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count(plan.Identical) != len(want) {
		t.Fatalf("second plan: %d identical of %d", p.Count(plan.Identical), len(want))
	}
}
