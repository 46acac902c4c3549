package main

import (
	"os"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/internal/zktest"
)

// TestBadUsageIsExit2: missing arguments, invalid timeouts and malformed
// ZooKeeper paths are bad usage (exit 2), said before anything is read.
func TestBadUsageIsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"verify"},
		{"show"},
		{"restore"},
		{"ls", "--fs", dir, "--timeout", "0"},
		{"ls", "--fs", dir, "--timeout", "-1s"},
		{"ls", "--zk", "127.0.0.1:1/a/../b"},
		{"ls", "--zk", "127.0.0.1:1", "--zk-dir", "spark"},
		{"prune", "--fs", dir, "--undecodable", "--timeout", "0s"},
		{"ls", "--fs", dir, "--codec", "gzip"},
		{"migrate", "--from", "fs://" + dir, "--to", "fs://" + dir + "/x", "--timeout", "0"},
		{"migrate", "--from", "fs://" + dir + "?codec=gzip", "--to", "fs://" + dir + "/x", "--dry-run"},
		{"migrate", "--from", "zk://user@127.0.0.1:1", "--to", "fs://" + dir, "--dry-run"},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("recoverctl %s: exit %d, want %d: %s", strings.Join(args, " "), code, exitUsage, stderr)
		}
	}
}

// TestMigrateIntoNewDirectory: a target directory that does not exist is
// created (as Spark's engine creates its own) and said so; a dry run
// creates nothing.
func TestMigrateIntoNewDirectory(t *testing.T) {
	src := "../../testdata/spark/3.5.8-2.12/filesystem/records"
	dst := t.TempDir() + "/a/b/recovery"
	if _, stderr, code := runCLI(t, "migrate", "--from", "fs://"+absTest(t, src), "--to", "fs://"+dst, "--dry-run"); code != exitOK || !strings.Contains(stderr, "would be created") {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("a dry run created the target directory")
	}
	_, stderr, code := runCLI(t, "migrate", "--from", "fs://"+absTest(t, src), "--to", "fs://"+dst, "--yes")
	if code != exitOK || !strings.Contains(stderr, "created") {
		t.Fatalf("migrate into a new directory: exit %d: %s", code, stderr)
	}
	sameRecords(t, "migrated", readDirRecords(t, dst), readDirRecords(t, src))
}

// TestRestoreRefusesWhatExpandsTooFar: a small archive whose records
// expand to more than --max-bytes (a zstd bomb) is refused before anything
// is written; within the limit it restores.
func TestRestoreRefusesWhatExpandsTooFar(t *testing.T) {
	src := t.TempDir()
	big := make([]byte, 8<<20)
	copy(big, []byte{0xAC, 0xED, 0, 5})
	if err := os.WriteFile(src+"/app_app-20261128043000-0000", big, 0o644); err != nil {
		t.Fatal(err)
	}
	b := backupTo(t, "--fs", src, "--to", t.TempDir()+"/")
	if fi, err := os.Stat(b.Archive); err != nil || fi.Size() > 64<<10 {
		t.Fatalf("the archive of 8 MiB of zeros is not small: %v %d", err, fi.Size())
	}
	dst := t.TempDir()
	_, stderr, code := runCLI(t, "restore", b.Archive, "--fs", dst, "--yes", "--max-bytes", "1000000")
	if code == exitOK || !strings.Contains(stderr, "--max-bytes") {
		t.Fatalf("restore over --max-bytes: exit %d: %s", code, stderr)
	}
	if got := readDirRecords(t, dst); len(got) != 0 {
		t.Fatalf("a refused restore wrote %d records", len(got))
	}
	if _, stderr, code := runCLI(t, "restore", b.Archive, "--fs", dst, "--yes"); code != exitOK {
		t.Fatalf("restore within the default limit: exit %d: %s", code, stderr)
	}
}

// TestTooLargeForZooKeeperIsPlanned: a record over ZooKeeper's request
// limit is "too large" in the plan, before anything is written, not a
// failure half-way with advice that a rerun resumes.
func TestTooLargeForZooKeeperIsPlanned(t *testing.T) {
	srv := zktest.Start(t)
	src := t.TempDir()
	big := make([]byte, 1100<<10)
	copy(big, []byte{0xAC, 0xED, 0, 5})
	for i := range big[4:] {
		big[4+i] = byte(i * 7)
	}
	if err := os.WriteFile(src+"/app_app-20261128043000-0001", big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src+"/app_app-20261128043000-0002", []byte{0xAC, 0xED, 0, 5, 1}, 0o644); err != nil {
		t.Fatal(err)
	}
	to := "zk://" + srv.Addr() + "?dir=/big"
	out, stderr, code := runCLI(t, "migrate", "--from", "fs://"+src, "--to", to, "--dry-run")
	if code != exitOK || !strings.Contains(out, "too large") || !strings.Contains(out, "app_app-20261128043000-0001") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	_, stderr, code = runCLI(t, "migrate", "--from", "fs://"+src, "--to", to, "--yes")
	if code == exitOK || !strings.Contains(stderr, "--skip-unconvertible") {
		t.Fatalf("migrate with a record too large: exit %d: %s", code, stderr)
	}
	if got := readZKDir(t, srv.Addr(), "/big"); len(got) != 0 {
		t.Fatalf("a refused plan wrote %d records", len(got))
	}
	if _, stderr, code = runCLI(t, "migrate", "--from", "fs://"+src, "--to", to, "--yes", "--skip-unconvertible"); code != exitOK {
		t.Fatalf("--skip-unconvertible: exit %d: %s", code, stderr)
	}
	if got := readZKDir(t, srv.Addr(), "/big"); len(got) != 1 {
		t.Fatalf("with --skip-unconvertible %d records written, want the small one", len(got))
	}
}

// TestDefaultBackupDirectory: without --backup-dir a writer archives into
// $XDG_STATE_HOME/recoverctl/backups, created 0700, never the current
// directory.
func TestDefaultBackupDirectory(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	cwd, _ := os.Getwd()
	before, _ := os.ReadDir(cwd)
	src := "../../testdata/spark/3.5.8-2.12/filesystem/records"
	_, stderr, code := runCLI(t, "migrate", "--from", "fs://"+absTest(t, src), "--to", "fs://"+t.TempDir(), "--yes")
	if code != exitOK {
		t.Fatalf("migrate: exit %d: %s", code, stderr)
	}
	dir := state + "/recoverctl/backups"
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s: %v, mode %v; want a 0700 directory", dir, err, fi.Mode().Perm())
	}
	if archives, _ := os.ReadDir(dir); len(archives) != 1 {
		t.Fatalf("%d archives in %s, want 1", len(archives), dir)
	}
	if after, _ := os.ReadDir(cwd); len(after) != len(before) {
		t.Fatalf("the current directory gained %d entries", len(after)-len(before))
	}
}
