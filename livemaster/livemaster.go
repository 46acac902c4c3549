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
//     connection but does not answer HTTP, or does not answer at all within
//     the timeout, is taken to be a Master (its RPC port, spark://host:7077,
//     or a Master too busy to answer) and counts as live too. Only an
//     address that refuses or cannot be reached counts as no Master.
//   - And, on this host, a process whose command line names
//     org.apache.spark.deploy.master.Master and whose recovery directory,
//     worked out the way Spark configures the Master (see CheckProcesses),
//     is the same directory. A Master process whose directory cannot be
//     worked out (its environment, working directory or properties file
//     cannot be read) counts as holding every directory: fail closed.
//
// It is not a lock against Spark: a Master started after the check is not
// seen. Two recoverctl writers are kept apart by LockDir, an advisory
// flock(2) on the directory itself. Nothing here prints; results are
// values the command reports.
package livemaster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
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
	// unreachable --master address, a Master process that sets no
	// recovery directory). A Master process whose directory cannot be
	// worked out is a holder, not a note.
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
	// HTTPClient is used for /json, within Timeout; nil means a client
	// that connects directly (no proxy).
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
// host:port) is asked for /json; a Master status there is live. An address
// that accepts the TCP connection counts as live unless it answers HTTP as
// something other than a running Master: one that does not speak HTTP is
// taken as the Master's RPC port, and one that says nothing within the
// timeout as a Master too busy (or too stopped) to answer, which must not
// pass for a dead one. A spark:// address is only connected to. Only an
// address that refuses the connection or cannot be reached within the
// timeout is a note rather than a holder. The whole check ends within the
// timeout.
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
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if rpcOnly {
		res.Checked = append(res.Checked, "Master RPC port "+hostport+" (TCP connect)")
	} else {
		res.Checked = append(res.Checked, "Master web UI http://"+hostport+"/json")
	}
	// Connecting first tells "nothing listens" from "something listens".
	var d net.Dialer
	c, err := d.DialContext(cctx, "tcp", hostport)
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("check for a live Master at %s: %w", hostport, ctx.Err())
		}
		res.Notes = append(res.Notes, fmt.Sprintf("no Master at %s: %v", hostport, err))
		return res, nil
	}
	c.Close()
	if rpcOnly {
		res.Holders = append(res.Holders, Holder{Kind: KindRPC, Addr: hostport,
			Detail: "Master RPC port " + hostport + " accepts connections"})
		return res, nil
	}
	client := opts.HTTPClient
	if client == nil {
		// No proxy: the Master is asked directly, as the user named it.
		client = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	}
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, "http://"+hostport+"/json", nil)
	if err != nil {
		return res, fmt.Errorf("--master %q: %w", addr, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("check for a live Master at %s: %w", hostport, ctx.Err())
		}
		detail := fmt.Sprintf("%s accepts connections but does not answer HTTP (a Master RPC port?): %v", hostport, err)
		if isTimeout(err) || cctx.Err() != nil {
			detail = fmt.Sprintf("%s accepts connections but did not answer within %s (a Master that is busy or stopped counts as live)", hostport, timeout)
		}
		res.Holders = append(res.Holders, Holder{Kind: KindRPC, Addr: hostport, Detail: detail})
		return res, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil && (isTimeout(err) || cctx.Err() != nil) {
		res.Holders = append(res.Holders, Holder{Kind: KindRPC, Addr: hostport,
			Detail: fmt.Sprintf("%s began an HTTP answer but did not finish it within %s (counted as a live Master)", hostport, timeout)})
		return res, nil
	}
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
