package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/storetest"
	"github.com/recoverctl/recoverctl/store/zk"
)

func envelopeSample(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "codec", "envelope", "testdata", "samples", "4.0.5", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMigrateCommand(t *testing.T) {
	srv := zktest.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	files := map[string]string{
		"worker_worker-20260101000000-h1-7078": "lz4-small.bin",
		"driver_driver-20260101000000-0000":    "driver.bin",
		"app_app-20260101000000-0000":          "zstd-large.bin",
	}
	for name, f := range files {
		if err := os.WriteFile(filepath.Join(dir, name), envelopeSample(t, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	no := false
	base := migrateOptions{from: "fs://" + dir, to: "zk://" + srv.Addr() + "/cmd?dir=/spark-ha", serializer: "java",
		timeout: 10 * time.Second, w: writeFlags{backupDir: t.TempDir(), stdinTerminal: &no}}

	run := func(o migrateOptions, format outputFormat) (string, error) {
		var out, errb bytes.Buffer
		err := runMigrate(ctx, &o, format, strings.NewReader(""), &out, &errb)
		return out.String() + errb.String(), err
	}

	// Dry run: the plan, nothing written.
	o := base
	o.w.dryRun = true
	out, err := run(o, outputTable)
	if err != nil || !strings.Contains(out, "lz4 -> plain") || !strings.Contains(out, "3 create") || !strings.Contains(out, "notes.txt") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	zs, err := zk.Open(ctx, zk.Options{Servers: srv.Addr() + "/cmd", SparkDir: "/spark-ha"})
	if err != nil {
		t.Fatal(err)
	}
	defer zs.Close()
	if entries, _ := zs.List(ctx); len(entries) != 0 {
		t.Fatalf("dry run wrote %d records", len(entries))
	}

	// Not on a terminal without --yes: usage error, exit 2.
	if _, err := run(base, outputTable); exitCode(err) != exitUsage {
		t.Fatalf("without --yes: %v", err)
	}

	o = base
	o.w.yes = true
	out, err = run(o, outputJSON)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	var res migrateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if res.Create != 3 || res.Result == nil || res.Result.Written != 3 || res.Result.Verified != 3 || len(res.Foreign) != 1 {
		t.Fatalf("result %+v", res)
	}
	if _, err := backup.OpenFile(ctx, res.Result.Backup); err != nil {
		t.Fatalf("target archive: %v", err)
	}
	for name := range files {
		rec, err := zs.Read(ctx, name)
		if err != nil || !bytes.HasPrefix(rec.Data, []byte{0xAC, 0xED, 0, 5}) {
			t.Fatalf("%s in ZooKeeper: %v % x", name, err, rec.Data[:4])
		}
	}
	// Rerun: nothing to write.
	out, err = run(o, outputTable)
	if err != nil || !strings.Contains(out, "nothing to write") {
		t.Fatalf("rerun: %v\n%s", err, out)
	}

	// Back into a compressing directory, then a conflict refuses (exit 6).
	back := t.TempDir()
	o = base
	o.w.yes, o.from, o.to = true, base.to, "fs://"+back+"?codec=snappy"
	if out, err := run(o, outputTable); err != nil {
		t.Fatalf("zk -> fs: %v\n%s", err, out)
	}
	storetest.Replace(t, zs, store.NewRecord("app_app-20260101000000-0000", envelopeSample(t, "small.bin")))
	out, err = run(o, outputTable)
	if exitCode(err) != exitRefused || !strings.Contains(out, "differs (refused)") {
		t.Fatalf("conflict: %v (exit %d)\n%s", err, exitCode(err), out)
	}
	o.w.overwrite = true
	if out, err := run(o, outputTable); err != nil || !strings.Contains(out, "migrated 1 records") {
		t.Fatalf("overwrite: %v\n%s", err, out)
	}

	// A live Master (a leader-election participant) refuses; --force goes on.
	storetest.Create(t, zs, store.NewRecord("app_app-20260101000000-0009", envelopeSample(t, "small.bin")))
	latch := joinElection(t, srv.Addr(), "/cmd/spark-ha")
	o = base
	o.w.yes, o.from, o.to = true, base.to, "fs://"+back+"?codec=snappy"
	if _, err := run(o, outputTable); exitCode(err) != exitRefused {
		t.Fatalf("live master: %v", err)
	}
	o.w.force = true
	if out, err := run(o, outputTable); err != nil {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	latch.Close()

	// Bad addresses are usage errors; an unreachable ZooKeeper is exit 4.
	o = base
	o.to = "zk://" + srv.Addr() + "?codec=lz4"
	if _, err := run(o, outputTable); exitCode(err) != exitUsage {
		t.Fatalf("bad address: %v", err)
	}
	o = base
	o.to, o.timeout = "zk://127.0.0.1:1", time.Second
	if _, err := run(o, outputTable); exitCode(err) != exitUnavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("unreachable: %v", err)
	}
}
