package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// backup --keep 1 with a future-dated file in the directory: this run's
// archive stays, a real archive of the store goes (and is named in the
// summary and in -o json), a junk file under an archive name stays.
func TestBackupKeepFutureDatedName(t *testing.T) {
	src, _ := syntheticDir(t, 5)
	future := "recoverctl-fs-29991231T235959Z.rctl.zst"
	for _, real := range []bool{true, false} {
		out := t.TempDir()
		p := filepath.Join(out, future)
		if real {
			stdout, stderr, code := runCLI(t, "backup", "--fs", src, "--to", p)
			if code != exitOK {
				t.Fatalf("exit %d: %s%s", code, stdout, stderr)
			}
		} else if err := os.WriteFile(p, []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runCLI(t, "backup", "-o", "json", "--fs", src, "--to", out, "--keep", "1")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var res struct {
			Archive  string   `json:"archive"`
			Rotated  []string `json:"rotated"`
			Rotation struct {
				Removed []struct{ Path string } `json:"removed"`
				Skipped []struct{ Path, Reason string }
			} `json:"rotation"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err, stdout)
		}
		if _, err := os.Stat(res.Archive); err != nil {
			t.Fatalf("--keep 1 removed this run's archive %s: %v", res.Archive, err)
		}
		files, _ := filepath.Glob(filepath.Join(out, "*"))
		if real {
			if !slices.Equal(files, []string{res.Archive}) || !slices.Equal(res.Rotated, []string{p}) ||
				len(res.Rotation.Removed) != 1 || res.Rotation.Removed[0].Path != p {
				t.Errorf("real future-dated archive: left %v, json %s", files, stdout)
			}
		} else {
			if len(files) != 2 || len(res.Rotated) != 0 || len(res.Rotation.Skipped) != 1 || res.Rotation.Skipped[0].Path != p {
				t.Errorf("junk future-dated file: left %v, json %s", files, stdout)
			}
		}
		// The table says the same.
		if err := os.Remove(res.Archive); err != nil {
			t.Fatal(err)
		}
		if real {
			continue
		}
		stdout, _, code = runCLI(t, "backup", "--fs", src, "--to", out, "--keep", "1")
		if code != exitOK || !strings.Contains(stdout, "left alone by --keep (not an intact archive of this store): "+p) {
			t.Errorf("exit %d, table:\n%s", code, stdout)
		}
	}
	// The removal is said in the table too.
	out := t.TempDir()
	if _, _, code := runCLI(t, "backup", "--fs", src, "--to", filepath.Join(out, future)); code != exitOK {
		t.Fatal(code)
	}
	stdout, _, code := runCLI(t, "backup", "--fs", src, "--to", out, "--keep", "1")
	if code != exitOK || !strings.Contains(stdout, "removed old archive "+filepath.Join(out, future)+" (created ") {
		t.Errorf("exit %d, table:\n%s", code, stdout)
	}
}
