package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	at "github.com/recoverctl/recoverctl/internal/streamtest"
)

func runAudit(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(append([]string{"audit"}, args...))
	code := exitCode(cmd.Execute())
	return out.String(), code
}

func TestAuditExitCodes(t *testing.T) {
	caps, _ := filepath.Glob("../../testdata/spark/3.5.8-2.12/filesystem/records")
	if len(caps) == 0 {
		t.Fatal("no 3.5.8-2.12 capture")
	}
	if out, code := runAudit(t, "--fs", caps[0], "--target-spark", "3.5.8"); code != exitOK {
		t.Fatalf("clean capture: exit %d\n%s", code, out)
	}
	out, code := runAudit(t, "--fs", caps[0], "--target-spark", "4.0.5", "-o", "json")
	if code != exitFindings {
		t.Fatalf("3.5 capture against 4.0.5: exit %d", code)
	}
	var rep struct {
		Predictions []struct{ Record, Verdict, Class, Exception, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Predictions) == 0 {
		t.Fatalf("json: %v\n%q", err, out)
	}
	for _, p := range rep.Predictions {
		if p.Verdict != "fails" || p.Class == "" || p.Reason == "" {
			t.Errorf("%+v", p)
		}
	}
	dir := t.TempDir()
	w := at.New()
	w.Object(at.Holder("org.apache.commons.collections.functors.InvokerTransformer"), at.Nul())
	if err := os.WriteFile(filepath.Join(dir, "app_app-1"), w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := runAudit(t, "--fs", dir); code != exitFindings || !bytes.Contains([]byte(out), []byte("InvokerTransformer")) {
		t.Errorf("gadget: exit %d\n%s", code, out)
	}
	if _, code := runAudit(t, "--fs", dir, "--allow", "!"); code != exitUsage {
		t.Errorf("bad --allow: exit %d", code)
	}
}
