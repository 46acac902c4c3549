package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/sparktest"
	at "github.com/recoverctl/recoverctl/internal/streamtest"
)

// TestUpgradePairs (issue 16): for upgrades that cross a real
// incompatibility, `audit --target-spark` predicts what a real Master of
// the target release does with the old state, checked by starting that
// Master on a copy of the capture mixed with the target release's own
// (which it must recover). 3.5 to 4.0 on a FILESYSTEM store (the Master
// stuck in STANDBY) is TestAuditPredictsUpgrade's target-4.0.5 case.
func TestUpgradePairs(t *testing.T) {
	bin := buildRecoverctl(t)
	root, err := sparktest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	capture := func(rel string) string { return filepath.Join(root, "testdata/spark", rel) }
	t.Run("2.4-to-3.5", func(t *testing.T) {
		home := sparktest.Prepare(t, "3.5.8", "2.12")
		// Scala 2.11 to 2.12: the znodes the 3.5 Master cannot read are deleted.
		t.Run("zookeeper", func(t *testing.T) {
			auditZooKeeper(t, bin, home, "3.5.8-2.12", []string{capture("2.4.8-2.11"), capture("3.5.8-2.12")})
		})
		// Same Scala line, 2.4's classes: the Master stops in STANDBY on the error it logs.
		t.Run("filesystem", func(t *testing.T) {
			auditDirectory(t, bin, home, "3.5.8-2.12", []string{capture("2.4.8-2.12"), capture("3.5.8-2.12")})
		})
	})
	// A 4.0 directory compressed with lz4, back to 3.5 (no codec): the
	// Master stops on the codec's magic bytes, before any class.
	t.Run("4.0-lz4-to-3.5-filesystem", func(t *testing.T) {
		home := sparktest.Prepare(t, "3.5.8", "2.12")
		auditRecordDirs(t, bin, home, "3.5.8-2.12", []string{
			filepath.Join(capture("4.0.5-2.13"), "filesystem-lz4", "records"),
			filepath.Join(capture("3.5.8-2.12"), "filesystem", "records")})
	})
	t.Run("4.0-to-4.3", func(t *testing.T) {
		home := sparktest.Prepare(t, "4.3.0", "2.13")
		t.Run("filesystem", func(t *testing.T) {
			auditQuarantine(t, bin, home, "4.3.0-2.13", []string{capture("4.0.5-2.13"), capture("4.3.0-2.13")})
		})
		// The 4.0 znodes are deleted; one naming a class on the class path
		// (commons-collections4) outside the default recovery filter is
		// skipped and left in place.
		t.Run("zookeeper", func(t *testing.T) {
			w := at.New()
			at.Obj(at.Holder("org.apache.commons.collections4.comparators.TransformingComparator"), at.Nul())(w)
			auditZooKeeper(t, bin, home, "4.3.0-2.13", []string{capture("4.0.5-2.13"), capture("4.3.0-2.13")},
				map[string][]byte{"app_app-20261204000000-0099": w.Bytes()})
		})
	})
}

// auditQuarantine: a 4.3 FILESYSTEM Master renames exactly the records
// audit predicts "quarantined" to corrupted_<name>, logging the predicted
// error for each, and recovers the rest; afterwards audit reports the
// renamed files as Spark's quarantine, not as foreign entries.
func auditQuarantine(t *testing.T, bin, home, target string, captures []string) {
	dir := filepath.Join(t.TempDir(), "recovery")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range captures {
		src := filepath.Join(c, "filesystem", "records")
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
	var want []string // the directory as the Master should leave it
	var quarantined, kept []prediction
	for _, n := range names {
		switch p := preds[n]; p.Verdict {
		case "quarantined":
			if p.Effect != "quarantined as corrupted_"+n {
				t.Errorf("%s: effect %q", n, p.Effect)
			}
			quarantined = append(quarantined, p)
			want = append(want, "corrupted_"+n)
		case "ok":
			kept = append(kept, p)
			want = append(want, n)
		default:
			t.Fatalf("audit predicts %q for %s: want quarantined or ok for a %s directory", p.Verdict, n, target)
		}
	}
	if len(quarantined) == 0 || len(kept) == 0 {
		t.Fatalf("audit predicts %d quarantined and %d ok: the mixed captures should give both", len(quarantined), len(kept))
	}
	slices.Sort(want)

	m := sparktest.StartMaster(t, home, sparktest.MasterOptions{Mode: "FILESYSTEM", Dir: dir, WorkerTimeout: recoveryWait})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Out of STANDBY: every file read, renamed or recovered.
	var last map[string]any
	if err := m.WaitJSON(ctx, "leadership", func(v map[string]any) bool { last = v; return v["status"] != "STANDBY" }); err != nil {
		t.Fatalf("the Spark %s Master never left STANDBY: %v\n%s", target, err, m.Tail(40))
	}
	var got []string
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the Spark %s Master left %v; audit predicted %v", target, got, want)
	}
	log := m.Text()
	for _, p := range quarantined {
		if w := p.Exception + ": " + p.Class + "; " + p.Reason; !strings.Contains(log, w) {
			t.Errorf("%s: predicted %s; the Master's log does not say so", p.Record, w)
		}
	}
	if n := strings.Count(log, "Exception while reading persisted file"); n != len(quarantined) {
		t.Errorf("the Master logged %d unreadable files, audit predicted %d", n, len(quarantined))
	}
	// The records predicted ok are the Master's recovered state.
	var wantIDs, gotIDs []string
	for _, p := range kept {
		wantIDs = append(wantIDs, p.Record[strings.IndexByte(p.Record, '_')+1:])
	}
	for _, key := range []string{"workers", "activeapps", "completedapps", "activedrivers", "completeddrivers"} {
		list, _ := last[key].([]any)
		for _, x := range list {
			if o, ok := x.(map[string]any); ok {
				if id, ok := o["id"].(string); ok {
					gotIDs = append(gotIDs, id)
				}
			}
		}
	}
	slices.Sort(wantIDs)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("the Spark %s Master recovered %v; audit predicted %v readable", target, gotIDs, wantIDs)
	}

	// Spark's own quarantine files are named so by audit, never foreign.
	m.Stop()
	out, _, _ := rc(t, bin, "audit", "--fs", dir, "-o", "json")
	var rep struct {
		Findings []struct{ Check, Path string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range rep.Findings {
		switch f.Check {
		case "foreign-entry":
			t.Errorf("audit calls %s foreign", f.Path)
		case "quarantined":
			seen++
		}
	}
	if seen != len(quarantined) {
		t.Errorf("audit names %d quarantined files, the Master made %d", seen, len(quarantined))
	}
	t.Logf("Spark %s Master quarantined %d and recovered %d records, as predicted", target, len(quarantined), len(kept))
}
