package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runRootWithin is runRoot that fails the test when the command blocks.
func runRootWithin(t *testing.T, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	type result struct {
		out, err string
		code     int
	}
	done := make(chan result, 1)
	go func() {
		out, stderr, code := runRoot(t, args...)
		done <- result{out, stderr, code}
	}()
	select {
	case r := <-done:
		return r.out, r.err, r.code
	case <-time.After(d):
		t.Fatalf("recoverctl %s: still running after %s", strings.Join(args, " "), d)
		return "", "", 0
	}
}

// verify and restore of a FIFO or a device end at once with an error
// naming the file, instead of blocking in open (a FIFO without a writer)
// or reading forever (/dev/zero).
func TestVerifyAndRestoreRefuseFilesThatAreNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "backup.rctl.zst")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	for _, path := range []string{fifo, "/dev/zero", dir} {
		for _, args := range [][]string{{"verify", path}, {"restore", path, "--fs", target, "--dry-run"}} {
			start := time.Now()
			_, stderr, code := runRootWithin(t, 10*time.Second, args...)
			if code != exitFailure || !strings.Contains(stderr, path) || !strings.Contains(stderr, "not a regular file") {
				t.Errorf("%v: exit %d, stderr %q; want %d naming the file as not a regular file", args, code, stderr, exitFailure)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%v took %s", args, d)
			}
		}
	}
}
