package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/zktest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update. The
// golden files are read by a person against master.json when they change;
// the field values themselves are checked against the Master's JSON by
// TestLsMatchesMasterJSON*.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
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
		t.Fatalf("%v (run go test ./cmd/recoverctl -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// goldenCapture is the capture whose output is kept as golden files.
const goldenCapture = "../../testdata/spark/3.5.8-2.12/filesystem/records"

func TestLsGolden(t *testing.T) {
	if !fileExists(goldenCapture) {
		t.Fatalf("golden capture %s is missing", goldenCapture)
	}
	// A fixed clock makes the ages in the table reproducible.
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		golden string
		output string
		args   []string
	}{
		{"ls.table.golden", "table", nil},
		{"ls.json.golden", "json", nil},
		{"ls-apps.yaml.golden", "yaml", []string{"apps"}},
		{"ls-workers.table.golden", "table", []string{"workers"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			o := &lsOptions{now: func() time.Time { return now }, output: tc.output}
			o.store.fsDir = goldenCapture
			o.store.timeout = 10 * time.Second
			var stdout, stderr bytes.Buffer
			if err := runLs(context.Background(), o, tc.args, &stdout, &stderr); err != nil {
				t.Fatalf("ls: %v (stderr %s)", err, stderr.String())
			}
			// The store address names the checkout's path; keep it stable.
			abs, err := filepath.Abs(o.store.fsDir)
			if err != nil {
				t.Fatal(err)
			}
			out := strings.ReplaceAll(stdout.String(), abs, "RECORDS")
			golden(t, tc.golden, []byte(out))
		})
	}
}

func TestLsSelection(t *testing.T) {
	c := captures(t)[0]
	doc, _, code := lsJSON(t, "--fs", c.records, "workers")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if n := len(doc["workers"].([]any)); n == 0 || len(doc["activeapps"].([]any)) != 0 || len(doc["activedrivers"].([]any)) != 0 {
		t.Errorf("ls workers: %d workers, %d apps, %d drivers; want only workers", n, len(doc["activeapps"].([]any)), len(doc["activedrivers"].([]any)))
	}
	app := doc["workers"].([]any)[0].(map[string]any)["id"].(string)
	doc, _, _ = lsJSON(t, "--fs", c.records, app[:len(app)-2])
	if got := len(doc["workers"].([]any)) + len(doc["activeapps"].([]any)) + len(doc["activedrivers"].([]any)); got < 1 {
		t.Errorf("ls %s: nothing matched the prefix", app[:len(app)-2])
	}
}

func TestUndecodableRecordExitCode(t *testing.T) {
	dir := t.TempDir()
	src := captures(t)[0].records
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A truncated app record and a foreign file beside the real ones.
	if err := os.WriteFile(filepath.Join(dir, "app_app-19700101000000-9999"), []byte{0xac, 0xed, 0x00, 0x05, 0x73, 0x72}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a record"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, _, code := lsJSON(t, "--fs", dir)
	if code != exitUndecodable {
		t.Errorf("exit %d, want %d", code, exitUndecodable)
	}
	und := doc["undecodable"].([]any)
	if len(und) != 1 {
		t.Fatalf("undecodable = %v, want the one truncated record", und)
	}
	p := und[0].(map[string]any)
	if p["record"] != "app_app-19700101000000-9999" || p["kind"] != "app" || p["id"] != "app-19700101000000-9999" || !strings.Contains(p["error"].(string), "offset") {
		t.Errorf("undecodable entry = %v: want its name, kind, id and an error with the offset", p)
	}
	if f := doc["foreign"].([]any); len(f) != 1 || f[0].(map[string]any)["name"] != "README.txt" {
		t.Errorf("foreign = %v, want README.txt", f)
	}
	if len(doc["workers"].([]any)) == 0 {
		t.Error("the decodable records must still be listed")
	}
}

func TestZooKeeperDownIsExitCode4WithinTimeout(t *testing.T) {
	srv := zktest.Start(t)
	addr := srv.Addr()
	srv.Stop()
	start := time.Now()
	_, stderr, code := runRoot(t, "ls", "--zk", addr, "--timeout", "2s")
	if code != exitUnavailable {
		t.Errorf("exit %d, want %d; stderr %s", code, exitUnavailable, stderr)
	}
	if !strings.Contains(stderr, addr) {
		t.Errorf("the error should name the server: %s", stderr)
	}
	// Not a timing assertion of speed, but of boundedness: a dead
	// ZooKeeper must not hang the command.
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("ls against a dead ZooKeeper took %s with --timeout 2s", d)
	}
}

func runRoot(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCommand()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if err != nil {
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), exitCode(err)
}
