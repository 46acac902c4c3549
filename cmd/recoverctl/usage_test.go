package main

import (
	"strings"
	"testing"
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
