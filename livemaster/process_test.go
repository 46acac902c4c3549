package livemaster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a stand-in Master (any long-running process
// whose argv names the Master class is one to the check) and as a checker
// run under another user.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("LIVEMASTER_TEST_FAKE_MASTER") == "1":
		if os.Getenv("LIVEMASTER_TEST_NODUMP") == "1" {
			// Non-dumpable: /proc/<pid>/environ and cwd become unreadable
			// to the same non-root user, as another user's process is.
			const prSetDumpable = 4
			if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0); errno != 0 {
				fmt.Fprintln(os.Stderr, "prctl:", errno)
				os.Exit(1)
			}
		}
		// Lives until the test closes stdin (or dies).
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	case os.Getenv("LIVEMASTER_TEST_CHECK") != "":
		res, err := CheckProcesses(os.Getenv("LIVEMASTER_TEST_CHECK"), "")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = json.NewEncoder(os.Stdout).Encode(res)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeMaster starts a process whose argv is "java" plus args, in cwd, with
// env, and returns its pid; it ends with the test, or before when stopped
// with stopFakes.
func fakeMaster(t *testing.T, cwd string, env []string, args ...string) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: exe, Args: append([]string{"java", "-Xmx64m", "-cp", "/opt/spark/conf/:/opt/spark/jars/*"}, args...),
		Dir: cwd, Env: append(env, "LIVEMASTER_TEST_FAKE_MASTER=1"), Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			stdin.Close()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	fakeStops.Store(cmd.Process.Pid, stop)
	return cmd.Process.Pid
}

var fakeStops sync.Map // pid -> func()

// stopFakes ends fake Masters at once. A fake whose directory cannot be
// worked out holds every directory for any recoverctl on this host (other
// packages' tests run beside these): it lives no longer than its check.
func stopFakes(pids ...int) {
	for _, pid := range pids {
		if stop, ok := fakeStops.LoadAndDelete(pid); ok {
			stop.(func())()
		}
	}
}

func holdersOf(res Result, pid int) []Holder {
	var out []Holder
	for _, h := range res.Holders {
		if h.PID == pid {
			out = append(out, h)
		}
	}
	return out
}

func writeFile(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Real processes configured as Spark configures a Master: only through a
// properties file, spark-defaults.conf found by SPARK_CONF_DIR or
// SPARK_HOME, relative paths resolved against the Master's cwd (never
// recoverctl's), and settings that cannot be read (fail closed).
func TestCheckRealProcesses(t *testing.T) {
	base := t.TempDir()
	recovery := filepath.Join(base, "recovery")
	other := filepath.Join(base, "other")
	for _, d := range []string{recovery, other, filepath.Join(base, "conf-dir-not-file")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	props := func(dir string) string {
		return "spark.deploy.recoveryMode=FILESYSTEM\nspark.deploy.recoveryDirectory = " + dir + "\n"
	}
	masterConf := writeFile(t, filepath.Join(base, "master.conf"), props(recovery))
	confDir := filepath.Dir(writeFile(t, filepath.Join(base, "conf", "spark-defaults.conf"), props(recovery)))
	home := filepath.Dir(filepath.Dir(writeFile(t, filepath.Join(base, "home", "conf", "spark-defaults.conf"), props(recovery))))
	// Relative to the Master's cwd (base): both the conf dir and the value.
	writeFile(t, filepath.Join(base, "relconf", "spark-defaults.conf"), "spark.deploy.recoveryDirectory\trecovery\n")
	writeFile(t, filepath.Join(base, "rel.conf"), "spark.deploy.recoveryDirectory: ./recovery/\n")
	otherConf := filepath.Dir(writeFile(t, filepath.Join(base, "otherconf", "spark-defaults.conf"), props(other)))
	noDirConf := filepath.Dir(writeFile(t, filepath.Join(base, "nodir", "spark-defaults.conf"), "spark.deploy.recoveryMode ZOOKEEPER\n"))
	gone := writeFile(t, filepath.Join(base, "gone.conf"), props(recovery))
	env := []string{"PATH=/usr/bin:/bin"}
	master := []string{masterClass, "--host", "127.0.0.1", "--port", "7077"}

	cases := []struct {
		name string
		cwd  string
		env  []string
		args []string
		want Kind // "" for no holder
		note bool
	}{
		{"--properties-file only", "/", env, append(master, "--properties-file", masterConf), KindProcess, false},
		{"spark-defaults.conf via SPARK_CONF_DIR only", "/", append(env, "SPARK_CONF_DIR="+confDir), master, KindProcess, false},
		{"spark-defaults.conf via SPARK_HOME only", "/", append(env, "SPARK_HOME="+home), master, KindProcess, false},
		{"relative SPARK_CONF_DIR and directory, other cwd", base, append(env, "SPARK_CONF_DIR=relconf"), master, KindProcess, false},
		{"relative --properties-file and directory, other cwd", base, env, append(master, "--properties-file", "rel.conf"), KindProcess, false},
		{"relative -D, other cwd", base, env, append([]string{"-Dspark.deploy.recoveryDirectory=recovery"}, master...), KindProcess, false},
		{"SPARK_CONF_DIR wins over SPARK_HOME", "/", append(env, "SPARK_CONF_DIR="+otherConf, "SPARK_HOME="+home), master, "", false},
		{"-D on the command line beats the properties file", "/", env,
			append([]string{"-Dspark.deploy.recoveryDirectory=" + other}, append(master, "--properties-file", masterConf)...), "", false},
		{"another directory", "/", append(env, "SPARK_CONF_DIR="+otherConf), master, "", false},
		{"no directory set", "/", append(env, "SPARK_CONF_DIR="+noDirConf), master, "", true},
		{"missing default file is skipped, as Spark skips it", "/", append(env, "SPARK_CONF_DIR="+filepath.Join(base, "none")), master, "", true},
		{"not a Master", "/", append(env, "SPARK_CONF_DIR="+confDir), []string{"org.apache.spark.deploy.worker.Worker", "spark://h:7077"}, "", false},
		{"--properties-file gone since start", "/", env, append(master, "--properties-file", gone), KindProcessUnresolved, false},
		{"--properties-file is a directory", "/", env, append(master, "--properties-file", filepath.Join(base, "conf-dir-not-file")), KindProcessUnresolved, false},
	}
	pids := make([]int, len(cases))
	for i, c := range cases {
		pids[i] = fakeMaster(t, c.cwd, c.env, c.args...)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	res, err := CheckProcesses(recovery, "")
	stopFakes(pids...)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		hs := holdersOf(res, pids[i])
		var got Kind
		if len(hs) == 1 {
			got = hs[0].Kind
		}
		if len(hs) > 1 || got != c.want {
			t.Errorf("%s (pid %d): holders %+v, want %q", c.name, pids[i], hs, c.want)
			continue
		}
		noted := false
		for _, n := range res.Notes {
			noted = noted || strings.Contains(n, fmt.Sprintf("process %d ", pids[i]))
		}
		if noted != c.note {
			t.Errorf("%s: noted %v, want %v (%q)", c.name, noted, c.note, res.Notes)
		}
		if c.want == KindProcessUnresolved {
			if d := hs[0].Detail; !strings.Contains(d, "cannot be worked out") || !strings.Contains(d, "properties-file") {
				t.Errorf("%s: reason %q", c.name, d)
			}
			if !strings.Contains(res.Err().Error(), fmt.Sprint(pids[i])) || !res.Live() {
				t.Errorf("%s: Err() %v", c.name, res.Err())
			}
		}
		if len(hs) == 1 {
			t.Logf("%s: %s", c.name, hs[0].Detail)
		}
	}
}

// A Master process whose environment and working directory this user
// cannot read (another user's, or one that is not dumpable) may hold any
// directory: the check fails closed and says why.
func TestCheckUnreadableMasterFailsClosed(t *testing.T) {
	base := t.TempDir()
	recovery := filepath.Join(base, "recovery")
	confDir := filepath.Dir(writeFile(t, filepath.Join(base, "conf", "spark-defaults.conf"),
		"spark.deploy.recoveryDirectory "+filepath.Join(base, "elsewhere")+"\n"))
	env := []string{"PATH=/usr/bin:/bin", "SPARK_CONF_DIR=" + confDir}
	var res Result
	var pid int
	if os.Geteuid() == 0 {
		// Root reads every process; the check runs as nobody instead,
		// against a Master run by root.
		pid = fakeMaster(t, "/", env, masterClass)
		res = checkAsNobody(t, recovery)
		// Control: readable, the same Master is resolved and holds
		// nothing of ours.
		own, err := CheckProcesses(recovery, "")
		if err != nil || len(holdersOf(own, pid)) != 0 {
			t.Fatalf("readable: %+v %v", holdersOf(own, pid), err)
		}
	} else {
		pid = fakeMaster(t, "/", append(env, "LIVEMASTER_TEST_NODUMP=1"), masterClass)
		var err error
		// prctl runs just after exec: wait until the process took it.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err = os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err != nil {
				break
			}
		}
		res, err = CheckProcesses(recovery, "")
		stopFakes(pid)
		if err != nil {
			t.Fatal(err)
		}
	}
	hs := holdersOf(res, pid)
	if len(hs) != 1 || hs[0].Kind != KindProcessUnresolved {
		t.Fatalf("holders of pid %d: %+v (all: %+v)", pid, hs, res)
	}
	if d := hs[0].Detail; !strings.Contains(d, "read its environment") || !strings.Contains(d, "permission denied") || !strings.Contains(d, recovery) {
		t.Errorf("reason %q", d)
	}
	t.Log(hs[0].Detail)
}

// checkAsNobody runs CheckProcesses(dir) in a copy of the test binary as
// uid/gid 65534.
func checkAsNobody(t *testing.T, dir string) Result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	binDir, err := os.MkdirTemp("", "livemaster-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	bin := filepath.Join(binDir, "check")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LIVEMASTER_TEST_CHECK=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("check as nobody: %v: %s", err, stderr.String())
	}
	var res Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return res
}

// A --master address that accepts the connection and then says nothing
// (a stopped or wedged Master) counts as live, within the timeout; so does
// one that starts an answer and never ends it. Only a refused address is
// no Master.
func TestCheckAddressAcceptsButNeverAnswers(t *testing.T) {
	listen := func(t *testing.T, serve func(net.Conn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		var mu sync.Mutex
		var conns []net.Conn
		t.Cleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				go serve(c)
			}
		}()
		return ln.Addr().String()
	}
	silent := listen(t, func(net.Conn) {})
	halfAnswer := listen(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"status\":")
	})
	const timeout = 700 * time.Millisecond
	for _, c := range []struct{ addr, want string }{
		{silent, "did not answer within"},
		{"http://" + silent, "did not answer within"},
		{"spark://" + silent, "accepts connections"},
		{halfAnswer, "did not finish it within"},
	} {
		start := time.Now()
		res, err := CheckAddress(context.Background(), c.addr, DirOptions{Timeout: timeout})
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Holders) != 1 || res.Holders[0].Kind != KindRPC || !strings.Contains(res.Holders[0].Detail, c.want) {
			t.Errorf("%s: %+v, want a live holder saying %q", c.addr, res, c.want)
		}
		if took > timeout+500*time.Millisecond {
			t.Errorf("%s: took %s with a %s timeout", c.addr, took, timeout)
		}
		t.Logf("%s: %s after %s", c.addr, res.Err(), took.Round(time.Millisecond))
	}
	// A port nobody listens on: no Master.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	res, err := CheckAddress(context.Background(), closed, DirOptions{Timeout: timeout})
	if err != nil || res.Live() || len(res.Notes) != 1 {
		t.Errorf("closed port: %+v %v", res, err)
	}
}
