// Package e2e holds recoverctl's end-to-end tests: real Spark standalone
// clusters (internal/sparktest) and real ZooKeeper servers (internal/zktest)
// whose Masters are killed, whose state the recoverctl binary backs up,
// restores, migrates and prunes as a user would, and whose next Masters
// must recover exactly what recoverctl left them.
//
// One cluster per Spark version is shared by the subtests, in this order:
//
//	migrate  the killed Master's directory into ZooKeeper; a ZOOKEEPER
//	         Master recovers it (migrate_test.go)
//	restore  a backup of that directory into a fresh directory and into
//	         another ZooKeeper; a Master recovers each (restore_test.go)
//	prune    one app and one (stopped) worker out of the migrated state; a
//	         restarted Master recovers the rest (migrate_test.go)
//
// prune comes last because it stops a Worker, and after restore because the
// killed ZOOKEEPER Master's session (Spark asks for 60 s) has to expire
// before prune and the next Master accept the store: restore runs meanwhile.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/sparktest"
	"github.com/recoverctl/recoverctl/internal/zktest"
)

// versions are the Spark releases the e2e tests run, in sequence;
// scripts/setup-spark.sh prepares the same list.
var versions = []struct{ version, scala string }{
	{"3.5.8", "2.12"},
	{"4.0.5", "2.13"},
}

// recoveryWait is spark.worker.timeout (and so the 4.x recoveryTimeout) of
// the recovering Masters: long enough that a Worker or app that did not
// answer is still listed, UNKNOWN, when the check gives up, instead of
// having been quietly removed.
const recoveryWait = 300 * time.Second

func TestSparkRecovery(t *testing.T) {
	bin := buildRecoverctl(t)
	for _, v := range versions {
		t.Run(v.version, func(t *testing.T) {
			start := time.Now()
			c := startCluster(t, bin, v.version, v.scala)
			t.Logf("cluster of Spark %s ready and its Master killed in %s", v.version, time.Since(start).Round(time.Second))
			zkMigrate := zktest.Start(t)
			var migrated bool
			t.Run("migrate", func(t *testing.T) { migrated = testMigrate(t, c, zkMigrate) })
			t.Run("restore", func(t *testing.T) { testRestore(t, c) })
			t.Run("prune", func(t *testing.T) {
				if !migrated {
					t.Fatal("prune works on the state the migrate subtest wrote, and migrate did not complete")
				}
				testPrune(t, c, zkMigrate)
			})
		})
	}
}

// cluster is a Spark cluster whose first Master was killed: its Workers,
// apps and supervised driver still run, waiting for a new Master.
type cluster struct {
	bin, version, home string
	dir                string // the killed Master's recovery directory
	want               ids    // what the killed Master's /json listed
	workers            []*sparktest.Worker
	apps               []*sparktest.App
	appIDs             []string
	driverWorker       string // the worker running the supervised driver
}

// ids are the sorted ids a Master's /json lists.
type ids struct {
	Workers, Apps, Drivers []string
}

func (a ids) String() string {
	return fmt.Sprintf("workers %v, apps %v, drivers %v", a.Workers, a.Apps, a.Drivers)
}

func (a ids) equal(b ids) bool {
	return slices.Equal(a.Workers, b.Workers) && slices.Equal(a.Apps, b.Apps) && slices.Equal(a.Drivers, b.Drivers)
}

// records are the record names a store holding a holds.
func (a ids) records() []string {
	var out []string
	for _, w := range a.Workers {
		out = append(out, "worker_"+w)
	}
	for _, x := range a.Apps {
		out = append(out, "app_"+x)
	}
	for _, d := range a.Drivers {
		out = append(out, "driver_"+d)
	}
	slices.Sort(out)
	return out
}

func without(list []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == drop })
}

func items(v map[string]any, key string) []map[string]any {
	var out []map[string]any
	l, _ := v[key].([]any)
	for _, x := range l {
		if o, ok := x.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func idList(v map[string]any, key string) []string {
	var out []string
	for _, o := range items(v, key) {
		s, _ := o["id"].(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func idsOf(v map[string]any) ids {
	return ids{Workers: idList(v, "workers"), Apps: idList(v, "activeapps"), Drivers: idList(v, "activedrivers")}
}

// allIn reports whether every item of v[key] has field state.
func allIn(v map[string]any, key, state string) bool {
	for _, o := range items(v, key) {
		if o["state"] != state {
			return false
		}
	}
	return true
}

// startCluster starts a FILESYSTEM Master, two Workers (one with a gpu
// resource), two client-mode apps and one supervised cluster-mode driver,
// waits until all run, records the Master's /json and SIGKILLs the Master.
func startCluster(t *testing.T, bin, version, scala string) *cluster {
	return startClusterMode(t, bin, version, scala, "FILESYSTEM")
}

// startClusterMode is startCluster with the Master in recovery mode
// FILESYSTEM or ROCKSDB (Spark 4), its directory c.dir.
func startClusterMode(t *testing.T, bin, version, scala, mode string) *cluster {
	home := sparktest.Prepare(t, version, scala)
	c := &cluster{bin: bin, version: version, home: home, dir: filepath.Join(t.TempDir(), "recovery")}
	m := sparktest.StartMaster(t, home, sparktest.MasterOptions{Mode: mode, Dir: c.dir})
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	if err := m.WaitStatus(ctx, "ALIVE"); err != nil {
		t.Fatal(err)
	}
	c.workers = []*sparktest.Worker{
		sparktest.StartWorker(t, home, m.URL(), sparktest.WorkerOptions{Cores: 2, GPU: true}),
		sparktest.StartWorker(t, home, m.URL(), sparktest.WorkerOptions{Cores: 2}),
	}
	// The apps start while the driver is submitted: JVM starts dominate.
	for _, name := range []string{"recoverctl e2e Ünïcødé", "recoverctl e2e plain"} {
		c.apps = append(c.apps, sparktest.SubmitApp(t, home, m.URL(), name, nil))
	}
	driver := sparktest.SubmitDriver(t, home, m.URL(), "recoverctl e2e supervised", nil)
	for _, a := range c.apps {
		id, err := a.WaitID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c.appIDs = append(c.appIDs, id)
	}
	// Ready when everything runs and the ids stayed the same over two
	// polls: what the Master shows is then what it persisted.
	var prev ids
	err := m.WaitJSON(ctx, "2 workers ALIVE, 2 apps and 1 driver RUNNING, ids stable", func(v map[string]any) bool {
		got := idsOf(v)
		ready := len(got.Workers) == 2 && len(got.Apps) >= 2 && len(got.Drivers) == 1 &&
			allIn(v, "workers", "ALIVE") && allIn(v, "activeapps", "RUNNING") && allIn(v, "activedrivers", "RUNNING")
		stable := ready && got.equal(prev)
		prev = got
		if stable {
			c.want = got
			for _, d := range items(v, "activedrivers") {
				c.driverWorker, _ = d["worker"].(string)
			}
			return true
		}
		time.Sleep(2 * time.Second)
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.want.Drivers, driver) {
		t.Fatalf("submitted driver %s, the Master lists %s", driver, c.want)
	}
	for _, id := range c.appIDs {
		if !slices.Contains(c.want.Apps, id) {
			t.Fatalf("app %s registered, the Master lists %s", id, c.want)
		}
	}
	m.Kill()
	t.Logf("Spark %s %s Master killed; its /json listed %s", version, mode, c.want)
	var got []string
	if mode == "ROCKSDB" {
		got = recordNames(t, mustRC(t, bin, "ls", "--rocksdb", c.dir, "-o", "json"))
	} else {
		got = dirRecords(t, c.dir)
	}
	if !slices.Equal(got, c.want.records()) {
		t.Fatalf("the killed Master's directory holds %v, its /json listed %v", got, c.want.records())
	}
	return c
}

// dirRecords lists the Spark records of a recovery directory.
func dirRecords(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		switch n := e.Name(); {
		case strings.HasPrefix(n, "app_"), strings.HasPrefix(n, "driver_"), strings.HasPrefix(n, "worker_"):
			out = append(out, n)
		default:
			t.Fatalf("%s holds %s, which is no Spark record", dir, n)
		}
	}
	slices.Sort(out)
	return out
}

// expectRecovered waits until m is ALIVE and its /json lists exactly want,
// with every Worker ALIVE (they re-registered: they still run) and every
// app and driver RUNNING.
func expectRecovered(t *testing.T, m *sparktest.Master, want ids) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var last map[string]any
	err := m.WaitJSON(ctx, "recovery of "+want.String(), func(v map[string]any) bool {
		last = v
		return idsOf(v).equal(want) && v["status"] == "ALIVE" && allIn(v, "workers", "ALIVE") &&
			allIn(v, "activeapps", "RUNNING") && allIn(v, "activedrivers", "RUNNING")
	})
	if err != nil {
		t.Fatalf("Master on the restored state: want %s; it lists %s (status %v)\n%v", want, idsOf(last), last["status"], err)
	}
	t.Logf("Master recovered %s in %s", want, time.Since(start).Round(time.Second))
}

// buildRecoverctl builds the binary the tests run as a user would.
func buildRecoverctl(t *testing.T) string {
	t.Helper()
	root, err := sparktest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "recoverctl")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/recoverctl")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/recoverctl: %v\n%s", err, out)
	}
	return bin
}

// rc runs recoverctl and returns its stdout, stderr and exit code.
func rc(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	stdout, stderr, code = runRC(bin, args...)
	if code < 0 {
		t.Fatalf("recoverctl %s: %s", strings.Join(args, " "), stderr)
	}
	t.Logf("$ recoverctl %s  (exit %d)\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	return stdout, stderr, code
}

// runRC runs recoverctl without logging; code is -1 if it did not run.
func runRC(bin string, args ...string) (stdout, stderr string, code int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		code = ee.ExitCode()
	default:
		return o.String(), fmt.Sprintf("%v\n%s", err, e.String()), -1
	}
	return o.String(), e.String(), code
}

// mustRC runs recoverctl and fails t unless it exits 0.
func mustRC(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, _, code := rc(t, bin, args...)
	if code != 0 {
		t.Fatalf("recoverctl %s: exit %d", strings.Join(args, " "), code)
	}
	return out
}

// TestSetupSparkVersions keeps scripts/setup-spark.sh preparing exactly the
// releases these tests run.
func TestSetupSparkVersions(t *testing.T) {
	root, err := sparktest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "scripts", "setup-spark.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var script []string
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VERSIONS=("); ok {
			script = strings.Fields(strings.TrimSuffix(rest, ")"))
		}
	}
	var tests []string
	for _, v := range versions {
		tests = append(tests, v.version+"-"+v.scala)
	}
	if !slices.Equal(script, tests) {
		t.Fatalf("scripts/setup-spark.sh prepares %v, the e2e tests run %v", script, tests)
	}
}
