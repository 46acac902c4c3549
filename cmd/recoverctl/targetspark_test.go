package main

import (
	"os"
	"path/filepath"
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
