package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/recoverctl/recoverctl/backup"
)

// TestEveryEntryAccountedFor: a record the user cannot read (mode 000,
// another user's), a FIFO, a subdirectory and a dangling symlink named
// like records appear in every command's result with the reason, and a
// command that cannot carry one exits non-zero naming it: nothing is lost
// without a word. The commands run as a real process of an unprivileged
// user, where the machine lets the test be root.
func TestEveryEntryAccountedFor(t *testing.T) {
	bin := buildBinary(t)
	base, err := os.MkdirTemp("", "recoverctl-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o777); err != nil {
		t.Fatal(err)
	}
	chmodBin := filepath.Join(base, "recoverctl")
	if out, err := exec.Command("cp", bin, chmodBin).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	// Records a real Spark Master wrote: all decode, so what is reported
	// is only what cannot be read.
	src := "../../testdata/spark/3.5.8-2.12/filesystem/records"
	recs := readDirRecords(t, src)
	dir := filepath.Join(base, "recovery")
	if out, err := exec.Command("cp", "-r", src, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for n := range recs {
		if err := os.Chmod(filepath.Join(dir, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := []string{"app_app-20261128043000-fifo", "app_app-20261128043000-subdir", "driver_driver-20261128043000-dangling"}
	if err := syscall.Mkfifo(filepath.Join(dir, bad[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, bad[1]), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, bad[2])); err != nil {
		t.Fatal(err)
	}
	asUser := os.Geteuid() == 0
	if asUser {
		secret := "app_app-20261128043000-secret"
		if err := os.WriteFile(filepath.Join(dir, secret), []byte{0xAC, 0xED, 0, 5, 'x'}, 0o000); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, secret)
	}
	out := filepath.Join(base, "out")
	if err := os.Mkdir(out, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(chmodBin, args...)
		cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+out, "HOME="+out)
		if asUser {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v", err)
		}
		return b.String(), code
	}
	names := func(what, s string) {
		t.Helper()
		for _, n := range bad {
			if !strings.Contains(s, n) {
				t.Errorf("%s does not name %s:\n%s", what, n, s)
			}
		}
	}

	for _, args := range [][]string{{"ls", "--fs", dir}, {"ls", "--fs", dir, "-o", "json"}, {"status", "--fs", dir}} {
		s, code := run(args...)
		if code != exitUndecodable {
			t.Errorf("%s: exit %d, want %d (listed, not all readable):\n%s", strings.Join(args, " "), code, exitUndecodable, s)
		}
		names(strings.Join(args, " "), s)
	}

	s, code := run("backup", "--fs", dir, "--to", out+"/")
	if code == exitOK {
		t.Fatalf("backup of a store with unreadable records: exit 0:\n%s", s)
	}
	if !strings.Contains(s, "--skip-unreadable") {
		t.Errorf("backup's refusal does not say how to go on:\n%s", s)
	}
	s, code = run("backup", "--fs", dir, "--to", out+"/", "--skip-unreadable", "-o", "json")
	if code != exitOK {
		t.Fatalf("backup --skip-unreadable: exit %d:\n%s", code, s)
	}
	names("backup --skip-unreadable", s)
	var b backupJSON
	if err := json.Unmarshal([]byte(s), &b); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	if b.Records != len(recs) {
		t.Errorf("backup --skip-unreadable archived %d records, want %d", b.Records, len(recs))
	}
	a, err := backup.OpenFile(t.Context(), b.Archive)
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, sk := range a.Manifest().Skipped {
		skipped = append(skipped, sk.Name)
	}
	a.Close()
	names("the archive's manifest", strings.Join(skipped, " "))

	dst := filepath.Join(base, "target")
	if err := os.Mkdir(dst, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, 0o777); err != nil {
		t.Fatal(err)
	}
	// --force: Masters of other tests may run on this machine, and an
	// unprivileged user cannot tell where they keep their state (the guard
	// fails closed); the guard is not what this test is about.
	s, code = run("migrate", "--from", "fs://"+dir, "--to", "fs://"+dst, "--yes", "--force")
	if code == exitOK {
		t.Fatalf("migrate of a store with unreadable records: exit 0:\n%s", s)
	}
	names("migrate's refusal", s)
	s, code = run("migrate", "--from", "fs://"+dir, "--to", "fs://"+dst, "--yes", "--skip-unconvertible", "--force")
	if code != exitOK || !strings.Contains(s, "left behind") {
		t.Fatalf("migrate --skip-unconvertible: exit %d:\n%s", code, s)
	}
	names("migrate --skip-unconvertible", s)
	got := readDirRecords(t, dst)
	sameRecords(t, "migrated", got, recs)
}
