package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/codec/classes/classdesc"
)

// startupChild, set in the environment, makes the test binary run one
// command line in a fresh process and report what it loaded: the tables are
// process-wide, and other tests of this package load them.
const startupChild = "RECOVERCTL_STARTUP_CHILD"

// startupChildMain runs the child's command line when the test binary is
// started as one; TestMain (main_test.go) calls it first.
func startupChildMain() {
	if args := os.Getenv(startupChild); args != "" {
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		root := newRootCommand()
		root.SetArgs(strings.Fields(args))
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.Execute()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		fmt.Printf("loads=%d err=%v heap=%d\n", classdesc.Loads(), err, after.TotalAlloc-before.TotalAlloc)
		os.Exit(0)
	}
}

// --version and --help parse no class-descriptor table (nor the audit's
// lists): the process never decompresses them.
func TestStartupParsesNoTable(t *testing.T) {
	for _, args := range []string{"--version", "--help", "status --help", "audit --help"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), startupChild+"="+args)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v: %s", args, err, out)
		}
		var loads, heap int64
		var errText string
		line := strings.TrimSpace(string(out))
		if _, err := fmt.Sscanf(line, "loads=%d err=%s heap=%d", &loads, &errText, &heap); err != nil {
			t.Fatalf("%s: child said %q: %v", args, line, err)
		}
		if loads != 0 || errText != "<nil>" {
			t.Errorf("recoverctl %s: %d table load(s), error %s", args, loads, errText)
		}
		// The unpacked tables are hundreds of KB; a command line that
		// allocates a fraction of that cannot have built them.
		if heap > 256<<10 {
			t.Errorf("recoverctl %s allocated %d bytes", args, heap)
		}
	}
	// And the check can fail: a command that reads the tables counts.
	if _, err := classdesc.Load(); err != nil || classdesc.Loads() == 0 {
		t.Errorf("Load: %v, loads %d", err, classdesc.Loads())
	}
}

// BenchmarkStartupVersion is the wall time of `recoverctl --version` as a
// user runs it: a built binary, a new process each time (the issue asks
// for under 20 ms).
func BenchmarkStartupVersion(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "recoverctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v: %s", err, out)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N)/1000, "ms/start")
}
