package zktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	gozk "github.com/go-zookeeper/zk"
)

// Dump is a capture of a Spark ZooKeeper tree, as written under
// testdata/spark/<version>/zookeeper/znodes.json.
type Dump struct {
	SparkDir string  `json:"sparkDir"`
	Znodes   []Znode `json:"znodes"`
}

// Znode is one captured znode; Data is base64 in JSON.
type Znode struct {
	Path string         `json:"path"`
	Data []byte         `json:"data"`
	ACL  []ZnodeACL     `json:"acl"`
	Stat map[string]any `json:"stat"`
}

// ZnodeACL is one captured ACL entry.
type ZnodeACL struct {
	Perms  int32  `json:"perms"`
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

// ReadDump parses a znodes.json capture.
func ReadDump(path string) (*Dump, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("zktest: %w", err)
	}
	var d Dump
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("zktest: %s: %w", path, err)
	}
	if !strings.HasPrefix(d.SparkDir, "/") {
		return nil, fmt.Errorf("zktest: %s: sparkDir %q is not absolute", path, d.SparkDir)
	}
	return &d, nil
}

type silent struct{}

func (silent) Printf(string, ...any) {}

// LoadDump recreates the captured znodes on the server at addr, each path
// prefixed with chroot ("" for none). Parents come before children and
// missing parents are created empty; ZooKeeper's own /zookeeper tree is
// skipped. Ephemeral znodes (leader latches) are created PERSISTENT, since
// the loader's session ends when it returns.
func LoadDump(ctx context.Context, addr string, d *Dump, chroot string) error {
	conn, events, err := gozk.Connect([]string{addr}, 10*time.Second,
		gozk.WithLogger(silent{}), gozk.WithLogInfo(false), gozk.WithMaxBufferSize(16<<20))
	if err != nil {
		return fmt.Errorf("zktest: connect %s: %w", addr, err)
	}
	defer conn.Close()
	timeout := time.After(10 * time.Second)
	for ready := false; !ready; {
		select {
		case ev := <-events:
			ready = ev.State == gozk.StateHasSession
		case <-timeout:
			return fmt.Errorf("zktest: no session with %s", addr)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	nodes := slices.Clone(d.Znodes)
	slices.SortStableFunc(nodes, func(a, b Znode) int {
		return strings.Count(a.Path, "/") - strings.Count(b.Path, "/")
	})
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if n.Path == "/" || n.Path == "/zookeeper" || strings.HasPrefix(n.Path, "/zookeeper/") {
			continue
		}
		if err := createAll(conn, chroot+n.Path, n.Data, zkACL(n.ACL)); err != nil {
			return err
		}
	}
	return nil
}

func zkACL(acl []ZnodeACL) []gozk.ACL {
	if len(acl) == 0 {
		return gozk.WorldACL(gozk.PermAll)
	}
	out := make([]gozk.ACL, len(acl))
	for i, a := range acl {
		out[i] = gozk.ACL{Perms: a.Perms, Scheme: a.Scheme, ID: a.ID}
	}
	return out
}

// createAll creates p with data, creating empty parents as needed; an
// existing p gets its data set.
func createAll(conn *gozk.Conn, p string, data []byte, acl []gozk.ACL) error {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := 1; i < len(parts); i++ {
		parent := "/" + strings.Join(parts[:i], "/")
		if _, err := conn.Create(parent, nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil && !errors.Is(err, gozk.ErrNodeExists) {
			return fmt.Errorf("zktest: create %s: %w", parent, err)
		}
	}
	_, err := conn.Create(p, data, 0, acl)
	if errors.Is(err, gozk.ErrNodeExists) {
		_, err = conn.Set(p, data, -1)
	}
	if err != nil {
		return fmt.Errorf("zktest: create %s: %w", p, err)
	}
	return nil
}
