package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/codec/classes"
	"github.com/recoverctl/recoverctl/store/fs"
)

// A real 3.5 capture audited against 4.0.5 and 4.3.0 in a directory that
// also holds a file a 4.3 Master quarantined: the reasons are grouped, the
// advice names what survives, what the Master does and the commands, and
// the quarantined file is Spark's own, not foreign.
func TestGroupsAdviceQuarantine(t *testing.T) {
	src, _ := filepath.Glob("../testdata/spark/3.5.8-2.12/filesystem/records/*")
	if len(src) == 0 {
		t.Fatal("no 3.5.8 capture")
	}
	dir := t.TempDir()
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "corrupted_app_app-1"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{
		"4.0.5": "stays in STANDBY",
		"4.3.0": "renames 5 to corrupted_<name>",
	} {
		tb, _, err := classes.TableFor(target)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(ctx, s, Options{Dir: dir, Record: classes.Options{Target: tb}})
		if err != nil {
			t.Fatal(err)
		}
		// app, driver, worker: one class each, whatever the record count.
		if len(rep.Groups) != 3 {
			t.Errorf("%s: %d groups, want 3: %+v", target, len(rep.Groups), rep.Groups)
		}
		n := 0
		for _, g := range rep.Groups {
			n += len(g.Records)
		}
		if n != len(src) {
			t.Errorf("%s: groups hold %d records, want %d", target, n, len(src))
		}
		adv := Advice(rep.Target, "--fs "+dir, rep.Predictions)
		for _, w := range []string{"0 of 5 records survive", want, "recoverctl backup --fs " + dir, "recoverctl prune --fs " + dir + " --id app_"} {
			if !strings.Contains(adv, w) {
				t.Errorf("%s: advice lacks %q: %s", target, w, adv)
			}
		}
		if !has(rep.Findings, CheckQuarantined, "corrupted_app_app-1") || has(rep.Findings, CheckForeignEntry, "corrupted_app_app-1") {
			t.Errorf("%s: corrupted_app_app-1 not reported as Spark's quarantine: %+v", target, rep.Findings)
		}
	}
	if got := Advice("4.0.5-2.13", "--fs d", []classes.Prediction{{Record: "app_a", Verdict: classes.VerdictOK}}); !strings.HasPrefix(got, "All 1 records read") {
		t.Errorf("all readable: %q", got)
	}
}
