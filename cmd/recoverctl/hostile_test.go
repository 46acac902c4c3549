package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hasControl reports C0/C1 controls and DEL other than the newlines that end
// lines: what a crafted name must not bring to the terminal.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f)
	})
}

// Crafted archives whose hashes are right but whose names Spark never
// writes (backup/testdata/hostile, see backup's TestVerifyRefusesNamesSparkDoesNotWrite):
// verify refuses each one naming the entry and the offset, restore writes
// nothing, and nothing raw reaches the terminal.
func TestVerifyAndRestoreRefuseHostileNames(t *testing.T) {
	files, _ := filepath.Glob("../../backup/testdata/hostile/*.rctl.zst")
	if len(files) < 10 {
		t.Fatalf("hostile archives: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "verify", f)
			if code != exitDamaged || !strings.Contains(stderr, "archive refused at byte ") || !strings.Contains(stderr, " in entry ") {
				t.Errorf("verify: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if hasControl(stdout + stderr) {
				t.Errorf("verify printed a control character: %q %q", stdout, stderr)
			}
			stdout, _, code = runCLI(t, "verify", "-o", "json", f)
			var res []verifyResult
			if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != exitDamaged || len(res) != 1 ||
				res[0].OK || res[0].Record == "" || res[0].Offset == nil || *res[0].Offset <= 0 {
				t.Errorf("verify -o json: exit %d, %s (%v)", code, stdout, err)
			}
			dir := t.TempDir()
			for _, args := range [][]string{{"--dry-run"}, {}} {
				stdout, stderr, code := runCLI(t, append([]string{"restore", f, "--fs", dir}, args...)...)
				if code != exitDamaged || hasControl(stdout+stderr) {
					t.Errorf("restore %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
				}
				if des, _ := os.ReadDir(dir); len(des) != 0 {
					t.Fatalf("restore %v wrote %v", args, des)
				}
			}
		})
	}
}
