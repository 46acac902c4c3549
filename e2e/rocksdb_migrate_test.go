package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/recoverctl/recoverctl/internal/sparktest"
	"github.com/recoverctl/recoverctl/internal/zktest"
)

// TestMigrateFromRocksDB (issue 13, end to end): a real Spark 4.0.5 Master
// in ROCKSDB mode, with two Workers, two running apps and a supervised
// driver, is killed with SIGKILL, so its records are in RocksDB's
// write-ahead log only; the recoverctl binary migrates the directory into
// a real ZooKeeper, and a ZOOKEEPER Master started on it recovers the same
// Workers (ALIVE again), apps and driver. Two Master starts in all.
func TestMigrateFromRocksDB(t *testing.T) {
	bin := buildRecoverctl(t)
	c := startClusterMode(t, bin, "4.0.5", "2.13", "ROCKSDB")
	// The killed Master left a database, not record files: what is read
	// below goes through the log, not through a directory listing.
	logs, _ := filepath.Glob(filepath.Join(c.dir, "*.log"))
	if len(logs) == 0 {
		ents, _ := os.ReadDir(c.dir)
		t.Fatalf("the killed ROCKSDB Master left no write-ahead log in %s: %v", c.dir, ents)
	}
	for _, r := range c.want.records() {
		if _, err := os.Stat(filepath.Join(c.dir, r)); err == nil {
			t.Fatalf("%s holds a file %s: not a RocksDB directory", c.dir, r)
		}
	}
	zk := zktest.Start(t)
	to := "zk://" + zk.Addr() + "?dir=" + zkDir
	mustRC(t, bin, "migrate", "--from", "rocksdb://"+c.dir, "--to", to, "--yes", "--backup-dir", t.TempDir())
	if got := zkRecords(t, bin, zk); !slices.Equal(got, c.want.records()) {
		t.Fatalf("after migrate ZooKeeper holds %v, want %v", got, c.want.records())
	}
	// migrate only reads its source: the database is still the Master's.
	if got := recordNames(t, mustRC(t, bin, "ls", "--rocksdb", c.dir, "-o", "json")); !slices.Equal(got, c.want.records()) {
		t.Fatalf("after migrate the RocksDB source lists %v, want %v", got, c.want.records())
	}
	m := sparktest.StartMaster(t, c.home, sparktest.MasterOptions{Mode: "ZOOKEEPER", ZKURL: zk.Addr(),
		ZKDir: zkDir, WorkerTimeout: recoveryWait})
	expectRecovered(t, m, c.want)
	m.Kill()
}
