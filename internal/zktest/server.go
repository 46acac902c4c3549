// Package zktest runs real ZooKeeper servers (Debian's zookeeper package, or
// any jar set given by environment) on loopback for tests, benchmarks and
// local tools. It is not a ZooKeeper fake: the point is that store/zk is
// exercised against the server Spark's Masters talk to.
//
// Environment:
//
//	RECOVERCTL_ZK_JAVA       java binary (default: $JAVA_HOME/bin/java, else "java" on PATH)
//	RECOVERCTL_ZK_CLASSPATH  classpath holding ZooKeeper and an slf4j binding
//	RECOVERCTL_ZK_JVM_OPTS   extra JVM options, after the defaults (e.g. "-Xmx4g -XX:TieredStopAtLevel=4" for benchmarks)
//	                         (default: /usr/share/java/zookeeper.jar, whose manifest
//	                         names its dependency jars, plus slf4j-simple.jar when present)
//	CI=true                  Start and StartEnsemble fail instead of skipping
//	                         when no server can be started.
package zktest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults for the Debian zookeeper package. zookeeper.jar's manifest
// Class-Path lists its dependencies, so the jar alone is a complete server
// except for a logging binding; slf4j-simple writes to stderr, which we
// capture into the log file.
const (
	debianJar      = "/usr/share/java/zookeeper.jar"
	debianSLF4J    = "/usr/share/java/slf4j-simple.jar"
	envJava        = "RECOVERCTL_ZK_JAVA"
	envClasspath   = "RECOVERCTL_ZK_CLASSPATH"
	envJVMOpts     = "RECOVERCTL_ZK_JVM_OPTS"
	startupTimeout = 30 * time.Second
	stopGrace      = 3 * time.Second
)

// ErrNoJava means the java binary or the ZooKeeper jars are missing; Start
// turns it into a skip outside CI.
var ErrNoJava = errors.New("zookeeper server runtime not found")

// StartError is a server that was launched but never served; it carries the
// tail of the server log because that is where the reason is.
type StartError struct {
	Addr    string
	Reason  string
	LogPath string
	LogTail string
}

func (e *StartError) Error() string {
	return fmt.Sprintf("zookeeper at %s did not start: %s (log %s):\n%s", e.Addr, e.Reason, e.LogPath, e.LogTail)
}

// runtime is the java binary and classpath used to launch servers.
type runtime struct {
	java      string
	classpath string
}

func findRuntime() (runtime, error) {
	java := os.Getenv(envJava)
	if java == "" {
		if home := os.Getenv("JAVA_HOME"); home != "" {
			java = filepath.Join(home, "bin", "java")
		} else {
			java = "java"
		}
	}
	path, err := exec.LookPath(java)
	if err != nil {
		return runtime{}, fmt.Errorf("%w: java binary %q: %v (set %s)", ErrNoJava, java, err, envJava)
	}
	cp := os.Getenv(envClasspath)
	if cp == "" {
		if _, err := os.Stat(debianJar); err != nil {
			return runtime{}, fmt.Errorf("%w: %v (install Debian's zookeeper package or set %s)", ErrNoJava, err, envClasspath)
		}
		cp = debianJar
		if _, err := os.Stat(debianSLF4J); err == nil {
			cp += string(os.PathListSeparator) + debianSLF4J
		}
	}
	return runtime{java: path, classpath: cp}, nil
}

// Server is one ZooKeeper process: standalone, or a member of an Ensemble.
type Server struct {
	rt       runtime
	dir      string
	cfgPath  string
	logPath  string
	mainCls  string
	host     string
	port     int
	quorum   bool
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	exitErr  error
	stopping bool
	tlsMat   *TLSMaterial // set: clients are served TLS on port, only
	jvmExtra []string
}

// OldRelease is a ZooKeeper release from before multiRead (3.6), for tests
// of what recoverctl does on such servers; scripts/setup.sh caches its
// jars from Maven Central.
const OldRelease = "3.5.10"

// releaseRuntime is the runtime of a release whose jars scripts/setup.sh
// put in ${XDG_CACHE_HOME:-~/.cache}/recoverctl/zookeeper-<release>, with
// Debian's SLF4J (the jars from Maven Central do not list dependencies).
func releaseRuntime(release string) (runtime, error) {
	rt, err := findRuntime()
	if err != nil {
		return runtime{}, err
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return runtime{}, fmt.Errorf("%w: %v", ErrNoJava, err)
		}
		cache = filepath.Join(home, ".cache")
	}
	dir := filepath.Join(cache, "recoverctl", "zookeeper-"+release)
	var cp []string
	for _, jar := range []string{"zookeeper-" + release + ".jar", "zookeeper-jute-" + release + ".jar"} {
		p := filepath.Join(dir, jar)
		if _, err := os.Stat(p); err != nil {
			return runtime{}, fmt.Errorf("%w: ZooKeeper %s: %v (scripts/setup.sh fetches it)", ErrNoJava, release, err)
		}
		cp = append(cp, p)
	}
	for _, jar := range []string{"/usr/share/java/slf4j-api.jar", debianSLF4J} {
		if _, err := os.Stat(jar); err != nil {
			return runtime{}, fmt.Errorf("%w: %v (install Debian's zookeeper package)", ErrNoJava, err)
		}
		cp = append(cp, jar)
	}
	rt.classpath = strings.Join(cp, string(os.PathListSeparator))
	return rt, nil
}

// StartServer starts a standalone server whose config, data and log live in
// dir (created if missing) on a free loopback port, and waits until it
// serves. The caller must Stop it.
func StartServer(dir string) (*Server, error) {
	rt, err := findRuntime()
	if err != nil {
		return nil, err
	}
	return startStandalone(rt, dir)
}

// StartReleaseServer is StartServer with another ZooKeeper release (see
// OldRelease).
func StartReleaseServer(dir, release string) (*Server, error) {
	rt, err := releaseRuntime(release)
	if err != nil {
		return nil, err
	}
	return startStandalone(rt, dir)
}

func startStandalone(rt runtime, dir string) (*Server, error) {
	return startStandaloneWith(rt, dir, func(*Server) {})
}

func startStandaloneWith(rt runtime, dir string, setup func(*Server)) (*Server, error) {
	var last error
	// A port picked free can be taken before the JVM binds it (other
	// engineers' servers start concurrently), so retry with fresh ports.
	for attempt := 0; attempt < 3; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		s := &Server{rt: rt, dir: dir, host: "127.0.0.1", port: ports[0],
			mainCls: "org.apache.zookeeper.server.ZooKeeperServerMain"}
		setup(s)
		if err := s.writeConfig(nil, 0); err != nil {
			return nil, err
		}
		if err := s.start(); err != nil {
			return nil, err
		}
		if err := s.waitServing(s.startupTimeout()); err != nil {
			_ = s.Stop()
			last = err
			var se *StartError
			if errors.As(err, &se) && strings.Contains(se.LogTail, "Address already in use") {
				continue
			}
			return nil, err
		}
		return s, nil
	}
	return nil, last
}

func (s *Server) startupTimeout() time.Duration {
	if s.tlsMat != nil {
		return 2 * startupTimeout
	}
	return startupTimeout
}

// Addr is the client address, "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Dir is the directory holding the server's config, data and log.
func (s *Server) Dir() string { return s.dir }

// LogPath is the file receiving the server's stdout and stderr.
func (s *Server) LogPath() string { return s.logPath }

// writeConfig writes zoo.cfg. members and myid are set for quorum members.
// forceSync=no trades durability across host crashes (irrelevant for a test
// server) for commit latency; the admin server is off because it binds 8080.
func (s *Server) writeConfig(members []string, myid int) error {
	data := filepath.Join(s.dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("zktest: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "tickTime=500\ninitLimit=20\nsyncLimit=10\n")
	fmt.Fprintf(&b, "dataDir=%s\n", data)
	if s.tlsMat != nil {
		fmt.Fprintf(&b, "secureClientPort=%d\nsecureClientPortAddress=%s\n", s.port, s.host)
	} else {
		fmt.Fprintf(&b, "clientPort=%d\nclientPortAddress=%s\n", s.port, s.host)
	}
	b.WriteString("admin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\nforceSync=no\n")
	b.WriteString("maxSessionTimeout=60000\nminSessionTimeout=1000\n")
	if len(members) > 0 {
		s.quorum = true
		b.WriteString("standaloneEnabled=false\nreconfigEnabled=false\ncnxTimeout=500\n")
		for _, m := range members {
			b.WriteString(m + "\n")
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(myid)+"\n"), 0o644); err != nil {
			return fmt.Errorf("zktest: %w", err)
		}
	}
	s.cfgPath = filepath.Join(s.dir, "zoo.cfg")
	s.logPath = filepath.Join(s.dir, "zookeeper.log")
	if err := os.WriteFile(s.cfgPath, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("zktest: %w", err)
	}
	return nil
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("zktest: server %s already running", s.Addr())
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("zktest: %w", err)
	}
	// Client-1 JIT and a small serial heap start the JVM in well under a
	// second; the server needs nothing more for tests. Benchmarks holding
	// 100,000 records want a larger heap and the full JIT: their options,
	// from RECOVERCTL_ZK_JVM_OPTS, come later and so win.
	args := []string{"-Xms32m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.net.preferIPv4Stack=true",
		"-Dzookeeper.admin.enableServer=false",
		"-Dorg.slf4j.simpleLogger.showDateTime=true"}
	args = append(args, s.jvmExtra...)
	args = append(args, strings.Fields(os.Getenv(envJVMOpts))...)
	args = append(args, "-cp", s.rt.classpath, s.mainCls, s.cfgPath)
	cmd := exec.Command(s.rt.java, args...)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// If the test binary dies (go test -timeout, a crash) no Cleanup runs;
	// the kernel then kills the server instead of leaving it holding ports.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("zktest: starting %s: %w", s.rt.java, err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited, s.stopping = cmd, exited, false
	go func() {
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		s.exitErr = err
		s.mu.Unlock()
		close(exited)
	}()
	return nil
}

// waitServing polls the srvr four-letter word: it answers with a Mode line
// only once the server (or its quorum) serves clients.
func (s *Server) waitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	for {
		mode, _ := s.Mode()
		if mode != "" {
			return nil
		}
		select {
		case <-exited:
			s.mu.Lock()
			err := s.exitErr
			s.mu.Unlock()
			return &StartError{Addr: s.Addr(), Reason: fmt.Sprintf("process exited: %v", err), LogPath: s.logPath, LogTail: s.LogTail(30)}
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return &StartError{Addr: s.Addr(), Reason: fmt.Sprintf("not serving after %s", timeout), LogPath: s.logPath, LogTail: s.LogTail(30)}
		}
	}
}

// Mode returns the server's role ("standalone", "leader", "follower") from
// srvr, or "" when it does not serve clients.
func (s *Server) Mode() (string, error) {
	timeout := time.Second
	if s.tlsMat != nil {
		// A JVM's first TLS handshakes are slow, and slower on a loaded host.
		timeout = 5 * time.Second
	}
	out, err := s.FourLetter("srvr", timeout)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(m), nil
		}
	}
	return "", nil
}

// FourLetterWord sends one ZooKeeper four-letter command and returns the reply.
func FourLetterWord(addr, cmd string, timeout time.Duration) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(c)
	return buf.Bytes(), err
}

// Running reports whether the process is alive.
// Pid is the server JVM's process id, 0 when it is not running (the
// benchmarks read its CPU time from /proc).
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Stop terminates the server (SIGTERM, then SIGKILL after a grace period)
// and waits for it to exit. Stopping a stopped server is a no-op. Data stays
// in Dir so Restart finds it.
func (s *Server) Stop() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.stopping = true
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopGrace):
		_ = cmd.Process.Kill()
		<-exited
	}
	s.mu.Lock()
	s.cmd = nil
	s.mu.Unlock()
	return nil
}

// Restart stops the server and starts it again on the same port with the
// same data; for a quorum member it waits until the member serves again.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.startAndWait()
}

func (s *Server) startAndWait() error {
	if err := s.start(); err != nil {
		return err
	}
	if err := s.waitServing(s.startupTimeout()); err != nil {
		_ = s.Stop()
		return err
	}
	return nil
}

// LogTail returns the last n lines of the server log.
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts asks the kernel for n distinct free loopback ports. Listeners are
// held until all are chosen so the same port is not returned twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("zktest: picking a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
