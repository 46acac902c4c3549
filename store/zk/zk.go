// Package zk is the store for Spark's ZOOKEEPER recovery mode: one
// persistent znode per record under <chroot><spark.deploy.zookeeper.dir>/master_status.
// It moves bytes and ACLs only; it never decodes records.
//
// go-zookeeper retries forever and its calls take no context, so this
// package bounds every step itself: Open fails with store.ErrUnavailable
// when no session is established within ConnectTimeout, and every request
// gives up after RequestTimeout or when ctx is done. A write that timed out
// may still have been applied by the server: read back to know.
package zk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gozk "github.com/go-zookeeper/zk"
	"golang.org/x/sync/errgroup"

	"github.com/recoverctl/recoverctl/store"
)

const (
	// DefaultSparkDir is Spark's default for spark.deploy.zookeeper.dir.
	DefaultSparkDir = "/spark"
	// DefaultConnectTimeout bounds Open.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultRequestTimeout bounds each request.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultSessionTimeout is asked of the server; Spark's Curator client
	// asks 60 s, a short-lived tool needs less.
	DefaultSessionTimeout = 30 * time.Second
	// DefaultMaxBufferSize caps one response from the server. It is larger
	// than the server's 1 MB jute.maxbuffer on purpose: a master_status with
	// tens of thousands of children has a getChildren answer above 1 MB,
	// and an operations tool must still be able to list it.
	DefaultMaxBufferSize = 16 << 20
	// DefaultConcurrency is how many requests ReadAll and List keep in
	// flight on the one connection. The server answers a deep pipeline
	// with less CPU per request (measured with bench/ls.sh: 64 in flight
	// cost it about a quarter more per read than 256).
	DefaultConcurrency = 256

	// ServerMaxRequestBytes is ZooKeeper's default jute.maxbuffer
	// (0xfffff). A bigger request makes the server drop the connection.
	ServerMaxRequestBytes = 0xfffff
	// MaxBatchBytes is what WriteBatch accepts per call, as counted by
	// BatchCost: a quarter below the server limit leaves room for the
	// multi framing and ACLs we do not count exactly.
	MaxBatchBytes = 768 << 10

	opOverhead = 64 // per-op header, flags, version, ACL count
)

// Perm bits of a ZooKeeper ACL.
const (
	PermRead   = 1
	PermWrite  = 2
	PermCreate = 4
	PermDelete = 8
	PermAdmin  = 16
	PermAll    = 31
)

// DefaultACL is what Spark's Curator client gives new znodes
// (ZooDefs.Ids.OPEN_ACL_UNSAFE).
var DefaultACL = []store.ACL{{Perms: PermAll, Scheme: "world", ID: "anyone"}}

var (
	// ErrBatchTooLarge is a WriteBatch over MaxBatchBytes; nothing was sent.
	ErrBatchTooLarge = errors.New("batch exceeds ZooKeeper request size limit")
	// ErrPermission is a request refused by a znode's ACL.
	ErrPermission = errors.New("permission denied by ZooKeeper ACL")
	// ErrInvalidName is a record name that cannot be a single znode name.
	ErrInvalidName = errors.New("invalid record name")
	// ErrConnectString is a malformed connect string or SparkDir.
	ErrConnectString = errors.New("invalid ZooKeeper connect string")
)

// Logger receives go-zookeeper's connection messages.
type Logger interface {
	Printf(format string, args ...any)
}

type silentLogger struct{}

func (silentLogger) Printf(string, ...any) {}

// Options configure Open. Zero values mean the defaults above.
type Options struct {
	// Servers is a ZooKeeper connect string, "h1:p1,h2:p2/chroot", as in
	// spark.deploy.zookeeper.url. A host without a port gets 2181.
	Servers string
	// SparkDir is spark.deploy.zookeeper.dir (default /spark), relative
	// to the chroot.
	SparkDir string
	// Auth is "user:password" for the digest scheme, or empty.
	Auth           string
	ConnectTimeout time.Duration
	RequestTimeout time.Duration
	SessionTimeout time.Duration
	MaxBufferSize  int
	Concurrency    int
	// NoMultiRead makes EachRecord read one getData per znode even where
	// the server has multiRead (for comparison and tests).
	NoMultiRead bool
	// TLS, when set, is used for every connection (the session and the
	// multiRead one); an empty ServerName is the host dialled.
	TLS *tls.Config
	// Logger gets go-zookeeper's messages; nil discards them (the library
	// otherwise writes to stderr, which a CLI must not do behind its back).
	Logger Logger
}

// Store is the master_status znode of one Spark ZooKeeper directory.
type Store struct {
	conn     *gozk.Conn
	opts     Options
	servers  []string
	chroot   string
	sparkDir string // chroot + SparkDir
	root     string // sparkDir + /master_status
	closed   sync.Once

	mu              sync.Mutex
	multiReadFailed error     // why the last EachRecord fell back, under mu
	bulkAddr        string    // tests: where the multiRead session goes
	lock            *heldLock // this writer's lock znode, under mu
	connErr         error     // the last dial or read failure of the session, under mu
}

// noteConnErr keeps why the session's last connection failed: go-zookeeper
// only retries, and a refused certificate must not end as a bare timeout.
func (s *Store) noteConnErr(err error) {
	if errors.Is(err, net.ErrClosed) {
		return
	}
	s.mu.Lock()
	s.connErr = err
	s.mu.Unlock()
}

func (s *Store) lastConnErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connErr
}

// notedConn reports its read errors: with TLS 1.3 a server refusing the
// client's certificate says so in the first read after the handshake.
type notedConn struct {
	net.Conn
	note  func(error)
	plain bool
	tls   *tls.Config
}

func (c *notedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		switch {
		case errors.Is(err, io.EOF) && c.plain:
			c.note(fmt.Errorf("%s closed the connection (as a port serving TLS only does to a client without TLS)", c.RemoteAddr()))
		case errors.Is(err, io.EOF):
			c.note(fmt.Errorf("%s closed the connection", c.RemoteAddr()))
		default:
			if c.tls != nil {
				// TLS 1.3 servers refuse a certificate after the handshake.
				if h := certHint(c.tls, err); h != "" {
					err = fmt.Errorf("%w%s", err, h)
				}
			}
			c.note(err)
		}
	}
	return n, err
}

// ParseConnectString splits "h1:p,h2:p/chroot" into servers and chroot
// ("" when absent or "/"). The chroot follows ZooKeeper's rules: absolute,
// no empty, "." or ".." segments, no trailing slash.
func ParseConnectString(s string) (servers []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], s[i:]
		if chroot == "/" {
			chroot = ""
		} else if err := checkPath(chroot); err != nil {
			return nil, "", fmt.Errorf("%w %q: chroot: %v", ErrConnectString, s, err)
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if err := checkHost(h); err != nil {
			return nil, "", fmt.Errorf("%w %q: %v", ErrConnectString, s, err)
		}
		servers = append(servers, h)
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("%w %q: no servers", ErrConnectString, s)
	}
	return gozk.FormatServers(servers), chroot, nil
}

// checkHost refuses what no ZooKeeper server name is: credentials and
// spaces (digest auth has its own flag), a port that is no number.
func checkHost(h string) error {
	if strings.ContainsAny(h, " @") {
		return fmt.Errorf("host %q: credentials and spaces are not part of a connect string (use --zk-auth)", h)
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		port := h[i+1:]
		if port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
			return fmt.Errorf("host %q: bad port %q", h, port)
		}
		if h[:i] == "" {
			return fmt.Errorf("host %q: no host name", h)
		}
	}
	return nil
}

// CheckPath applies ZooKeeper's path rules to p (a chroot, a Spark dir):
// absolute, no empty, "." or ".." segment, no trailing slash.
func CheckPath(p string) error { return checkPath(p) }

func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errors.New("must start with /")
	}
	if p == "/" {
		return nil
	}
	if strings.HasSuffix(p, "/") {
		return errors.New("must not end with /")
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsRune(seg, 0) {
			return fmt.Errorf("bad path segment %q", seg)
		}
	}
	return nil
}

// Open connects and waits for a session. A ZooKeeper that cannot be
// reached within ConnectTimeout is store.ErrUnavailable, not a hang.
func Open(ctx context.Context, opts Options) (*Store, error) {
	servers, chroot, err := ParseConnectString(opts.Servers)
	if err != nil {
		return nil, err
	}
	if opts.SparkDir == "" {
		opts.SparkDir = DefaultSparkDir
	}
	if err := checkPath(opts.SparkDir); err != nil || opts.SparkDir == "/" {
		if err == nil {
			err = errors.New("must not be the root")
		}
		return nil, fmt.Errorf("%w: spark dir %q: %v", ErrConnectString, opts.SparkDir, err)
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = DefaultSessionTimeout
	}
	if opts.MaxBufferSize <= 0 {
		opts.MaxBufferSize = DefaultMaxBufferSize
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	var logger Logger = silentLogger{}
	if opts.Logger != nil {
		logger = opts.Logger
	}
	s := &Store{opts: opts, servers: servers, chroot: chroot}
	s.sparkDir = chroot + opts.SparkDir
	s.root = s.sparkDir + "/master_status"

	// The dialer's timeout is per attempt (go-zookeeper's own is 1 s, too
	// short for a loaded host); the overall bound is ours below.
	dialTimeout := attemptTimeout(opts)
	conn, events, err := gozk.Connect(servers, opts.SessionTimeout,
		gozk.WithLogger(logger),
		gozk.WithLogInfo(opts.Logger != nil),
		gozk.WithMaxBufferSize(opts.MaxBufferSize),
		gozk.WithDialer(func(_, address string, _ time.Duration) (net.Conn, error) {
			c, err := dial(context.Background(), address, opts, dialTimeout)
			if err != nil {
				s.noteConnErr(err)
				return nil, err
			}
			return &notedConn{Conn: c, note: s.noteConnErr, plain: opts.TLS == nil, tls: opts.TLS}, nil
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w: %w", opts.Servers, store.ErrUnavailable, err)
	}
	s.conn = conn
	timer := time.NewTimer(opts.ConnectTimeout)
	defer timer.Stop()
	for connected := false; !connected; {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil, fmt.Errorf("zookeeper %s: %w: connection closed", opts.Servers, store.ErrUnavailable)
			}
			switch ev.State {
			case gozk.StateHasSession:
				connected = true
			case gozk.StateAuthFailed:
				go conn.Close()
				return nil, fmt.Errorf("zookeeper %s: %w: authentication failed", opts.Servers, store.ErrUnavailable)
			}
		case <-timer.C:
			// go-zookeeper's Close waits up to a second for the server to
			// acknowledge; there is none, so do not make the caller wait.
			go conn.Close()
			if last := s.lastConnErr(); last != nil {
				return nil, fmt.Errorf("zookeeper %s: %w: no session within %s: last attempt: %w", opts.Servers, store.ErrUnavailable, opts.ConnectTimeout, last)
			}
			return nil, fmt.Errorf("zookeeper %s: %w: no session within %s", opts.Servers, store.ErrUnavailable, opts.ConnectTimeout)
		case <-ctx.Done():
			go conn.Close()
			return nil, fmt.Errorf("zookeeper %s: %w", opts.Servers, ctx.Err())
		}
	}
	if opts.Auth != "" {
		if !strings.Contains(opts.Auth, ":") {
			conn.Close()
			return nil, fmt.Errorf("zookeeper %s: digest auth must be user:password", opts.Servers)
		}
		err := s.do(ctx, func() error { return conn.AddAuth("digest", []byte(opts.Auth)) })
		if err != nil {
			conn.Close()
			return nil, s.wrap("authenticate", "", err)
		}
	}
	return s, nil
}

// Close ends the session.
func (s *Store) Close() error {
	s.closed.Do(s.conn.Close)
	return nil
}

// String names the store: "zk://h1:2181,h2:2181/chroot/spark/master_status".
func (s *Store) String() string {
	return "zk://" + strings.Join(s.servers, ",") + s.root
}

// Path is the absolute master_status path, chroot included.
func (s *Store) Path() string { return s.root }

// do runs one go-zookeeper call, bounded by RequestTimeout and ctx. fn
// must only write variables that the caller reads after a nil return:
// on timeout the call goes on in the background until the connection
// answers or closes.
func (s *Store) do(ctx context.Context, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timer := time.NewTimer(s.opts.RequestTimeout)
	defer timer.Stop()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return &timeoutError{after: s.opts.RequestTimeout}
	case <-ctx.Done():
		return ctx.Err()
	}
}

type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("no answer within %s", e.after) }

// wrap maps go-zookeeper errors onto store's sentinels, keeping the
// original text and the operation and path a user needs.
func (s *Store) wrap(op, p string, err error) error {
	if err == nil {
		return nil
	}
	where := op
	if p != "" {
		where += " " + p
	}
	where = "zookeeper " + strings.Join(s.servers, ",") + ": " + where
	var te *timeoutError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", where, err)
	case errors.Is(err, gozk.ErrNoNode):
		return fmt.Errorf("%s: %w", where, store.ErrNotFound)
	case errors.Is(err, gozk.ErrNodeExists):
		return fmt.Errorf("%s: %w", where, store.ErrExists)
	case errors.Is(err, gozk.ErrNoAuth):
		return fmt.Errorf("%s: %w", where, ErrPermission)
	case errors.As(err, &te),
		errors.Is(err, gozk.ErrNoServer),
		errors.Is(err, gozk.ErrConnectionClosed),
		errors.Is(err, gozk.ErrClosing),
		errors.Is(err, gozk.ErrSessionExpired),
		errors.Is(err, gozk.ErrAuthFailed):
		return fmt.Errorf("%s: %w: %v", where, store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

func (s *Store) recordPath(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("%q: %w", name, ErrInvalidName)
	}
	return s.root + "/" + name, nil
}

func millis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func toStoreACL(acl []gozk.ACL) []store.ACL {
	out := make([]store.ACL, len(acl))
	for i, a := range acl {
		out[i] = store.ACL{Perms: a.Perms, Scheme: a.Scheme, ID: a.ID}
	}
	return out
}

func toZKACL(acl []store.ACL) []gozk.ACL {
	if len(acl) == 0 {
		acl = DefaultACL
	}
	out := make([]gozk.ACL, len(acl))
	for i, a := range acl {
		out[i] = gozk.ACL{Perms: a.Perms, Scheme: a.Scheme, ID: a.ID}
	}
	return out
}

// List returns every child of master_status, sorted by name, with size,
// mtime and ACL. A missing master_status is an empty store: Spark creates
// it only when a Master first starts.
func (s *Store) List(ctx context.Context) ([]store.Entry, error) {
	names, err := s.children(ctx, s.root)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	entries := make([]store.Entry, len(names))
	found := make([]bool, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Concurrency)
	for i, name := range names {
		g.Go(func() error {
			e, err := s.entry(gctx, name)
			if errors.Is(err, store.ErrNotFound) {
				return nil // deleted since getChildren
			}
			if err != nil {
				return err
			}
			entries[i], found[i] = e, true
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := entries[:0]
	for i, e := range entries {
		if found[i] {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b store.Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *Store) children(ctx context.Context, p string) ([]string, error) {
	var names []string
	err := s.do(ctx, func() (err error) {
		names, _, err = s.conn.Children(p)
		return err
	})
	if err != nil {
		return nil, s.wrap("list", p, err)
	}
	return names, nil
}

// entry uses getACL, whose answer carries the Stat too: one request per
// child gives size, mtime and ACL. getACL needs READ or ADMIN permission;
// a znode we may not read is still listed (exists needs no permission),
// with a nil ACL meaning "not readable", so one foreign znode does not
// hide the others.
func (s *Store) entry(ctx context.Context, name string) (store.Entry, error) {
	p := s.root + "/" + name
	var acl []gozk.ACL
	var st *gozk.Stat
	err := s.do(ctx, func() (err error) {
		acl, st, err = s.conn.GetACL(p)
		return err
	})
	if errors.Is(err, gozk.ErrNoAuth) {
		acl = nil
		err = s.do(ctx, func() (err error) {
			var ok bool
			ok, st, err = s.conn.Exists(p)
			if err == nil && !ok {
				err = gozk.ErrNoNode
			}
			return err
		})
	}
	if err != nil {
		return store.Entry{}, s.wrap("stat", p, err)
	}
	kind, id := store.ParseName(name)
	e := store.Entry{Name: name, Kind: kind, ID: id, Size: int64(st.DataLength), ModTime: millis(st.Mtime), Version: int64(st.Version)}
	if acl != nil {
		e.ACL = toStoreACL(acl)
	}
	return e, nil
}

// Read returns one record with its ACL; store.ErrNotFound if absent.
func (s *Store) Read(ctx context.Context, name string) (store.Record, error) {
	return s.timed(ctx, "read", name, s.fetch)
}

// ReadData returns one record's bytes and modification time without its
// ACL: a single getData, where Read adds a getACL. Backup takes ACLs from
// List (whose getACL per child carries them) and a read-back compares bytes
// only, so neither needs a second request per record. store.ErrNotFound
// if absent.
func (s *Store) ReadData(ctx context.Context, name string) (store.Record, error) {
	return s.timed(ctx, "read", name, s.fetchData)
}

// fetcher sends a read's requests and waits for the answers, without a
// deadline of its own; errors are wrapped with the operation and path.
type fetcher func(name string) (store.Record, error)

// timed runs one fetch under the request timeout.
func (s *Store) timed(ctx context.Context, op, name string, fetch fetcher) (store.Record, error) {
	var rec store.Record
	err := s.do(ctx, func() (err error) {
		rec, err = fetch(name)
		return err
	})
	var te *timeoutError
	if errors.As(err, &te) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		p, _ := s.recordPath(name)
		return store.Record{}, s.wrap(op, p, err)
	}
	return rec, err
}

// fetch is Read's requests: getData and getACL, both sent before either
// answer is awaited.
func (s *Store) fetch(name string) (store.Record, error) {
	p, err := s.recordPath(name)
	if err != nil {
		return store.Record{}, fmt.Errorf("read: %w", err)
	}
	var acl []gozk.ACL
	aclc := make(chan error, 1)
	go func() {
		var err error
		acl, _, err = s.conn.GetACL(p)
		aclc <- err
	}()
	data, st, err := s.conn.Get(p)
	if err = errors.Join(err, <-aclc); err != nil {
		if errors.Is(err, gozk.ErrNoNode) {
			err = gozk.ErrNoNode
		}
		return store.Record{}, s.wrap("read", p, err)
	}
	rec := store.NewRecord(name, data)
	rec.ModTime, rec.Version = millis(st.Mtime), int64(st.Version)
	rec.ACL = toStoreACL(acl)
	return rec, nil
}

// fetchData is ReadData's one getData.
func (s *Store) fetchData(name string) (store.Record, error) {
	p, err := s.recordPath(name)
	if err != nil {
		return store.Record{}, fmt.Errorf("read: %w", err)
	}
	data, st, err := s.conn.Get(p)
	if err != nil {
		return store.Record{}, s.wrap("read", p, err)
	}
	rec := store.NewRecord(name, data)
	rec.ModTime, rec.Version = millis(st.Mtime), int64(st.Version)
	return rec, nil
}

// ReadAll reads names with up to Concurrency requests in flight on the one
// connection and calls fn once per name, never concurrently, in completion
// order, with the record or its error (wrapped store.ErrNotFound when
// absent). An error returned by fn stops ReadAll and is returned.
func (s *Store) ReadAll(ctx context.Context, names []string, fn func(store.Record, error) error) error {
	return s.readEach(ctx, names, s.fetch, false, fn)
}

// readEach is the one pipeline behind ReadAll and EachRecord: Concurrency
// workers fetch names with one request (or pair) each in flight on the one
// connection (go-zookeeper matches answers by xid), and fn gets each result
// never concurrently, in completion order. A record deleted meanwhile is
// dropped when skipGone is set. After fn's first error the later answers
// are dropped and that error is returned.
//
// The request timeout applies to the pipeline as a whole: it fails when no
// answer at all came for that long. A timer and a goroutine per request,
// as single reads have, cost more client CPU than the reads themselves.
func (s *Store) readEach(ctx context.Context, names []string, fetch fetcher, skipGone bool,
	fn func(store.Record, error) error) error {
	if len(names) == 0 {
		return ctx.Err()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan string)
	var (
		mu       sync.Mutex
		stopped  bool // fn failed or readEach returned: later answers are dropped
		firstErr error
		lastSeen atomic.Int64 // when the last answer came, in UnixNano
		workers  sync.WaitGroup
	)
	lastSeen.Store(time.Now().UnixNano())
	stop := func(err error) {
		mu.Lock()
		if !stopped {
			stopped, firstErr = true, err
		}
		mu.Unlock()
		cancel(err)
	}
	for range min(s.opts.Concurrency, len(names)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for name := range next {
				rec, err := fetch(name)
				lastSeen.Store(time.Now().UnixNano())
				if skipGone && errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil && rec.Name == "" {
					rec = store.NewRecord(name, nil)
				}
				mu.Lock()
				if !stopped {
					if err := fn(rec, err); err != nil {
						stopped, firstErr = true, err
						cancel(err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		defer close(next)
		for _, name := range names {
			select {
			case next <- name:
			case <-ctx.Done():
				return
			}
		}
	}()
	finished := make(chan struct{})
	go func() {
		<-fed
		workers.Wait()
		close(finished)
	}()
	tick := time.NewTicker(max(min(s.opts.RequestTimeout/4, time.Second), time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-finished:
			mu.Lock()
			defer mu.Unlock()
			stopped = true
			if firstErr != nil {
				return firstErr
			}
			return context.Cause(ctx)
		case <-ctx.Done():
			// Workers still blocked on answers are left to the connection:
			// they end when it closes; their answers are dropped.
			stop(ctx.Err())
			mu.Lock()
			defer mu.Unlock()
			if firstErr != nil && !errors.Is(firstErr, context.Canceled) {
				return firstErr
			}
			return context.Cause(ctx)
		case <-tick.C:
			if idle := time.Since(time.Unix(0, lastSeen.Load())); idle > s.opts.RequestTimeout {
				stop(s.wrap("read", s.root, &timeoutError{after: s.opts.RequestTimeout}))
			}
		}
	}
}

// Participant is one Master in Curator's LeaderLatch.
type Participant = store.Participant

// Leaders reads <SparkDir>/leader_election. Curator's LeaderLatch makes the
// participant with the lowest sequence number the leader. A missing
// election node means no Master has ever run: an empty result.
func (s *Store) Leaders(ctx context.Context) ([]Participant, error) {
	dir := s.sparkDir + "/leader_election"
	names, err := s.children(ctx, dir)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	ps := make([]Participant, len(names))
	found := make([]bool, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Concurrency)
	for i, name := range names {
		g.Go(func() error {
			p := dir + "/" + name
			var data []byte
			var st *gozk.Stat
			err := s.do(gctx, func() (err error) {
				data, st, err = s.conn.Get(p)
				return err
			})
			if errors.Is(err, gozk.ErrNoNode) {
				return nil // its Master left meanwhile
			}
			if err != nil {
				return s.wrap("read", p, err)
			}
			ps[i] = Participant{Node: name, Seq: latchSeq(name), Session: st.EphemeralOwner, Created: millis(st.Ctime), ID: data}
			found[i] = true
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := ps[:0]
	for i, p := range ps {
		if found[i] {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Participant) int {
		if a.Seq != b.Seq {
			// Unparseable names sort last: they cannot lead.
			if a.Seq < 0 {
				return 1
			}
			if b.Seq < 0 {
				return -1
			}
			if a.Seq < b.Seq {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Node, b.Node)
	})
	if len(out) > 0 && out[0].Seq >= 0 {
		out[0].Leader = true
	}
	return out, nil
}

// latchSeq parses the sequence ZooKeeper appends to "latch-" (ten digits).
func latchSeq(name string) int64 {
	i := strings.LastIndex(name, "latch-")
	if i < 0 {
		return -1
	}
	digits := name[i+len("latch-"):]
	if digits == "" {
		return -1
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// EachRecord reads every entry under master_status without ACLs: Scan
// of every entry.
func (s *Store) EachRecord(ctx context.Context, fn func(store.Record, error) error) error {
	return s.Scan(ctx, store.ScanRequest{}, fn)
}

// MultiReadFailed says why the last EachRecord read some or all records
// with one getData per znode (a server before 3.6 has no multiRead), or
// nil.
func (s *Store) MultiReadFailed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.multiReadFailed
}

func (s *Store) setMultiReadFailed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.multiReadFailed = err
}

// SparkDir is the absolute spark.deploy.zookeeper.dir, chroot included.
func (s *Store) SparkDir() string { return s.sparkDir }

// ACL returns the ACL of any znode by absolute path (chroot included), for
// the parents that Spark creates above the records (the Spark dir,
// master_status, leader_election); nil with a nil error when the znode
// does not exist.
func (s *Store) ACL(ctx context.Context, p string) ([]store.ACL, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	var acl []gozk.ACL
	err := s.do(ctx, func() (err error) {
		acl, _, err = s.conn.GetACL(p)
		return err
	})
	if errors.Is(err, gozk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, s.wrap("get ACL", p, err)
	}
	return toStoreACL(acl), nil
}
