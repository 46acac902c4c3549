package audit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/store"
)

// ZKACLs reads znode ACLs over its own ZooKeeper session. store/zk exposes
// the ACLs of records only; the directories above them need this until it
// has a method for any path.
type ZKACLs struct {
	conn    *gozk.Conn
	timeout time.Duration
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// DialZKACLs connects to servers ("h1:2181,h2:2181", no chroot) and, when
// auth is "user:password", adds digest credentials.
func DialZKACLs(ctx context.Context, servers, auth string, timeout time.Duration) (*ZKACLs, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var hosts []string
	for h := range strings.SplitSeq(servers, ",") {
		if h = strings.TrimSpace(h); h != "" {
			if _, _, err := net.SplitHostPort(h); err != nil {
				h = net.JoinHostPort(h, "2181")
			}
			hosts = append(hosts, h)
		}
	}
	conn, events, err := gozk.Connect(hosts, 30*time.Second, gozk.WithLogger(quiet{}), gozk.WithLogInfo(false),
		gozk.WithMaxBufferSize(1<<20))
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w: %w", servers, store.ErrUnavailable, err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for connected := false; !connected; {
		select {
		case ev := <-events:
			connected = ev.State == gozk.StateHasSession
		case <-timer.C:
			go conn.Close()
			return nil, fmt.Errorf("zookeeper %s: %w: no session within %s", servers, store.ErrUnavailable, timeout)
		case <-ctx.Done():
			go conn.Close()
			return nil, ctx.Err()
		}
	}
	if auth != "" {
		if err := conn.AddAuth("digest", []byte(auth)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("zookeeper %s: authenticate: %w", servers, err)
		}
	}
	return &ZKACLs{conn: conn, timeout: timeout}, nil
}

// ACL returns the znode's ACL, nil when it does not exist.
func (z *ZKACLs) ACL(ctx context.Context, p string) ([]store.ACL, error) {
	type answer struct {
		acl []gozk.ACL
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		acl, _, err := z.conn.GetACL(p)
		ch <- answer{acl, err}
	}()
	select {
	case a := <-ch:
		if errors.Is(a.err, gozk.ErrNoNode) {
			return nil, nil
		}
		if a.err != nil {
			return nil, fmt.Errorf("get ACL of %s: %w", p, a.err)
		}
		out := make([]store.ACL, len(a.acl))
		for i, x := range a.acl {
			out[i] = store.ACL{Perms: x.Perms, Scheme: x.Scheme, ID: x.ID}
		}
		return out, nil
	case <-time.After(z.timeout):
		return nil, fmt.Errorf("get ACL of %s: no answer within %s", p, z.timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close ends the session.
func (z *ZKACLs) Close() { z.conn.Close() }
