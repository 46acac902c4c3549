package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/recoverctl/recoverctl/internal/sparktest"
	"github.com/recoverctl/recoverctl/internal/zktest"
)

// testRestore (issue 5): a backup of the killed Master's directory, restored
// into a fresh directory and into ZooKeeper, is recovered by a new Master of
// each mode: the same Workers (which re-register ALIVE), apps and driver.
func testRestore(t *testing.T, c *cluster) {
	tmp := t.TempDir()
	archive := filepath.Join(tmp, "backup.rctl.zst")
	mustRC(t, c.bin, "backup", "--fs", c.dir, "--to", archive)
	mustRC(t, c.bin, "verify", archive)

	// (a) a fresh directory: the restored files are the Master's own bytes.
	dir := filepath.Join(tmp, "restored")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRC(t, c.bin, "restore", archive, "--fs", dir, "--yes")
	if got := dirRecords(t, dir); !slices.Equal(got, c.want.records()) {
		t.Fatalf("restored directory holds %v, want %v", got, c.want.records())
	}
	for _, name := range c.want.records() {
		a, errA := os.ReadFile(filepath.Join(c.dir, name))
		b, errB := os.ReadFile(filepath.Join(dir, name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Fatalf("restored %s differs from the Master's file (%v, %v)", name, errA, errB)
		}
	}

	// (b) ZooKeeper.
	zk := zktest.Start(t)
	mustRC(t, c.bin, "restore", archive, "--zk", zk.Addr(), "--zk-dir", "/e2e/spark", "--yes")

	t.Run("filesystem", func(t *testing.T) {
		m := sparktest.StartMaster(t, c.home, sparktest.MasterOptions{Mode: "FILESYSTEM", Dir: dir, WorkerTimeout: recoveryWait})
		expectRecovered(t, m, c.want)
		m.Kill()
	})
	t.Run("zookeeper", func(t *testing.T) {
		m := sparktest.StartMaster(t, c.home, sparktest.MasterOptions{Mode: "ZOOKEEPER", ZKURL: zk.Addr(),
			ZKDir: "/e2e/spark", WorkerTimeout: recoveryWait})
		expectRecovered(t, m, c.want)
		m.Kill()
	})
}
