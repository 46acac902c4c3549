package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/internal/sparktest"
	"github.com/recoverctl/recoverctl/internal/zktest"
)

// TestAuditPredictsUpgrade (issue 7): `recoverctl audit --target-spark`
// on state real Masters wrote predicts exactly what a real Master of the
// target release does with it: in ZooKeeper, the znodes it fails to read
// and deletes; in a directory, the error it stops on. The store mixes the
// captures of every release the e2e tests run (testdata/spark), so that
// for each target some records are readable and some are not.
func TestAuditPredictsUpgrade(t *testing.T) {
	bin := buildRecoverctl(t)
	root, err := sparktest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var captures []string
	for _, v := range versions {
		captures = append(captures, filepath.Join(root, "testdata/spark", v.version+"-"+v.scala))
	}
	for _, target := range versions {
		release := target.version + "-" + target.scala
		t.Run("target-"+release, func(t *testing.T) {
			home := sparktest.Prepare(t, target.version, target.scala)
			t.Run("zookeeper", func(t *testing.T) { auditZooKeeper(t, bin, home, release, captures) })
			t.Run("filesystem", func(t *testing.T) { auditDirectory(t, bin, home, release, captures) })
		})
	}
}

// prediction is one record's entry of `audit -o json`.
type prediction struct {
	Record    string `json:"record"`
	Verdict   string `json:"verdict"`
	Effect    string `json:"effect"`
	Class     string `json:"class"`
	Exception string `json:"exception"`
	Reason    string `json:"reason"`
}

// audit runs `recoverctl audit --target-spark target -o json` on a store
// and returns its predictions by record name.
func audit(t *testing.T, bin, target string, store ...string) map[string]prediction {
	t.Helper()
	out, _, code := rc(t, bin, append([]string{"audit", "--target-spark", target, "-o", "json"}, store...)...)
	if code != 0 && code != 7 { // 7: findings
		t.Fatalf("audit: exit %d", code)
	}
	var rep struct {
		Predictions []prediction `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit -o json: %v", err)
	}
	preds := map[string]prediction{}
	for _, p := range rep.Predictions {
		preds[p.Record] = p
	}
	return preds
}

// planted are extra records (name to bytes) written beside the captures'.
func auditZooKeeper(t *testing.T, bin, home, target string, captures []string, planted ...map[string][]byte) {
	const sparkDir = "/e2e/audit"
	status := sparkDir + "/master_status"
	zk := zktest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, c := range captures {
		dump, err := zktest.ReadDump(filepath.Join(c, "zookeeper", "znodes.json"))
		if err != nil {
			t.Fatal(err)
		}
		// Only the records, moved under one Spark dir: the capture's leader
		// latch, loaded as a persistent znode, would keep the new Master
		// STANDBY for ever.
		prefix := dump.SparkDir + "/master_status/"
		var keep []zktest.Znode
		for _, z := range dump.Znodes {
			if name, ok := strings.CutPrefix(z.Path, prefix); ok {
				z.Path = status + "/" + name
				keep = append(keep, z)
			}
		}
		dump.Znodes, dump.SparkDir = keep, sparkDir
		if err := zktest.LoadDump(ctx, zk.Addr(), dump, ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(planted) > 0 {
		conn, _, err := gozk.Connect([]string{zk.Addr()}, 10*time.Second, gozk.WithLogInfo(false), gozk.WithLogger(quiet{}))
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range planted[0] {
			if _, err := conn.Create(status+"/"+name, data, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
		}
		conn.Close()
	}
	before := children(t, zk.Addr(), status)
	if len(before) == 0 {
		t.Fatalf("no records under %s", status)
	}
	preds := audit(t, bin, target, "--zk", zk.Addr(), "--zk-dir", sparkDir)
	var wantGone, wantKept, wantSkipped []string
	for _, name := range before {
		p, ok := preds[name]
		switch {
		case !ok:
			t.Fatalf("audit predicts nothing for %s", name)
		case p.Verdict == "dropped":
			wantGone = append(wantGone, name)
		case p.Verdict == "ok":
			wantKept = append(wantKept, name)
		case p.Verdict == "skipped": // left in place by a 4.3 Master's filter
			wantSkipped = append(wantSkipped, name)
		default:
			t.Fatalf("audit predicts %q for %s: want dropped or ok for a ZooKeeper store", p.Verdict, name)
		}
	}
	if len(wantGone) == 0 || len(wantKept) == 0 {
		t.Fatalf("audit predicts %d dropped and %d ok: the mixed captures should give both", len(wantGone), len(wantKept))
	}

	m := sparktest.StartMaster(t, home, sparktest.MasterOptions{Mode: "ZOOKEEPER", ZKURL: zk.Addr(),
		ZKDir: sparkDir, WorkerTimeout: recoveryWait})
	// Out of STANDBY means elected, records read and the unreadable deleted.
	if err := m.WaitJSON(ctx, "leadership", func(v map[string]any) bool { return v["status"] != "STANDBY" }); err != nil {
		t.Fatal(err)
	}
	after := children(t, zk.Addr(), status)
	var gone []string
	for _, name := range before {
		if !slices.Contains(after, name) {
			gone = append(gone, name)
		}
	}
	if !slices.Equal(gone, wantGone) {
		t.Errorf("the Spark %s Master deleted %v; audit predicted %v dropped, %v ok", target, gone, wantGone, wantKept)
	}
	if n := len(m.DeletedLines()); n != len(wantGone) {
		t.Errorf("the Master logged %d deletions, audit predicted %d", n, len(wantGone))
	}
	log := m.Text()
	if n := strings.Count(log, "rejected by the recovery serialization filter"); n != len(wantSkipped) {
		t.Errorf("the Master logged %d records rejected by its filter, audit predicted %d skipped (%v)", n, len(wantSkipped), wantSkipped)
	}
	for _, name := range wantSkipped {
		if !strings.Contains(log, "Skipping persisted file "+name) && !strings.Contains(log, name) {
			t.Errorf("%s: predicted skipped; the Master's log does not name it", name)
		}
	}
	for _, name := range wantGone {
		if p := preds[name]; !strings.Contains(log, p.Reason) {
			t.Errorf("%s: predicted %s: %s; the Master's log does not say so", name, p.Exception, p.Reason)
		}
	}
	t.Logf("Spark %s Master deleted %d of %d records, as predicted", target, len(gone), len(before))
}

func auditDirectory(t *testing.T, bin, home, target string, captures []string) {
	var dirs []string
	for _, c := range captures {
		dirs = append(dirs, filepath.Join(c, "filesystem", "records"))
	}
	auditRecordDirs(t, bin, home, target, dirs)
}

// auditRecordDirs is auditDirectory on the records of any directories
// (a compressed capture's, say).
func auditRecordDirs(t *testing.T, bin, home, target string, dirs []string) {
	dir := filepath.Join(t.TempDir(), "recovery")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, src := range dirs {
		for _, n := range dirRecords(t, src) {
			b, err := os.ReadFile(filepath.Join(src, n))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
	}
	slices.Sort(names)
	preds := audit(t, bin, target, "--fs", dir)
	var fails []prediction
	ok := 0
	for _, n := range names {
		switch p := preds[n]; p.Verdict {
		case "fails":
			fails = append(fails, p)
		case "ok":
			ok++
		default:
			t.Fatalf("audit predicts %q for %s: want fails or ok for a directory", p.Verdict, n)
		}
	}
	if len(fails) == 0 || ok == 0 {
		t.Fatalf("audit predicts %d fails and %d ok: the mixed captures should give both", len(fails), ok)
	}

	m := sparktest.StartMaster(t, home, sparktest.MasterOptions{Mode: "FILESYSTEM", Dir: dir, WorkerTimeout: recoveryWait})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The engine reads app_ files first, then driver_, then worker_, and
	// stops at the first it cannot read: the error must be one predicted
	// for a record of the first kind that has failures.
	kind := strings.SplitN(fails[0].Record, "_", 2)[0] + "_"
	var want []string
	for _, p := range fails {
		if strings.HasPrefix(p.Record, kind) {
			if p.Class == "" { // no class read: the stream's header
				want = append(want, p.Exception+": "+p.Reason)
			} else {
				want = append(want, p.Exception+": "+p.Class+"; "+p.Reason)
			}
		}
	}
	found := ""
	for found == "" {
		log := m.Text()
		for _, w := range want {
			if strings.Contains(log, w) {
				found = w
			}
		}
		if found != "" {
			break
		}
		if ctx.Err() != nil || m.Exited() {
			t.Fatalf("the Spark %s Master never logged any of the predicted errors %q:\n%s", target, want, m.Tail(40))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if s, err := m.Status(ctx); err != nil || s != "STANDBY" {
		t.Errorf("after %q the Master is %q (%v): want it stopped in STANDBY", found, s, err)
	}
	for _, w := range []string{"I have been elected leader! New state: RECOVERING", "I have been elected leader! New state: ALIVE"} {
		if strings.Contains(m.Text(), w) {
			t.Errorf("the Master logged %q although it failed to read %s", w, path.Base(dir))
		}
	}
	t.Logf("Spark %s Master stopped on %s, as predicted", target, found)
}

// children lists a znode's children, sorted.
func children(t *testing.T, addr, p string) []string {
	t.Helper()
	conn, _, err := gozk.Connect([]string{addr}, 10*time.Second, gozk.WithLogInfo(false), gozk.WithMaxBufferSize(16<<20),
		gozk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	names, _, err := conn.Children(p)
	if err != nil {
		t.Fatalf("children of %s: %v", p, err)
	}
	slices.Sort(names)
	return names
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
