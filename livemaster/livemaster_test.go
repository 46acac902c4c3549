package livemaster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store/zk"
)

// fakeProc builds a /proc-shaped directory: pid -> cmdline args, environ.
func fakeProc(t *testing.T, procs map[int][2][]string) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		d := filepath.Join(root, fmt.Sprint(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "cmdline"), []byte(strings.Join(p[0], "\x00")+"\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
		if p[1] != nil {
			if err := os.WriteFile(filepath.Join(d, "environ"), []byte(strings.Join(p[1], "\x00")+"\x00"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Entries that are not processes must be ignored.
	_ = os.MkdirAll(filepath.Join(root, "sys"), 0o755)
	_ = os.WriteFile(filepath.Join(root, "uptime"), []byte("1 1\n"), 0o644)
	return root
}

func java(extra ...string) []string {
	args := []string{"/usr/lib/jvm/java-17/bin/java", "-cp", "/opt/spark/conf/:/opt/spark/jars/*", "-Xmx1g"}
	return append(append(args, extra...), masterClass, "--host", "h1", "--port", "7077", "--webui-port", "8080")
}

func TestCheckProcesses(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		procs map[int][2][]string
		want  []int // pids found holding dir
		notes int
	}{
		{"none", map[int][2][]string{1: {{"/sbin/init"}, nil}}, nil, 0},
		{"cmdline", map[int][2][]string{42: {java("-Dspark.deploy.recoveryMode=FILESYSTEM", dirProperty+dir), nil}}, []int{42}, 0},
		{"trailing slash and symlink", map[int][2][]string{7: {java(dirProperty + link + "/"), nil}}, []int{7}, 0},
		{"other directory", map[int][2][]string{9: {java(dirProperty + other), nil}}, nil, 0},
		{"SPARK_MASTER_OPTS in environ", map[int][2][]string{
			11: {java(), []string{"HOME=/root", `SPARK_MASTER_OPTS=-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory="` + dir + `"`}},
		}, []int{11}, 0},
		{"SPARK_DAEMON_JAVA_OPTS in environ", map[int][2][]string{
			12: {java(), []string{"SPARK_DAEMON_JAVA_OPTS=-Dx=1 " + dirProperty + dir}},
		}, []int{12}, 0},
		{"JAVA_TOOL_OPTIONS in environ", map[int][2][]string{
			16: {java(), []string{"JAVA_TOOL_OPTIONS=-Xss1m " + dirProperty + dir}},
		}, []int{16}, 0},
		{"JDK_JAVA_OPTIONS in environ beats spark-defaults.conf", map[int][2][]string{
			17: {java(), []string{"JDK_JAVA_OPTIONS=" + dirProperty + dir, "SPARK_CONF_DIR=/nonexistent"}},
		}, []int{17}, 0},
		{"options in one argument (sh -c)", map[int][2][]string{
			13: {{"/bin/sh", "-c", "exec java -cp x " + dirProperty + dir + " " + masterClass}, nil},
		}, []int{13}, 0},
		{"not a Master", map[int][2][]string{
			14: {{"java", dirProperty + dir, "org.apache.spark.deploy.worker.Worker"}, nil},
		}, nil, 0},
		{"Master without a directory", map[int][2][]string{15: {java(), []string{"PATH=/bin"}}}, nil, 1},
		{"two Masters", map[int][2][]string{
			20: {java(dirProperty + dir), nil},
			21: {java(dirProperty + other), nil},
			22: {java(dirProperty + dir), nil},
		}, []int{20, 22}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := CheckProcesses(dir, fakeProc(t, c.procs))
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, h := range res.Holders {
				if h.Kind != KindProcess {
					t.Errorf("kind %s", h.Kind)
				}
				got = append(got, h.PID)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("pids %v, want %v (%+v)", got, c.want, res)
			}
			if len(res.Notes) != c.notes {
				t.Errorf("notes %q, want %d", res.Notes, c.notes)
			}
			if (len(c.want) > 0) != errors.Is(res.Err(), ErrLiveMaster) {
				t.Errorf("Err() = %v", res.Err())
			}
		})
	}
}

// The real /proc of this host holds no Master for a fresh directory; the
// scan must work on it (unreadable entries skipped).
func TestCheckProcessesRealProc(t *testing.T) {
	res, err := CheckProcesses(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	// No Master names a directory made just now. (A Master of some other
	// test on this host whose settings cannot be read would hold it, fail
	// closed; that is not this check's business.)
	for _, h := range res.Holders {
		if h.Kind != KindProcessUnresolved {
			t.Fatalf("live Master on a fresh temp dir: %+v", res)
		}
		t.Logf("elsewhere on this host: %s", h.Detail)
	}
}

func TestCheckAddressWebUI(t *testing.T) {
	status := "ALIVE"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/json" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"url":"spark://h1:7077","workers":[],"status":%q}`, status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, st := range []string{"ALIVE", "STANDBY", "RECOVERING", "COMPLETING_RECOVERY"} {
		status = st
		for _, a := range []string{addr, srv.URL} {
			res, err := CheckAddress(context.Background(), a, DirOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Holders) != 1 || res.Holders[0].Kind != KindWebUI || res.Holders[0].Status != st {
				t.Fatalf("%s %s: %+v", a, st, res)
			}
			if !strings.Contains(res.Err().Error(), "Master "+st) || !errors.Is(res.Err(), ErrLiveMaster) {
				t.Errorf("Err() = %v", res.Err())
			}
		}
	}
	status = "UNKNOWN"
	res, err := CheckAddress(context.Background(), addr, DirOptions{})
	if err != nil || res.Live() || len(res.Notes) != 1 {
		t.Fatalf("unknown status: %+v %v", res, err)
	}
}

func TestCheckAddressNotAMaster(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"hello":"world"}`)
	}))
	defer srv.Close()
	res, err := CheckAddress(context.Background(), srv.URL, DirOptions{})
	if err != nil || res.Live() {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestCheckAddressRPCAndNothing(t *testing.T) {
	// A port that accepts and says nothing HTTP, like Spark's RPC port
	// (it waits for its own protocol and closes on garbage).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	for _, a := range []string{"spark://" + addr, addr} {
		res, err := CheckAddress(context.Background(), a, DirOptions{Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Holders) != 1 || res.Holders[0].Kind != KindRPC {
			t.Fatalf("%s: %+v", a, res)
		}
	}
	ln.Close()
	// Closed port: nothing there, a note.
	for _, a := range []string{"spark://" + addr, addr} {
		res, err := CheckAddress(context.Background(), a, DirOptions{Timeout: 2 * time.Second})
		if err != nil || res.Live() || len(res.Notes) != 1 {
			t.Fatalf("%s closed: %+v %v", a, res, err)
		}
	}
	if _, err := CheckAddress(context.Background(), "ftp://x:1", DirOptions{}); err == nil {
		t.Error("ftp:// accepted")
	}
	if _, err := CheckAddress(context.Background(), "nohostport", DirOptions{}); err == nil {
		t.Error("address without port accepted")
	}
}

func TestCheckDirCombines(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"STANDBY"}`)
	}))
	defer srv.Close()
	proc := fakeProc(t, map[int][2][]string{5: {java(dirProperty + dir), nil}})
	res, err := CheckDir(context.Background(), dir, DirOptions{Master: srv.URL, ProcRoot: proc})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Holders) != 2 || len(res.Checked) != 2 {
		t.Fatalf("%+v", res)
	}
}

// A real ZooKeeper with latch nodes made the way Curator's LeaderLatch
// makes them: protected ephemeral sequential children of leader_election.
func TestCheckZK(t *testing.T) {
	srv := zktest.Start(t)
	ctx := context.Background()
	st, err := zk.Open(ctx, zk.Options{Servers: srv.Addr(), SparkDir: "/spark"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	res, err := CheckZK(ctx, st)
	if err != nil || res.Live() {
		t.Fatalf("no election yet: %+v %v", res, err)
	}

	masters := make([]*gozk.Conn, 2)
	for i := range masters {
		c, _, err := gozk.Connect([]string{srv.Addr()}, 10*time.Second, gozk.WithLogInfo(false), gozk.WithLogger(quiet{}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		masters[i] = c
		for _, p := range []string{"/spark", "/spark/leader_election"} {
			if _, err := c.Create(p, nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil && !errors.Is(err, gozk.ErrNodeExists) {
				t.Fatal(err)
			}
		}
		if _, err := c.CreateProtectedEphemeralSequential("/spark/leader_election/latch-", nil, gozk.WorldACL(gozk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	res, err = CheckZK(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Holders) != 2 || !res.Holders[0].Leader || res.Holders[1].Leader {
		t.Fatalf("%+v", res)
	}
	if res.Holders[0].Since.IsZero() || time.Since(res.Holders[0].Since) > time.Minute {
		t.Errorf("since %v", res.Holders[0].Since)
	}
	if msg := res.Err().Error(); !strings.Contains(msg, "leader") || !strings.Contains(msg, "standby") {
		t.Errorf("Err() = %q", msg)
	}

	// The leader's session ends: its latch node goes, the standby leads.
	masters[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err = CheckZK(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Holders) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader's latch still there: %+v", res)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !res.Holders[0].Leader {
		t.Errorf("standby did not become leader: %+v", res)
	}
	masters[1].Close()
	for deadline = time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, err = CheckZK(ctx, st); err == nil && !res.Live() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("latch nodes remain: %+v %v", res, err)
		}
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// FuzzProcessArgs feeds arbitrary /proc cmdline and environ bytes through
// what the process check makes of them: nothing may panic, and every
// directory found must come from the input.
func FuzzProcessArgs(f *testing.F) {
	f.Add("java\x00-cp\x00x\x00"+dirProperty+"/a\x00"+masterClass+"\x00--properties-file\x00p.conf\x00",
		"SPARK_CONF_DIR=conf\x00SPARK_MASTER_OPTS='"+dirProperty+"/b c'\x00")
	f.Add("/bin/sh\x00-c\x00exec java \""+dirProperty+"/x y\" "+masterClass+"\x00", "JAVA_TOOL_OPTIONS=\x00=\x00")
	f.Fuzz(func(t *testing.T, cmdline, environ string) {
		args := flatten(strings.Split(strings.TrimRight(cmdline, "\x00"), "\x00"))
		env := map[string]string{}
		for _, kv := range strings.Split(environ, "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		var vals []string
		vals = append(vals, optionValues(args)...)
		for _, name := range append(slices.Clone(sysPropVars), launcherVars...) {
			vals = append(vals, optionValues(splitOpts(env[name]))...)
		}
		for _, v := range vals {
			// Quoting only removes bytes: what is found is the input's
			// bytes in order, byte for byte (no rune ever rewritten).
			if !subsequence(v, cmdline) && !subsequence(v, environ) {
				t.Fatalf("directory %q from nowhere", v)
			}
		}
		_, _, _ = propertiesFile(args, env)
	})
}

// subsequence reports whether the bytes of sub appear in s in order.
func subsequence(sub, s string) bool {
	i := 0
	for j := 0; i < len(sub) && j < len(s); j++ {
		if sub[i] == s[j] {
			i++
		}
	}
	return i == len(sub)
}
