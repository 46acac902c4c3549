// Package sparktest runs real Apache Spark standalone clusters (Master,
// Workers, client-mode applications and supervised cluster-mode drivers) on
// loopback for end-to-end tests. It is not a fake: recoverctl's e2e tests
// kill these Masters and check that new ones recover what recoverctl wrote.
//
// Spark itself comes from testdata/spark/lib/prepare.sh (a SPARK_HOME
// unpacked from the pyspark tarball into ~/.cache/recoverctl/spark); every
// JVM runs on Java 17 with the --add-opens options Spark's launcher adds.
// Every process is started in its own process group and killed with it in
// t.Cleanup (and by the kernel if the test binary dies); logs go to
// t.TempDir() and their tails are printed when the test fails.
//
// Environment:
//
//	RECOVERCTL_JAVA17  a Java 17 home (default /usr/lib/jvm/java-17-openjdk-amd64)
//	CI=true            Prepare fails instead of skipping when Spark cannot be prepared
package sparktest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds every wait for a process to come up.
const StartTimeout = 120 * time.Second

// heap is the -Xmx of every Spark JVM we start: other engineers run JVMs on
// the same small machine.
const heap = "-Xmx384m"

// fastStart trades peak JIT performance, which idle test daemons never
// need, for a JVM start that costs less CPU on a loaded machine.
var fastStart = []string{"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"}

// javaOpens are the options Spark's launcher (JavaModuleOptions) adds on
// Java 17; the same list as testdata/spark/generate.sh.
var javaOpens = []string{"-XX:+IgnoreUnrecognizedVMOptions",
	"--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
	"--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
	"--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
	"--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
	"--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED", "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
	"--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
	"--add-opens=java.base/sun.security.action=ALL-UNNAMED", "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
	"-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true"}

// RepoRoot is the directory holding recoverctl's go.mod, found upwards from
// the working directory (a test's package directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/recoverctl/recoverctl\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sparktest: no recoverctl go.mod above the working directory")
		}
		dir = parent
	}
}

// Java17 is the java binary every Spark JVM runs on.
func Java17() string {
	home := os.Getenv("RECOVERCTL_JAVA17")
	if home == "" {
		home = "/usr/lib/jvm/java-17-openjdk-amd64"
	}
	return filepath.Join(home, "bin", "java")
}

// unavailable skips t, or fails it under CI=true, when Spark cannot run.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("sparktest: real Spark required in CI: "+format, args...)
	}
	t.Skipf("sparktest: Spark not available: "+format, args...)
}

// Prepare returns a SPARK_HOME for version (e.g. "3.5.8") built for scala
// ("2.12", "2.13"), preparing it with prepare.sh's spark_home when the cache
// lacks it (which downloads the pyspark tarball with pip).
func Prepare(t testing.TB, version, scala string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Java17()); err != nil {
		unavailable(t, "no Java 17: %v (set RECOVERCTL_JAVA17)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", `set -e; source "$1"; spark_home "$2" "$3"`,
		"prepare", filepath.Join(root, "testdata/spark/lib/prepare.sh"), version, scala)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		unavailable(t, "prepare.sh spark_home %s %s: %v\n%s", version, scala, err, tail(stderr.String(), 20))
	}
	home := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(home, '\n'); i >= 0 {
		home = home[i+1:]
	}
	if _, err := os.Stat(filepath.Join(home, "jars")); err != nil {
		unavailable(t, "prepare.sh gave %q without jars/: %v", home, err)
	}
	return home
}

// Proc is one JVM we started (with its children, in one process group).
type Proc struct {
	Name    string
	Log     string // stdout and stderr
	WorkDir string // its working directory
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// env is the environment of every Spark process: ours minus any SPARK_*
// setting of the machine, plus loopback and a private conf/log/local dir.
func env(home, scratch string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPARK_") && !strings.HasPrefix(kv, "JAVA_HOME=") &&
			!strings.HasPrefix(kv, "PYSPARK_") {
			out = append(out, kv)
		}
	}
	conf := filepath.Join(scratch, "conf")
	local := filepath.Join(scratch, "local")
	_ = os.MkdirAll(conf, 0o755)
	_ = os.MkdirAll(local, 0o755)
	scala := "2.12"
	if m, _ := filepath.Glob(filepath.Join(home, "jars", "spark-core_2.13-*.jar")); len(m) > 0 {
		scala = "2.13"
	}
	return append(out, "SPARK_HOME="+home, "JAVA_HOME="+filepath.Dir(filepath.Dir(Java17())),
		"SPARK_LOCAL_IP=127.0.0.1", "SPARK_PUBLIC_DNS=127.0.0.1", "SPARK_CONF_DIR="+conf, "SPARK_LOG_DIR="+scratch,
		"SPARK_LOCAL_DIRS="+local, "SPARK_SCALA_VERSION="+scala, "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
}

// start runs java with args in its own process group; t.Cleanup kills the
// group and, if t failed, prints the log's tail.
func start(t testing.TB, home, name string, args ...string) *Proc {
	t.Helper()
	return startWithDefaults(t, home, name, nil, args...)
}

// startWithDefaults is start with a spark-defaults.conf holding defaults in
// the process's conf directory (none when defaults is nil).
func startWithDefaults(t testing.TB, home, name string, defaults map[string]string, args ...string) *Proc {
	t.Helper()
	scratch := t.TempDir()
	p := &Proc{Name: name, Log: filepath.Join(scratch, name+".log"), WorkDir: scratch, done: make(chan struct{})}
	logf, err := os.Create(p.Log)
	if err != nil {
		t.Fatal(err)
	}
	full := append(append(append(append([]string{}, javaOpens...), fastStart...), heap,
		"-Djava.io.tmpdir="+scratch, "-cp", filepath.Join(home, "jars", "*")), args...)
	p.cmd = exec.Command(Java17(), full...)
	p.cmd.Dir = scratch
	p.cmd.Env = env(home, scratch)
	if defaults != nil {
		var b strings.Builder
		for k, v := range defaults {
			b.WriteString(k + " " + v + "\n")
		}
		if err := os.WriteFile(filepath.Join(scratch, "conf", "spark-defaults.conf"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	// The group takes the Worker's executors and drivers with it; Pdeathsig
	// kills the JVM if the test binary dies without running its cleanups.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("sparktest: start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log tail (%s):\n%s", name, p.Log, p.Tail(25))
		}
		p.Kill()
	})
	return p
}

// PID is the process's id (its JVM's: java is started directly).
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Kill SIGKILLs the process group and waits for the process.
func (p *Proc) Kill() {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// Exited reports whether the main process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process to exit, or ctx.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Text is the whole log so far.
func (p *Proc) Text() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Tail is the last n lines of the log.
func (p *Proc) Tail(n int) string { return tail(p.Text(), n) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitLog polls the log until re matches, and returns the first submatch
// (or the whole match). It gives up when the process exits or ctx ends.
func (p *Proc) WaitLog(ctx context.Context, re *regexp.Regexp) (string, error) {
	for {
		if m := re.FindStringSubmatch(p.Text()); m != nil {
			return m[len(m)-1], nil
		}
		if p.Exited() {
			return "", fmt.Errorf("sparktest: %s exited (%v) before logging %q:\n%s", p.Name, p.err, re, p.Tail(25))
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("sparktest: %s did not log %q: %w:\n%s", p.Name, re, ctx.Err(), p.Tail(25))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

var (
	jarMu    sync.Mutex
	jarCache = map[string]string{}
)

// SleepAppJar compiles testdata/spark/java/SleepApp.java against home's
// jars into ~/.cache/recoverctl/sparktest (once per source and Spark home).
func SleepAppJar(t testing.TB, home string) string {
	t.Helper()
	jarMu.Lock()
	defer jarMu.Unlock()
	if j, ok := jarCache[home]; ok {
		return j
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "testdata/spark/java/SleepApp.java")
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(code, home...))
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "recoverctl", "sparktest")
	jar := filepath.Join(dir, "sleepapp-"+hex.EncodeToString(sum[:8])+".jar")
	if _, err := os.Stat(jar); err == nil {
		jarCache[home] = jar
		return jar
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	classes := t.TempDir()
	jdk := filepath.Dir(Java17())
	if out, err := exec.Command(filepath.Join(jdk, "javac"), "-nowarn", "--release", "17",
		"-cp", filepath.Join(home, "jars", "*"), "-d", classes, src).CombinedOutput(); err != nil {
		t.Fatalf("sparktest: javac SleepApp: %v\n%s", err, out)
	}
	tmp := jar + fmt.Sprintf(".%d.tmp", os.Getpid())
	if out, err := exec.Command(filepath.Join(jdk, "jar"), "cf", tmp, "-C", classes, ".").CombinedOutput(); err != nil {
		t.Fatalf("sparktest: jar SleepApp: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, jar); err != nil {
		t.Fatal(err)
	}
	jarCache[home] = jar
	return jar
}

// GPUDiscoveryScript is the discovery script of the fake "gpu" resource.
func GPUDiscoveryScript(t testing.TB) string {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testdata/spark/gpu-discovery.sh")
}

func sysProps(conf map[string]string) []string {
	var out []string
	for k, v := range conf {
		out = append(out, "-D"+k+"="+v)
	}
	return out
}

func confArgs(conf map[string]string) []string {
	var out []string
	for k, v := range conf {
		out = append(out, "--conf", k+"="+v)
	}
	return out
}

// lines counts the log lines matching re (e.g. how many times a Master
// deleted a record).
func lines(text string, re *regexp.Regexp) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if re.MatchString(sc.Text()) {
			out = append(out, sc.Text())
		}
	}
	return out
}
