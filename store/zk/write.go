package zk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/store"
)

// LockName is the znode, beside master_status in the Spark dir, that a
// recoverctl writer holds while it changes the store. It is ephemeral, so
// it goes with the writer's session; Spark reads only master_status and
// leader_election and never looks at it.
const LockName = "recoverctl-lock"

// Cost is what one change counts against MaxBatch: its bytes, path, ACL
// and the multi framing.
func (s *Store) Cost(op store.Op) int {
	n := len(op.Record.Data) + len(s.root) + 1 + len(op.Record.Name) + opOverhead
	if op.Kind == store.OpCreate {
		acl := op.Record.ACL
		if len(acl) == 0 {
			acl = DefaultACL
		}
		for _, a := range acl {
			n += len(a.Scheme) + len(a.ID) + 12
		}
	}
	return n
}

// maxOneOp is the largest change a batch of its own takes: a record as
// large as a Spark Master's own create could write, below the server's
// jute.maxbuffer with room for the multi and the lock's operation.
const maxOneOp = ServerMaxRequestBytes - 4<<10

// MaxChange is the largest change one request carries.
func (s *Store) MaxChange() int { return maxOneOp }

// MaxBatch is the most one Apply of several changes takes: one multi request below the
// server's jute.maxbuffer, with room for the lock's own operation.
func (s *Store) MaxBatch() int { return MaxBatchBytes }

// Apply sends ops as one multi transaction: all of them or none. A create
// is a create (NodeExists fails it: store.ErrExists), a replace a setData
// and a delete a delete at the version the plan saw (BadVersion:
// store.ErrChanged). While Lock is held, the transaction also bumps the
// lock znode at the version this writer left it, so a writer whose
// session (and with it the lock) was lost changes nothing
// (store.ErrLocked). A batch whose Cost is over MaxBatch, or one change
// over what one request can carry, is refused before anything is sent
// (store.ErrTooLarge); a change between the two goes in a batch of its
// own.
func (s *Store) Apply(ctx context.Context, ops []store.Op) error {
	if len(ops) == 0 {
		return nil
	}
	total := 0
	seen := make(map[string]bool, len(ops))
	paths := make([]string, len(ops))
	for i, op := range ops {
		p, err := s.recordPath(op.Record.Name)
		if err != nil {
			return &store.OpError{Index: i, Name: op.Record.Name, Err: err}
		}
		if seen[op.Record.Name] {
			return &store.OpError{Index: i, Name: op.Record.Name, Err: fmt.Errorf("twice in one batch: %w", ErrInvalidName)}
		}
		seen[op.Record.Name] = true
		paths[i] = p
		c := s.Cost(op)
		if c > maxOneOp {
			return &store.OpError{Index: i, Name: op.Record.Name,
				Err: fmt.Errorf("%d bytes with its framing, ZooKeeper takes at most %d in one request (jute.maxbuffer): %w", c, maxOneOp, store.ErrTooLarge)}
		}
		total += c
	}
	if total > MaxBatchBytes && len(ops) > 1 {
		return fmt.Errorf("batch of %d changes, %d bytes: %w (limit %d)", len(ops), total, store.ErrTooLarge, MaxBatchBytes)
	}
	lock, err := s.heldLock()
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		res, err := s.multi(ctx, ops, paths, lock)
		if err == nil {
			if lock != nil {
				s.lockBumped()
			}
			return nil
		}
		failed := -1
		for i, r := range res {
			// The failing op carries the real error; the others report
			// ZooKeeper's runtime inconsistency (-2): rolled back.
			if r.Error != nil && !strings.Contains(r.Error.Error(), "unknown error: -2") {
				failed = i
				break
			}
		}
		switch {
		case failed < 0:
			return fmt.Errorf("batch of %d changes: %w", len(ops), s.wrap("multi", s.root, err))
		case failed == len(ops) && attempt == 0 && s.adoptLock(ctx, lock):
			// An earlier batch went through, its answer lost: the lock
			// is still ours, one version further.
			continue
		case failed == len(ops):
			return fmt.Errorf("lock %s: %w: this writer's session and lock are gone; nothing of the batch was written", s.lockPath(), store.ErrLocked)
		}
		ferr, op := res[failed].Error, ops[failed]
		switch {
		case errors.Is(ferr, gozk.ErrNoNode) && op.Kind == store.OpCreate && attempt == 0:
			// Parents are created outside the transaction; an empty
			// master_status is what a Spark Master would create anyway.
			if err := s.ensureRoot(ctx); err != nil {
				return fmt.Errorf("batch of %d changes: %w", len(ops), err)
			}
			continue
		case errors.Is(ferr, gozk.ErrNodeExists):
			ferr = fmt.Errorf("create %s: %w", paths[failed], store.ErrExists)
		case errors.Is(ferr, gozk.ErrBadVersion):
			ferr = fmt.Errorf("%s %s: version %d was planned: %w", op.Kind, paths[failed], op.SeenVersion, store.ErrChanged)
		default:
			ferr = s.wrap(op.Kind.String(), paths[failed], ferr)
		}
		return &store.OpError{Index: failed, Name: op.Record.Name, Err: ferr}
	}
}

// multi sends one transaction, with the lock's bump last when held.
func (s *Store) multi(ctx context.Context, ops []store.Op, paths []string, lock *heldLock) ([]gozk.MultiResponse, error) {
	reqs := make([]any, 0, len(ops)+1)
	for i, op := range ops {
		switch op.Kind {
		case store.OpCreate:
			reqs = append(reqs, &gozk.CreateRequest{Path: paths[i], Data: op.Record.Data, Acl: toZKACL(op.Record.ACL)})
		case store.OpReplace:
			reqs = append(reqs, &gozk.SetDataRequest{Path: paths[i], Data: op.Record.Data, Version: int32(op.SeenVersion)})
		case store.OpDelete:
			reqs = append(reqs, &gozk.DeleteRequest{Path: paths[i], Version: int32(op.SeenVersion)})
		default:
			return nil, fmt.Errorf("unknown change %v", op.Kind)
		}
	}
	if lock != nil {
		reqs = append(reqs, &gozk.SetDataRequest{Path: lock.path, Data: lock.data, Version: lock.version})
	}
	var res []gozk.MultiResponse
	err := s.do(ctx, func() (err error) {
		res, err = s.conn.Multi(reqs...)
		return err
	})
	if abandoned(err) {
		// The call goes on in the background and may still write res.
		return nil, err
	}
	return res, err
}

// abandoned reports whether do gave up waiting for a call that is still
// running: its results must not be read.
func abandoned(err error) bool {
	var te *timeoutError
	return errors.As(err, &te) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// ensureRoot creates master_status and its parents with empty data and the
// default ACL, ignoring ones that exist.
func (s *Store) ensureRoot(ctx context.Context) error {
	parts := strings.Split(s.root[1:], "/")
	for i := range parts {
		p := "/" + strings.Join(parts[:i+1], "/")
		err := s.do(ctx, func() error {
			_, err := s.conn.Create(p, nil, 0, toZKACL(nil))
			return err
		})
		if err != nil && !errors.Is(err, gozk.ErrNodeExists) {
			return s.wrap("create parent", p, err)
		}
	}
	return nil
}

// heldLock is this writer's lock znode as it last left it.
type heldLock struct {
	path    string
	data    []byte
	version int32
	session int64
}

func (s *Store) lockPath() string { return s.sparkDir + "/" + LockName }

// heldLock returns the lock when held, refusing when the session that
// created it is gone (a new session does not own the ephemeral node).
func (s *Store) heldLock() (*heldLock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil, nil
	}
	if id := s.conn.SessionID(); id != s.lock.session {
		return nil, fmt.Errorf("lock %s: %w: the ZooKeeper session that took it expired", s.lock.path, store.ErrLocked)
	}
	l := *s.lock
	return &l, nil
}

// adoptLock takes the lock znode's version as this writer's when the
// znode is still owned by this writer's session.
func (s *Store) adoptLock(ctx context.Context, lock *heldLock) bool {
	var st *gozk.Stat
	err := s.do(ctx, func() (err error) {
		_, st, err = s.conn.Get(lock.path)
		return err
	})
	if err != nil || st.EphemeralOwner != lock.session {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return false
	}
	s.lock.version = st.Version
	lock.version = st.Version
	return true
}

func (s *Store) lockBumped() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock != nil {
		s.lock.version++
	}
}

// processAlive reports whether a process of this host still runs.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// LockHolder is what a writer records in the lock znode.
type LockHolder struct {
	Holder  string    `json:"holder"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// Lock creates the ephemeral lock znode <spark dir>/recoverctl-lock
// (parents as Spark creates them), holding who took it. Another writer's
// lock is store.ErrLocked, naming it; it vanishes when that writer's
// session ends, within the session timeout of its death, or at once when
// that writer ran on this host and its process is gone.
func (s *Store) Lock(ctx context.Context, holder string) (func() error, error) {
	host, _ := os.Hostname()
	data, err := json.Marshal(LockHolder{Holder: holder, Host: host, PID: os.Getpid(), Started: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	p := s.lockPath()
	for attempt := 0; ; attempt++ {
		err = s.do(ctx, func() error {
			_, err := s.conn.Create(p, data, gozk.FlagEphemeral, toZKACL(nil))
			return err
		})
		if errors.Is(err, gozk.ErrNoNode) && attempt == 0 {
			if err := s.ensureRoot(ctx); err != nil {
				return nil, fmt.Errorf("lock: %w", err)
			}
			continue
		}
		break
	}
	for broken := false; errors.Is(err, gozk.ErrNodeExists); {
		var other []byte
		var st *gozk.Stat
		_ = s.do(ctx, func() (err error) {
			other, st, err = s.conn.Get(p)
			return err
		})
		var h LockHolder
		who := "unknown"
		if json.Unmarshal(other, &h) == nil {
			who = fmt.Sprintf("%s, pid %d on %s since %s", h.Holder, h.PID, h.Host, h.Started.Format(time.RFC3339))
			// A writer of this host that is gone (killed) left its lock
			// to its session's timeout: nobody holds it any more.
			if !broken && st != nil && h.Host == host && h.PID > 0 && !processAlive(h.PID) {
				broken = true
				derr := s.do(ctx, func() error { return s.conn.Delete(p, st.Version) })
				if derr == nil || errors.Is(derr, gozk.ErrNoNode) {
					err = s.do(ctx, func() error {
						_, err := s.conn.Create(p, data, gozk.FlagEphemeral, toZKACL(nil))
						return err
					})
					continue
				}
			}
		}
		return nil, fmt.Errorf("lock %s: %w (%s; it goes when that writer's ZooKeeper session ends)", p, store.ErrLocked, who)
	}
	if err != nil {
		return nil, s.wrap("lock", p, err)
	}
	s.mu.Lock()
	s.lock = &heldLock{path: p, data: data, version: 0, session: s.conn.SessionID()}
	s.mu.Unlock()
	return func() error {
		s.mu.Lock()
		l := s.lock
		s.lock = nil
		s.mu.Unlock()
		if l == nil {
			return nil
		}
		err := s.do(context.Background(), func() error { return s.conn.Delete(l.path, l.version) })
		if errors.Is(err, gozk.ErrNoNode) {
			return nil
		}
		return s.wrap("unlock", l.path, err)
	}, nil
}

// Commit does nothing: every Apply is one committed transaction.
func (s *Store) Commit(context.Context) error { return nil }
