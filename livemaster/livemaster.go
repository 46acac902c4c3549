// Package livemaster decides whether a running Spark standalone Master holds
// a recovery store, so that commands that write to a store (restore,
// migrate, prune) can refuse to change state under a Master's feet.
//
// What counts as "live":
//
//   - ZooKeeper store: any participant in Spark's leader election
//     (<spark.deploy.zookeeper.dir>/leader_election, Curator's LeaderLatch).
//     Each participant is an ephemeral znode owned by a Master's session, so
//     its presence is proof that a Master process is connected right now;
//     CheckZK says which one leads and since when.
//   - Directory store: a Master answering at a --master address, checked as
//     its web UI's /json (a "status" of ALIVE, RECOVERING,
//     COMPLETING_RECOVERY or STANDBY); an address that accepts a TCP
//     connection but does not speak HTTP is taken to be the Master's RPC
//     port (spark://host:7077) and counts as live too. And, on this host, a
//     java process whose command line names
//     org.apache.spark.deploy.master.Master with
//     -Dspark.deploy.recoveryDirectory=<the same directory>, found in
//     /proc/<pid>/cmdline, or in the SPARK_MASTER_OPTS,
//     SPARK_DAEMON_JAVA_OPTS or JAVA_TOOL_OPTIONS of its environment
//     (/proc/<pid>/environ), which is where spark-daemon.sh leaves them.
//
// It is not a lock against Spark: a Master started after the check is not
// seen. Two recoverctl writers are kept apart by LockDir, an advisory
// flock(2) on the directory itself. Nothing here prints; results are
// values the command reports.
package livemaster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recoverctl/recoverctl/store"
)

// ErrLiveMaster means a running Master holds the store. Commands refuse to
// write when a check returns it, unless the user passes --force.
var ErrLiveMaster = errors.New("a live Spark Master holds the store")

// Kind says how a holder was found.
type Kind string

const (
	KindElection Kind = "zookeeper-election" // a leader_election participant
	KindWebUI    Kind = "master-web-ui"      // /json answered with a Master status
	KindRPC      Kind = "master-rpc"         // the address accepts connections, not HTTP
	KindProcess  Kind = "local-process"      // a Master java process on this host
)

// Holder is one piece of evidence that a Master is running.
type Holder struct {
	Kind   Kind      `json:"kind"`
	Leader bool      `json:"leader,omitempty"` // the election's leader
	Since  time.Time `json:"since,omitzero"`   // when it joined the election
	Node   string    `json:"node,omitempty"`   // latch znode name
	Addr   string    `json:"address,omitempty"`
	Status string    `json:"status,omitempty"` // Master /json status
	PID    int       `json:"pid,omitempty"`
	Detail string    `json:"detail"` // one line for people
}

// Result is what a check found. Checked lists what was looked at, so that a
// "no Master" answer says how far it goes.
type Result struct {
	Holders []Holder `json:"holders"`
	Checked []string `json:"checked"`
	// Notes are things seen that are not proof of a live Master (an
	// unreachable --master address, a Master process whose recovery
	// directory could not be read).
	Notes []string `json:"notes,omitempty"`
}

// Live reports whether any holder was found.
func (r Result) Live() bool { return len(r.Holders) > 0 }

// Err returns nil when no Master was found, else an error wrapping
// ErrLiveMaster that names the holders.
func (r Result) Err() error {
	if !r.Live() {
		return nil
	}
	var parts []string
	for _, h := range r.Holders {
		parts = append(parts, h.Detail)
	}
	return fmt.Errorf("%w: %s", ErrLiveMaster, strings.Join(parts, "; "))
}

func (r *Result) merge(o Result) {
	r.Holders = append(r.Holders, o.Holders...)
	r.Checked = append(r.Checked, o.Checked...)
	r.Notes = append(r.Notes, o.Notes...)
}

// Elector is what CheckZK needs of a ZooKeeper store; *zk.Store has it.
type Elector interface {
	Leaders(ctx context.Context) ([]store.Participant, error)
}

// CheckZK reads Spark's leader election. Every participant is a connected
// Master; the one with the lowest latch sequence leads.
func CheckZK(ctx context.Context, e Elector) (Result, error) {
	ps, err := e.Leaders(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("check for a live Master: %w", err)
	}
	res := Result{Checked: []string{"zookeeper leader_election participants"}}
	for _, p := range ps {
		h := Holder{Kind: KindElection, Leader: p.Leader, Since: p.Created, Node: p.Node}
		role := "standby"
		if p.Leader {
			role = "leader"
		}
		h.Detail = fmt.Sprintf("Master %s in leader election (session 0x%x, joined %s)",
			role, p.Session, p.Created.UTC().Format(time.RFC3339))
		res.Holders = append(res.Holders, h)
	}
	return res, nil
}

// DirOptions configure CheckDir.
type DirOptions struct {
	// Master is a Master's address: "host:port" or "http://host:port" for
	// its web UI, "spark://host:port" for its RPC port. Empty skips the
	// network check.
	Master string
	// ProcRoot is where the process table is read; "" means /proc. Tests
	// hand in a directory shaped like it.
	ProcRoot string
	// Timeout bounds the network check; 0 means 3 s.
	Timeout time.Duration
	// HTTPClient is used for /json; nil means a client with Timeout.
	HTTPClient *http.Client
}

// CheckDir looks for a Master using the recovery directory dir: at
// opts.Master if given, and among this host's processes.
func CheckDir(ctx context.Context, dir string, opts DirOptions) (Result, error) {
	var res Result
	if opts.Master != "" {
		r, err := CheckAddress(ctx, opts.Master, opts)
		if err != nil {
			return res, err
		}
		res.merge(r)
	}
	r, err := CheckProcesses(dir, opts.ProcRoot)
	if err != nil {
		return res, err
	}
	res.merge(r)
	return res, nil
}

// masterStatuses are Spark's RecoveryState values; any of them is a running
// Master.
var masterStatuses = []string{"ALIVE", "STANDBY", "RECOVERING", "COMPLETING_RECOVERY"}

// CheckAddress asks the Master at addr. An http address (or a bare
// host:port) is asked for /json; a Master status there is live. If the
// address accepts connections but does not answer HTTP, it is taken as the
// Master's RPC port and counts as live. A spark:// address is only
// connected to. An address that refuses connections or times out is a
// note, not a holder.
func CheckAddress(ctx context.Context, addr string, opts DirOptions) (Result, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	var res Result
	hostport, rpcOnly := addr, false
	switch {
	case strings.HasPrefix(addr, "spark://"):
		hostport, rpcOnly = strings.TrimPrefix(addr, "spark://"), true
	case strings.HasPrefix(addr, "http://"):
		hostport = strings.TrimPrefix(addr, "http://")
	case strings.Contains(addr, "://"):
		return res, fmt.Errorf("--master %q: want host:port, http://host:port or spark://host:port", addr)
	}
	hostport = strings.TrimSuffix(hostport, "/")
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		return res, fmt.Errorf("--master %q: %w", addr, err)
	}
	if rpcOnly {
		res.Checked = append(res.Checked, "Master RPC port "+hostport+" (TCP connect)")
		if ok, err := tcpAccepts(ctx, hostport, timeout); ok {
			res.Holders = append(res.Holders, Holder{Kind: KindRPC, Addr: hostport,
				Detail: "Master RPC port " + hostport + " accepts connections"})
		} else {
			res.Notes = append(res.Notes, fmt.Sprintf("no Master at %s: %v", hostport, err))
		}
		return res, nil
	}
	res.Checked = append(res.Checked, "Master web UI http://"+hostport+"/json")
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, "http://"+hostport+"/json", nil)
	if err != nil {
		return res, fmt.Errorf("--master %q: %w", addr, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// Refused or silent: nothing there. Accepted but not HTTP: an RPC
		// port, which only a running Master (or something else) keeps open.
		if ok, _ := tcpAccepts(ctx, hostport, timeout); ok && !isTimeout(err) {
			res.Holders = append(res.Holders, Holder{Kind: KindRPC, Addr: hostport,
				Detail: fmt.Sprintf("%s accepts connections but does not answer HTTP (a Master RPC port?)", hostport)})
			return res, nil
		}
		res.Notes = append(res.Notes, fmt.Sprintf("no Master answering at %s: %v", hostport, err))
		return res, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	var doc struct {
		URL    string `json:"url"`
		Status string `json:"status"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil || doc.Status == "" {
		res.Notes = append(res.Notes, fmt.Sprintf("%s answers HTTP %d but not as a Spark Master /json", hostport, resp.StatusCode))
		return res, nil
	}
	if !slices.Contains(masterStatuses, doc.Status) {
		res.Notes = append(res.Notes, fmt.Sprintf("Master at %s reports status %q", hostport, doc.Status))
		return res, nil
	}
	detail := fmt.Sprintf("Master %s at %s", doc.Status, hostport)
	if doc.URL != "" {
		detail += " (" + doc.URL + ")"
	}
	res.Holders = append(res.Holders, Holder{Kind: KindWebUI, Addr: hostport, Status: doc.Status,
		Leader: doc.Status == "ALIVE", Detail: detail})
	return res, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func tcpAccepts(ctx context.Context, hostport string, timeout time.Duration) (bool, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return false, err
	}
	c.Close()
	return true, nil
}

const (
	masterClass = "org.apache.spark.deploy.master.Master"
	dirProperty = "-Dspark.deploy.recoveryDirectory="
)

// optsVars are the environment variables whose -D options end up on a
// Master's java command line (spark-daemon.sh / spark-class) or are read
// by the JVM itself.
var optsVars = []string{"SPARK_MASTER_OPTS", "SPARK_DAEMON_JAVA_OPTS", "JAVA_TOOL_OPTIONS"}

// CheckProcesses scans procRoot (default /proc) for a Master java process
// whose recovery directory is dir. Processes that cannot be read (another
// user's, gone meanwhile) are skipped.
func CheckProcesses(dir, procRoot string) (Result, error) {
	if procRoot == "" {
		procRoot = "/proc"
	}
	res := Result{Checked: []string{"local Master processes (" + procRoot + "/*/cmdline, environ)"}}
	want := canonical(dir)
	des, err := os.ReadDir(procRoot)
	if err != nil {
		return res, fmt.Errorf("check for a live Master: %w", err)
	}
	for _, de := range des {
		pid, err := strconv.Atoi(de.Name())
		if err != nil || pid <= 0 {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(procRoot, de.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if !isMaster(args) {
			continue
		}
		dirs := recoveryDirs(args)
		if env, err := os.ReadFile(filepath.Join(procRoot, de.Name(), "environ")); err == nil {
			for _, kv := range bytes.Split(env, []byte{0}) {
				name, value, ok := strings.Cut(string(kv), "=")
				if ok && slices.Contains(optsVars, name) {
					dirs = append(dirs, recoveryDirs(splitOpts(value))...)
				}
			}
		}
		if len(dirs) == 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("Master process %d names no spark.deploy.recoveryDirectory on its command line", pid))
			continue
		}
		for _, d := range dirs {
			if canonical(d) == want {
				res.Holders = append(res.Holders, Holder{Kind: KindProcess, PID: pid,
					Detail: fmt.Sprintf("Master process %d on this host uses %s", pid, d)})
				break
			}
		}
	}
	return res, nil
}

// isMaster: a java command line whose main class is the Master. The class
// may also sit inside one argument (a shell wrapper: sh -c "java ...").
func isMaster(args []string) bool {
	for _, a := range args {
		if a == masterClass {
			return true
		}
		if strings.Contains(a, " ") && slices.Contains(splitOpts(a), masterClass) {
			return true
		}
	}
	return false
}

// recoveryDirs returns the values of every -Dspark.deploy.recoveryDirectory
// in args, including inside arguments that hold several options.
func recoveryDirs(args []string) []string {
	var out []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, dirProperty); ok {
			out = append(out, v)
			continue
		}
		if strings.Contains(a, dirProperty) && strings.ContainsAny(a, " \t") {
			out = append(out, recoveryDirs(splitOpts(a))...)
		}
	}
	return out
}

// splitOpts splits a JVM options string on blanks, honouring single and
// double quotes as spark-class does for SPARK_*_OPTS.
func splitOpts(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// canonical makes two spellings of one directory compare equal: absolute,
// cleaned, symlinks resolved when the path exists.
func canonical(p string) string {
	p = strings.TrimPrefix(p, "file://")
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return filepath.Clean(p)
}
