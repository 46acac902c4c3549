package main

import (
	"bytes"
	"context"
	"encoding/json"
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

func TestPruneCommand(t *testing.T) {
	srv := zktest.Start(t)
	ctx := context.Background()
	zs, err := zk.Open(ctx, zk.Options{Servers: srv.Addr() + "/prune"})
	if err != nil {
		t.Fatal(err)
	}
	defer zs.Close()
	recs := map[string][]byte{
		"worker_worker-20260101000000-h1-7078": envelopeSample(t, "small.bin"),
		"worker_worker-20260102000000-h1-7078": envelopeSample(t, "small.bin"),
		"app_app-20200101000000-0000":          {0xAC, 0xED, 0, 5, 'z'},
		"driver_driver-20260101000000-0000":    envelopeSample(t, "driver.bin"),
		"leftover":                             []byte("x"),
	}
	for name, data := range recs {
		storetest.Create(t, zs, store.NewRecord(name, data))
	}
	no := false
	sf := storeFlags{zkServers: srv.Addr() + "/prune", timeout: 10 * time.Second}
	run := func(o pruneOptions, format outputFormat) (string, error) {
		o.w.stdinTerminal = &no
		if o.w.backupDir == "" {
			o.w.backupDir = t.TempDir()
		}
		rules, err := o.rules()
		if err != nil {
			return "", err
		}
		var out, errb bytes.Buffer
		err = runPrune(ctx, &sf, &o, rules, format, strings.NewReader(""), &out, &errb)
		return out.String() + errb.String(), err
	}
	if _, err := run(pruneOptions{}, outputTable); exitCode(err) != exitUsage {
		t.Fatalf("no rule: %v", err)
	}
	if _, err := run(pruneOptions{olderThan: "soon"}, outputTable); exitCode(err) != exitUsage {
		t.Fatalf("bad age: %v", err)
	}
	out, err := run(pruneOptions{duplicateWorkers: true, w: writeFlags{dryRun: true}}, outputTable)
	if err != nil || !strings.Contains(out, "delete worker_worker-20260101000000-h1-7078") || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if _, err := run(pruneOptions{duplicateWorkers: true}, outputTable); exitCode(err) != exitUsage {
		t.Fatalf("without --yes: %v", err)
	}
	// A live Master refuses.
	latch := joinElection(t, srv.Addr(), "/prune/spark")
	if _, err := run(pruneOptions{duplicateWorkers: true, w: writeFlags{yes: true}}, outputTable); exitCode(err) != exitRefused {
		t.Fatalf("live master: %v", err)
	}
	latch.Close()

	out, err = run(pruneOptions{undecodable: true, olderThan: "30d", foreign: true, w: writeFlags{yes: true}}, outputJSON)
	if err != nil {
		t.Fatalf("prune: %v\n%s", err, out)
	}
	var res pruneResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if res.Result == nil || res.Result.Deleted != 2 {
		t.Fatalf("result: %s", out)
	}
	a, err := backup.OpenFile(ctx, res.Result.Backup)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if m := a.Manifest(); m.Records != 1 || m.Foreign != 1 { // the foreign entry in the archive's foreign part
		t.Fatalf("archive holds %d records and %d foreign entries", m.Records, m.Foreign)
	}
	entries, err := zs.List(ctx)
	if err != nil || len(entries) != 3 {
		t.Fatalf("left: %v %v", entries, err)
	}
	// Directory: the lock file of recoverctl is never pruned as foreign.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sf = storeFlags{fsDir: dir}
	if out, err := run(pruneOptions{foreign: true, w: writeFlags{yes: true}}, outputTable); err != nil || !strings.Contains(out, "deleted 1 entries") {
		t.Fatalf("fs prune: %v\n%s", err, out)
	}
	if out, err := run(pruneOptions{foreign: true, w: writeFlags{yes: true}}, outputTable); err != nil || !strings.Contains(out, "delete 0") {
		t.Fatalf("fs prune rerun: %v\n%s", err, out)
	}
}
