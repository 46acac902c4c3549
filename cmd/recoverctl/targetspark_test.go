package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// --target-spark on migrate and restore: a 3.5 capture moved toward a 4.x
// Master is refused with exit 7 and nothing written; toward 3.5 it is
// written; --force writes it anyway; a dry run warns and exits 0; a
// release without a table is bad usage.
func TestTargetSparkPreCheck(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	src := "../../testdata/spark/3.5.8-2.12/filesystem/records"
	n := len(dirNames(t, src))
	if n == 0 {
		t.Fatal("no 3.5.8-2.12 capture")
	}
	abs, _ := filepath.Abs(src)
	from := "fs://" + abs
	newDir := func() string {
		d := filepath.Join(t.TempDir(), "recovery")
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		return d
	}

	dst := newDir()
	_, stderr, code := runCLI(t, "migrate", "--from", from, "--to", "fs://"+dst, "--target-spark", "4.0.5", "--yes")
	if code != exitFindings || len(dirNames(t, dst)) != 0 {
		t.Fatalf("migrate toward 4.0.5: exit %d, %d records written\n%s", code, len(dirNames(t, dst)), stderr)
	}
	for _, w := range []string{"Master will not become ALIVE", "InvalidClassException", "refused", "--force"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("migrate toward 4.0.5: stderr lacks %q:\n%s", w, stderr)
		}
	}
	// 3 groups (app, driver, worker), not one line per record.
	if c := strings.Count(stderr, "record(s):"); c != 3 {
		t.Errorf("%d groups on stderr, want 3:\n%s", c, stderr)
	}
	if _, stderr, code := runCLI(t, "migrate", "--from", from, "--to", "fs://"+dst, "--target-spark", "4.3.0", "--dry-run"); code != exitOK || !strings.Contains(stderr, "quarantined as corrupted_") {
		t.Errorf("dry run toward 4.3.0: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "migrate", "--from", from, "--to", "fs://"+dst, "--target-spark", "3.5.8-2.12", "--yes"); code != exitOK || len(dirNames(t, dst)) != n {
		t.Fatalf("migrate toward 3.5.8: exit %d\n%s", code, stderr)
	}

	archive := filepath.Join(t.TempDir(), "a.rctl")
	if _, stderr, code := runCLI(t, "backup", "--fs", src, "--to", archive); code != exitOK {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	dst2 := newDir()
	if _, stderr, code := runCLI(t, "restore", archive, "--fs", dst2, "--target-spark", "4.3.0", "--yes"); code != exitFindings || len(dirNames(t, dst2)) != 0 {
		t.Fatalf("restore toward 4.3.0: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "restore", archive, "--fs", dst2, "--target-spark", "4.3.0", "--yes", "--force"); code != exitOK || len(dirNames(t, dst2)) != n {
		t.Fatalf("restore --force toward 4.3.0: exit %d\n%s", code, stderr)
	}
	if _, _, code := runCLI(t, "restore", archive, "--fs", newDir(), "--target-spark", "9.9.9", "--yes"); code != exitUsage {
		t.Errorf("--target-spark 9.9.9: exit %d, want %d", code, exitUsage)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// status counts a 4.3 Master's corrupted_<record> files apart from
// foreign entries; a corrupted_ file naming no record stays foreign.
func TestStatusQuarantined(t *testing.T) {
	dir := t.TempDir()
	src := "../../testdata/spark/4.3.0-2.13/filesystem/records"
	for _, n := range dirNames(t, src) {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"corrupted_app_app-20261128050320-0000", "corrupted_notes"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, code := runCLI(t, "status", "--fs", dir, "-o", "json")
	if code != exitOK {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	var rep struct{ Foreign, Quarantined []string }
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Quarantined, []string{"corrupted_app_app-20261128050320-0000"}) || !slices.Equal(rep.Foreign, []string{"corrupted_notes"}) {
		t.Errorf("quarantined %v, foreign %v", rep.Quarantined, rep.Foreign)
	}
	out, _, _ = runCLI(t, "status", "--fs", dir)
	if !strings.Contains(out, "quarantined:  1") {
		t.Errorf("status table:\n%s", out)
	}
}
