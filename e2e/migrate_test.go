package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/sparktest"
	"github.com/recoverctl/recoverctl/internal/zktest"
)

const zkDir = "/e2e/spark"

// testMigrate (issue 6): the killed FILESYSTEM Master's directory, migrated
// into ZooKeeper, is recovered by a ZOOKEEPER Master: the same Workers
// (ALIVE again), apps and driver. It reports whether it got that far.
func testMigrate(t *testing.T, c *cluster, zk *zktest.Server) bool {
	to := "zk://" + zk.Addr() + "?dir=" + zkDir
	mustRC(t, c.bin, "migrate", "--from", "fs://"+c.dir, "--to", to, "--yes", "--backup-dir", t.TempDir())
	if got := zkRecords(t, c.bin, zk); !slices.Equal(got, c.want.records()) {
		t.Fatalf("after migrate ZooKeeper holds %v, want %v", got, c.want.records())
	}
	m := sparktest.StartMaster(t, c.home, sparktest.MasterOptions{Mode: "ZOOKEEPER", ZKURL: zk.Addr(),
		ZKDir: zkDir, WorkerTimeout: recoveryWait})
	expectRecovered(t, m, c.want)
	m.Kill() // its ZooKeeper session lives on for up to 60 s: see testPrune
	return !t.Failed()
}

// testPrune (issue 6, continued): with the ZOOKEEPER Master killed, prune
// one app and one Worker (stopped first, so that it cannot re-register) from
// the migrated state; a restarted Master recovers exactly the rest.
func testPrune(t *testing.T, c *cluster, zk *zktest.Server) {
	// The Worker not running the supervised driver: stopping the other
	// would make the next Master relaunch the driver under a new id.
	var gone *sparktest.Worker
	for _, w := range c.workers {
		if w.ID() != c.driverWorker {
			gone = w
		}
	}
	if gone == nil {
		t.Fatalf("no worker without the driver among %v (driver on %s)", c.want.Workers, c.driverWorker)
	}
	gone.Kill()
	app := c.appIDs[0]
	backups := t.TempDir()
	store := []string{"--zk", zk.Addr(), "--zk-dir", zkDir, "--yes", "--backup-dir", backups}

	// prune refuses (exit 6) while the killed Master's ZooKeeper session,
	// and so its leader latch, lives; Spark asks for 60 s sessions.
	start := time.Now()
	for refused := 0; ; refused++ {
		args := append([]string{"prune", "--id", app}, store...)
		_, stderr, code := runRC(c.bin, args...)
		if code == 0 {
			t.Logf("$ recoverctl %s  (exit 0 after %d refusals in %s)", strings.Join(args, " "), refused, time.Since(start).Round(time.Second))
			break
		}
		if code != 6 || time.Since(start) > 90*time.Second {
			t.Fatalf("recoverctl %s: exit %d after %s: %s", strings.Join(args, " "), code, time.Since(start).Round(time.Second), stderr)
		}
		time.Sleep(2 * time.Second)
	}
	mustRC(t, c.bin, append([]string{"prune", "--id", gone.ID()}, store...)...)

	want := ids{Workers: without(c.want.Workers, gone.ID()), Apps: without(c.want.Apps, app), Drivers: c.want.Drivers}
	if got := zkRecords(t, c.bin, zk); !slices.Equal(got, want.records()) {
		t.Fatalf("after prune ZooKeeper holds %v, want %v", got, want.records())
	}
	m := sparktest.StartMaster(t, c.home, sparktest.MasterOptions{Mode: "ZOOKEEPER", ZKURL: zk.Addr(),
		ZKDir: zkDir, WorkerTimeout: recoveryWait})
	expectRecovered(t, m, want)
	m.Kill()
}

// zkRecords lists the record names recoverctl ls finds under zkDir.
func zkRecords(t *testing.T, bin string, zk *zktest.Server) []string {
	t.Helper()
	out := mustRC(t, bin, "ls", "--zk", zk.Addr(), "--zk-dir", zkDir, "-o", "json")
	return recordNames(t, out)
}

// recordNames pulls the record names out of `ls -o json`, whatever its
// exact shape: every object whose "record" is app_/driver_/worker_.
func recordNames(t *testing.T, out string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("ls -o json: %v\n%s", err, out)
	}
	var names []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if n, ok := x["record"].(string); ok && (strings.HasPrefix(n, "app_") || strings.HasPrefix(n, "driver_") || strings.HasPrefix(n, "worker_")) {
				names = append(names, n)
				return
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	slices.Sort(names)
	return slices.Compact(names)
}
