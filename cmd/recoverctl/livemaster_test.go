package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// prune --yes under a running Master configured only through
// spark-defaults.conf, found by a relative SPARK_CONF_DIR and naming a
// relative directory (both resolved against the Master's cwd): refused,
// nothing deleted, the reason names the process; --force goes on.
func TestPruneRefusesMasterConfiguredByDefaults(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "recovery")
	if err := os.MkdirAll(filepath.Join(base, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "conf", "spark-defaults.conf"),
		[]byte("spark.deploy.recoveryMode FILESYSTEM\nspark.deploy.recoveryDirectory recovery\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Any long-running process whose argv names the Master class is a
	// Master to the check; "; :" keeps sh from exec'ing sleep in its place.
	master := exec.Command("sh", "-c", "sleep 120; :", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1")
	master.Dir = base
	master.Env = []string{"PATH=/usr/bin:/bin", "SPARK_CONF_DIR=conf"}
	master.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := master.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-master.Process.Pid, syscall.SIGKILL)
		_ = master.Wait()
	})
	backups := t.TempDir()
	_, stderr, code := runCLI(t, "prune", "--fs", dir, "--foreign", "--yes", "--backup-dir", backups)
	if code != exitRefused || !strings.Contains(stderr, fmt.Sprintf("Master process %d", master.Process.Pid)) ||
		!strings.Contains(stderr, filepath.Join(base, "conf", "spark-defaults.conf")) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "junk")); err != nil {
		t.Fatalf("refused prune deleted: %v", err)
	}
	if _, stderr, code = runCLI(t, "prune", "--fs", dir, "--foreign", "--yes", "--force", "--backup-dir", backups); code != exitOK {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "junk")); err == nil {
		t.Fatal("--force prune left the entry")
	}
}
