package livemaster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/sparktest"
)

// A real Spark Master configured only through spark-defaults.conf, with a
// relative recovery directory: Spark resolves it against its own working
// directory (it creates the directory there), and so must the check.
func TestRealSparkMasterConfiguredByDefaults(t *testing.T) {
	home := sparktest.Prepare(t, "3.5.8", "2.12")
	m := sparktest.StartMaster(t, home, sparktest.MasterOptions{Mode: "FILESYSTEM", Dir: "recovery", ViaDefaults: true})
	ctx, cancel := context.WithTimeout(context.Background(), sparktest.StartTimeout)
	defer cancel()
	if err := m.WaitStatus(ctx, "ALIVE"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.WorkDir, "recovery")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Spark did not create its relative recovery directory in its cwd: %v", err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", m.PID()))
	if err != nil || strings.Contains(string(cmdline), "recoveryDirectory") || !strings.Contains(string(cmdline), masterClass) {
		t.Fatalf("the Master's command line must name the class and no directory: %q %v", cmdline, err)
	}
	res, err := CheckProcesses(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	hs := holdersOf(res, m.PID())
	if len(hs) != 1 || hs[0].Kind != KindProcess || !strings.Contains(hs[0].Detail, "spark-defaults.conf") {
		t.Fatalf("real Master %d not found holding %s: %+v (all %+v)", m.PID(), dir, hs, res)
	}
	t.Log(hs[0].Detail)
	// The directory of the same name under recoverctl's cwd is not it.
	wd, _ := os.Getwd()
	if res, err := CheckProcesses(filepath.Join(wd, "recovery"), ""); err != nil || len(holdersOf(res, m.PID())) != 0 {
		t.Errorf("resolved against recoverctl's cwd: %+v %v", res, err)
	}
	for _, addr := range []string{m.WebURL(), m.URL()} {
		res, err := CheckAddress(ctx, addr, DirOptions{Timeout: 5 * time.Second})
		if err != nil || !res.Live() {
			t.Errorf("%s: %+v %v", addr, res, err)
		}
	}
}
