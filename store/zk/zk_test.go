package zk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/storetest"
	"github.com/recoverctl/recoverctl/store/zk"
)

var seq atomic.Int64

func unique(prefix string) string { return fmt.Sprintf("/%s%d", prefix, seq.Add(1)) }

func open(t testing.TB, opts zk.Options) *zk.Store {
	t.Helper()
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	s, err := zk.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// raw is a plain go-zookeeper session for checking what the store did.
func raw(t testing.TB, addr string) *gozk.Conn {
	t.Helper()
	c, ev, err := gozk.Connect([]string{addr}, 10*time.Second, gozk.WithLogInfo(false), gozk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == gozk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatalf("no session with %s", addr)
		}
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	variants := map[string]func() zk.Options{
		"NonDefaultSparkDir": func() zk.Options {
			return zk.Options{Servers: srv.Addr(), SparkDir: unique("spark") + "/nested"}
		},
		"ChrootDefaultSparkDir": func() zk.Options {
			return zk.Options{Servers: srv.Addr() + unique("chroot") + "/x"}
		},
		"DigestAuth": func() zk.Options {
			return zk.Options{Servers: srv.Addr() + unique("auth"), SparkDir: "/sp", Auth: "spark:secret"}
		},
		// The getData path that servers before 3.6 get.
		"GetDataOnly": func() zk.Options {
			return zk.Options{Servers: srv.Addr() + unique("getdata"), NoMultiRead: true}
		},
	}
	for name, opts := range variants {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
				o := opts()
				return open(t, o), func(t *testing.T) store.Store { return open(t, o) }
			})
		})
	}
}

// TestConformanceWithoutMultiRead runs the suite against a real ZooKeeper
// from before multiRead (3.5): every bulk read falls back to getData on
// the server's own UNIMPLEMENTED, and writes are the same multi.
func TestConformanceWithoutMultiRead(t *testing.T) {
	t.Parallel()
	srv := zktest.StartRelease(t, zktest.OldRelease)
	storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
		o := zk.Options{Servers: srv.Addr() + unique("old")}
		return open(t, o), func(t *testing.T) store.Store { return open(t, o) }
	})
}

func TestParseConnectString(t *testing.T) {
	for _, tc := range []struct {
		in      string
		servers []string
		chroot  string
		bad     bool
	}{
		{in: "h1:1,h2:2", servers: []string{"h1:1", "h2:2"}},
		{in: "h1:1,h2:2/a/b", servers: []string{"h1:1", "h2:2"}, chroot: "/a/b"},
		{in: "h1/", servers: []string{"h1:2181"}},
		{in: "h1:5/c", servers: []string{"h1:5"}, chroot: "/c"},
		{in: "h1:5/c/", bad: true},
		{in: "h1:5/c//d", bad: true},
		{in: "h1:5/c/../d", bad: true},
		{in: "/c", bad: true},
		{in: "", bad: true},
	} {
		servers, chroot, err := zk.ParseConnectString(tc.in)
		if tc.bad {
			if !errors.Is(err, zk.ErrConnectString) {
				t.Errorf("%q: err %v, want ErrConnectString", tc.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(servers, tc.servers) || chroot != tc.chroot {
			t.Errorf("%q = %v %q %v, want %v %q", tc.in, servers, chroot, err, tc.servers, tc.chroot)
		}
	}
}

// The chroot is ours (go-zookeeper has none): check the znodes land under
// it, and that the default SparkDir is /spark.
func TestChrootAndLayout(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr() + "/tenant/a"})
	if s.Path() != "/tenant/a/spark/master_status" {
		t.Fatalf("Path = %s", s.Path())
	}
	data := storetest.Payload(7, 2600)
	if err := put(t.Context(), s, store.NewRecord("app_x", data)); err != nil {
		t.Fatal(err)
	}
	c := raw(t, srv.Addr())
	got, st, err := c.Get("/tenant/a/spark/master_status/app_x")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("raw get under chroot: %v (%d bytes)", err, len(got))
	}
	if st.EphemeralOwner != 0 {
		t.Fatal("record znode is ephemeral, want PERSISTENT")
	}
	acl, _, err := c.GetACL("/tenant/a/spark/master_status/app_x")
	if err != nil || len(acl) != 1 || acl[0] != (gozk.ACL{Perms: 31, Scheme: "world", ID: "anyone"}) {
		t.Fatalf("ACL = %v, %v; want world:anyone:cdrwa", acl, err)
	}
	if ok, _, _ := c.Exists("/spark/master_status/app_x"); ok {
		t.Fatal("record also written outside the chroot")
	}
	es, err := s.List(t.Context())
	if err != nil || len(es) != 1 || len(es[0].ACL) != 1 || es[0].ACL[0] != zk.DefaultACL[0] {
		t.Fatalf("List = %+v, %v", es, err)
	}
}

// Records keep the ACL they are written with; without the digest identity
// they cannot be read.
func TestDigestACL(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	dir := unique("acl")
	owner := open(t, zk.Options{Servers: srv.Addr(), SparkDir: dir, Auth: "spark:secret"})
	acl := []store.ACL{{Perms: zk.PermAll, Scheme: "auth", ID: ""}}
	rec := store.NewRecord("app_secret", []byte("data"))
	rec.ACL = acl
	if err := put(t.Context(), owner, rec); err != nil {
		t.Fatal(err)
	}
	got, err := owner.Read(t.Context(), "app_secret")
	if err != nil {
		t.Fatal(err)
	}
	// "auth" is expanded by the server into the digest of the session's identity.
	if len(got.ACL) != 1 || got.ACL[0].Scheme != "digest" || !strings.HasPrefix(got.ACL[0].ID, "spark:") {
		t.Fatalf("ACL = %+v, want digest spark:<hash>", got.ACL)
	}
	// Writing the read ACL back verbatim must reproduce it (migrations copy ACLs).
	copyRec := store.NewRecord("app_copy", []byte("d2"))
	copyRec.ACL = got.ACL
	if err := put(t.Context(), owner, copyRec); err != nil {
		t.Fatal(err)
	}
	if c, err := owner.Read(t.Context(), "app_copy"); err != nil || !slices.Equal(c.ACL, got.ACL) {
		t.Fatalf("copied ACL = %+v, %v", c.ACL, err)
	}
	stranger := open(t, zk.Options{Servers: srv.Addr(), SparkDir: dir})
	if _, err := stranger.Read(t.Context(), "app_secret"); !errors.Is(err, zk.ErrPermission) {
		t.Fatalf("Read without auth: %v, want ErrPermission", err)
	}
	wrong := open(t, zk.Options{Servers: srv.Addr(), SparkDir: dir, Auth: "spark:wrong"})
	if _, err := wrong.Read(t.Context(), "app_secret"); !errors.Is(err, zk.ErrPermission) {
		t.Fatalf("Read with wrong password: %v, want ErrPermission", err)
	}
	// getACL needs READ: List still shows the entries, with no ACL.
	es, err := stranger.List(t.Context())
	if err != nil || len(es) != 2 || es[0].ACL != nil || es[0].Size != 2 || es[1].Size != 4 {
		t.Fatalf("List without auth = %+v, %v; want app_copy, app_secret with sizes and nil ACL", es, err)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	addr := srv.Addr()
	s := open(t, zk.Options{Servers: addr, RequestTimeout: 2 * time.Second})
	if err := put(t.Context(), s, store.NewRecord("app_a", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"List":  func() error { _, err := s.List(t.Context()); return err },
		"Read":  func() error { _, err := s.Read(t.Context(), "app_a"); return err },
		"Apply": func() error { return put(t.Context(), s, store.NewRecord("app_b", []byte("x"))) },
		"Lock":  func() error { _, err := s.Lock(t.Context(), "test"); return err },
		// The pipelined reads have one watchdog for the whole pipeline.
		"Scan": func() error {
			return s.Scan(t.Context(), store.ScanRequest{Names: []string{"app_a", "app_b"}, ACL: true}, func(_ store.Record, err error) error { return err })
		},
	} {
		begin := time.Now()
		err := op()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with ZooKeeper stopped: %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(begin); d > 3*time.Second {
			t.Errorf("%s took %s, want within the 2 s request timeout", name, d)
		}
	}
	begin := time.Now()
	_, err := zk.Open(t.Context(), zk.Options{Servers: addr, ConnectTimeout: 2 * time.Second})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open of a stopped ZooKeeper: %v, want ErrUnavailable", err)
	}
	if d := time.Since(begin); d < 2*time.Second || d > 3*time.Second {
		t.Fatalf("Open gave up after %s, want the 2 s connect timeout", d)
	}
	// ctx cancellation beats the connect timeout.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	begin = time.Now()
	if _, err := zk.Open(ctx, zk.Options{Servers: addr}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open with expiring ctx: %v", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("Open ignored ctx for %s", d)
	}
	// Back up: the same store recovers (same session if within its timeout).
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		rec, err := s.Read(t.Context(), "app_a")
		if err == nil {
			if string(rec.Data) != "x" {
				t.Fatalf("after restart read %q", rec.Data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover after restart: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestBatchAtomic(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: unique("batch")})
	ctx := t.Context()
	if err := put(ctx, s, store.NewRecord("app_pre", []byte("old"))); err != nil {
		t.Fatal(err)
	}
	// The server rejects the last op (invalid ACL scheme): the multi must
	// roll back the creates and the setData before it.
	pre, err := s.Read(ctx, "app_pre")
	if err != nil {
		t.Fatal(err)
	}
	bad := store.NewRecord("app_bad", []byte("x"))
	bad.ACL = []store.ACL{{Perms: 31, Scheme: "nosuchscheme", ID: "x"}}
	ops := []store.Op{
		{Kind: store.OpCreate, Record: store.NewRecord("app_new1", []byte("1"))},
		{Kind: store.OpReplace, Record: store.NewRecord("app_pre", []byte("new")), SeenVersion: pre.Version},
		{Kind: store.OpCreate, Record: store.NewRecord("app_new2", []byte("2"))},
		{Kind: store.OpCreate, Record: bad},
	}
	err = s.Apply(ctx, ops)
	var oe *store.OpError
	if !errors.As(err, &oe) || oe.Index != 3 || oe.Applied != 0 || !strings.Contains(err.Error(), "app_bad") {
		t.Fatalf("Apply = %v, want an *OpError at 3 naming app_bad", err)
	}
	checkOnly(t, s, map[string]string{"app_pre": "old"})

	// Over the size limit: refused before sending.
	big := []store.Record{
		store.NewRecord("app_big1", make([]byte, 500<<10)),
		store.NewRecord("app_big2", make([]byte, 500<<10)),
	}
	if err := put(ctx, s, big...); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("oversize batch = %v, want ErrTooLarge", err)
	}
	checkOnly(t, s, map[string]string{"app_pre": "old"})

	// Just under the limit goes through in one transaction.
	var fit []store.Record
	total := 0
	for i := 0; ; i++ {
		r := store.NewRecord(fmt.Sprintf("app_fit-%04d", i), storetest.Payload(uint64(i), 2600))
		c := s.Cost(store.Op{Kind: store.OpCreate, Record: r})
		if total+c > s.MaxBatch() {
			break
		}
		total += c
		fit = append(fit, r)
	}
	if err := put(ctx, s, fit...); err != nil {
		t.Fatalf("WriteBatch of %d records, %d bytes: %v", len(fit), total, err)
	}
	es, err := s.List(ctx)
	if err != nil || len(es) != len(fit)+1 {
		t.Fatalf("List after full batch: %d entries, %v", len(es), err)
	}
}

func checkOnly(t *testing.T, s *zk.Store, want map[string]string) {
	t.Helper()
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != len(want) {
		t.Fatalf("List = %+v, want only %v", es, want)
	}
	for name, data := range want {
		rec, err := s.Read(t.Context(), name)
		if err != nil || string(rec.Data) != data {
			t.Fatalf("%s = %q, %v; want %q", name, rec.Data, err, data)
		}
	}
}

func TestReadAll(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), Concurrency: 8})
	var names []string
	want := map[string][]byte{}
	var batch []store.Record
	for i := range 300 {
		r := store.NewRecord(fmt.Sprintf("app_r-%04d", i), storetest.Payload(uint64(i), 2600))
		want[r.Name] = r.Data
		names = append(names, r.Name)
		batch = append(batch, r)
		if len(batch) == 100 {
			if err := put(t.Context(), s, batch...); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	names = append(names, "app_missing")
	seen := map[string]bool{}
	var missing error
	err := s.Scan(t.Context(), store.ScanRequest{Names: names, ACL: true}, func(rec store.Record, err error) error {
		if seen[rec.Name] {
			t.Errorf("%s delivered twice", rec.Name)
		}
		seen[rec.Name] = true
		if rec.Name == "app_missing" {
			missing = err
			return nil
		}
		if err != nil {
			return err
		}
		if !bytes.Equal(rec.Data, want[rec.Name]) || len(rec.ACL) != 1 {
			t.Errorf("%s: wrong data or ACL", rec.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(names) {
		t.Fatalf("fn called for %d of %d names", len(seen), len(names))
	}
	if !errors.Is(missing, store.ErrNotFound) {
		t.Fatalf("missing name gave %v, want ErrNotFound", missing)
	}
	stop := errors.New("stop")
	calls := 0
	err = s.Scan(t.Context(), store.ScanRequest{Names: names, ACL: true}, func(store.Record, error) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("ReadAll after fn error: %v with %d calls, want stop after one", err, calls)
	}
}

func TestEnsembleOneDown(t *testing.T) {
	t.Parallel()
	e := zktest.StartEnsemble(t, 3)
	s := open(t, zk.Options{Servers: e.ConnectString() + "/ens", RequestTimeout: 5 * time.Second})
	ctx := t.Context()
	if err := put(ctx, s, store.NewRecord("app_before", []byte("b"))); err != nil {
		t.Fatal(err)
	}
	// Stop whichever member the session uses and the leader, in turn; two
	// of three always keep a quorum.
	for _, i := range []int{0, 1, 2} {
		if err := e.StopServer(i); err != nil {
			t.Fatal(err)
		}
		if err := e.WaitQuorum(60 * time.Second); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("app_without-%d", i)
		if err := retry(func() error { return put(ctx, s, store.NewRecord(name, []byte(name))) }); err != nil {
			t.Fatalf("write with member %d down: %v", i, err)
		}
		if err := retry(func() error {
			es, err := s.List(ctx)
			if err == nil && len(es) != i+2 {
				err = fmt.Errorf("List has %d entries, want %d", len(es), i+2)
			}
			return err
		}); err != nil {
			t.Fatalf("list with member %d down: %v", i, err)
		}
		if err := e.StartServer(i); err != nil {
			t.Fatal(err)
		}
		// The restarted member must be back in the quorum before the next
		// one goes down, or two of three would be missing.
		if err := e.WaitQuorum(60 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh client also connects with one member down.
	if err := e.StopServer(1); err != nil {
		t.Fatal(err)
	}
	if err := e.WaitQuorum(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, zk.Options{Servers: e.ConnectString() + "/ens"})
	if _, err := s2.Read(ctx, "app_before"); err != nil {
		t.Fatal(err)
	}
}

// retry absorbs the reconnect after the session's own server went away
// (ErrUnavailable for the requests in flight); anything else fails at once.
// A loaded 2-core machine can take seconds to re-elect and reconnect.
func retry(op func() error) error {
	var err error
	for range 120 {
		if err = op(); err == nil || !errors.Is(err, store.ErrUnavailable) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}

func TestLeaders(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	dir := unique("le")
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: dir})
	if ps, err := s.Leaders(t.Context()); err != nil || len(ps) != 0 {
		t.Fatalf("Leaders with no election = %v, %v", ps, err)
	}
	// Three "Masters", each with its own session, join as Curator's
	// LeaderLatch does: protected ephemeral sequential "latch-" nodes.
	var conns []*gozk.Conn
	for i := range 3 {
		c := raw(t, srv.Addr())
		p := dir + "/leader_election"
		for _, q := range []string{dir, p} {
			if _, err := c.Create(q, nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil && !errors.Is(err, gozk.ErrNodeExists) {
				t.Fatal(err)
			}
		}
		uuid := fmt.Sprintf("0000000%d-1111-2222-3333-444444444444", i)
		if _, err := c.Create(p+"/_c_"+uuid+"-latch-", nil, gozk.FlagEphemeral|gozk.FlagSequence, gozk.WorldACL(gozk.PermAll)); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	ps, err := s.Leaders(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("Leaders = %+v, want 3", ps)
	}
	for i, p := range ps {
		if p.Session != conns[i].SessionID() || p.Leader != (i == 0) || p.Seq != int64(i) || p.Created.IsZero() {
			t.Errorf("participant %d = %+v, want session %x seq %d leader %v", i, p, conns[i].SessionID(), i, i == 0)
		}
	}
	// The leader's session ends: the next one leads.
	conns[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps, err = s.Leaders(t.Context())
		if err == nil && len(ps) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader's ephemeral node still there: %+v, %v", ps, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !ps[0].Leader || ps[0].Session != conns[1].SessionID() || ps[1].Leader {
		t.Fatalf("after leader left: %+v", ps)
	}
}

// Captures of real Spark ZooKeeper state are required: a tree without any
// fails, so that the check cannot silently stop running.
func TestSparkCaptures(t *testing.T) {
	t.Parallel()
	dumps, err := filepath.Glob("../../testdata/spark/*/zookeeper/znodes.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(dumps) == 0 {
		t.Fatal("no ZooKeeper capture under testdata/spark/<version>/zookeeper/znodes.json; captures are required")
	}
	srv := zktest.Start(t)
	for i, path := range dumps {
		version := filepath.Base(filepath.Dir(filepath.Dir(path)))
		for _, chroot := range []string{"", fmt.Sprintf("/capture%d/root", i)} {
			t.Run(version+"/chroot="+chroot, func(t *testing.T) {
				checkCapture(t, srv, path, chroot)
			})
		}
	}
}

// The capture check itself must work before the first real capture lands:
// run it on a synthetic dump in the same format, with a leader latch and
// ZooKeeper's own /zookeeper node, which the loader must skip.
func TestCaptureCheckOnSyntheticDump(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "9.9.9", "zookeeper")
	if err := os.MkdirAll(filepath.Join(dir, "records"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := zktest.Dump{SparkDir: "/recoverctl-test/spark"}
	world := []zktest.ZnodeACL{{Perms: 31, Scheme: "world", ID: "anyone"}}
	d.Znodes = append(d.Znodes,
		zktest.Znode{Path: "/zookeeper", ACL: world},
		zktest.Znode{Path: "/recoverctl-test/spark/leader_election/_c_abc-latch-0000000000", ACL: world, Stat: map[string]any{"ephemeralOwner": 1}},
	)
	for i, name := range []string{"app_app-20240102150405-0000", "driver_driver-20240102150405-0000", "worker_worker-20240102150405-127.0.0.1-4000"} {
		data := storetest.Payload(uint64(i), 2600+i)
		d.Znodes = append(d.Znodes, zktest.Znode{Path: d.SparkDir + "/master_status/" + name, Data: data, ACL: world})
		if err := os.WriteFile(filepath.Join(dir, "records", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	js, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "znodes.json")
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := zktest.Start(t)
	for _, chroot := range []string{"", "/c/d"} {
		t.Run("chroot="+chroot, func(t *testing.T) { checkCapture(t, srv, path, chroot) })
	}
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: d.SparkDir})
	if ps, err := s.Leaders(t.Context()); err != nil || len(ps) != 1 || !ps[0].Leader {
		t.Fatalf("Leaders of loaded capture = %+v, %v", ps, err)
	}
}

var loadMu sync.Mutex

func checkCapture(t *testing.T, srv *zktest.Server, path, chroot string) {
	d, err := zktest.ReadDump(path)
	if err != nil {
		t.Fatal(err)
	}
	loadMu.Lock() // captures from different versions share the sparkDir at the root
	defer loadMu.Unlock()
	c := raw(t, srv.Addr())
	clear := func() {
		// Remove what an earlier capture loaded at the same place.
		root := chroot + d.SparkDir + "/master_status"
		kids, _, err := c.Children(root)
		if err != nil {
			return
		}
		for _, k := range kids {
			_ = c.Delete(root+"/"+k, -1)
		}
	}
	clear()
	if err := zktest.LoadDump(t.Context(), srv.Addr(), d, chroot); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(clear)
	want := map[string][]byte{}
	prefix := d.SparkDir + "/master_status/"
	for _, z := range d.Znodes {
		if name, ok := strings.CutPrefix(z.Path, prefix); ok && !strings.Contains(name, "/") {
			want[name] = z.Data
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s holds no master_status records", path)
	}
	s := open(t, zk.Options{Servers: srv.Addr() + chroot, SparkDir: d.SparkDir})
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != len(want) {
		t.Fatalf("List has %d entries, capture %d", len(es), len(want))
	}
	recDirs := []string{filepath.Join(filepath.Dir(path), "records"), filepath.Join(filepath.Dir(filepath.Dir(path)), "records")}
	for _, e := range es {
		data, ok := want[e.Name]
		if !ok {
			t.Errorf("List has %s, not in the capture", e.Name)
			continue
		}
		if e.Size != int64(len(data)) {
			t.Errorf("%s: size %d, capture %d", e.Name, e.Size, len(data))
		}
		rec, err := s.Read(t.Context(), e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec.Data, data) {
			t.Errorf("%s: Read bytes differ from the capture", e.Name)
		}
		for _, dir := range recDirs {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name)); err == nil && !bytes.Equal(b, rec.Data) {
				t.Errorf("%s: Read bytes differ from %s", e.Name, filepath.Join(dir, e.Name))
			}
		}
	}
}

func BenchmarkReadAll(b *testing.B) {
	srv := zktest.Start(b)
	s := open(b, zk.Options{Servers: srv.Addr()})
	const n = 3000
	names := make([]string, n)
	var batch []store.Record
	for i := range n {
		r := store.NewRecord(fmt.Sprintf("app_app-20240102150405-%04d", i), storetest.Payload(uint64(i), 2600))
		names[i] = r.Name
		batch = append(batch, r)
		if len(batch) == 200 || i == n-1 {
			if err := put(context.Background(), s, batch...); err != nil {
				b.Fatal(err)
			}
			batch = nil
		}
	}
	b.SetBytes(n * 2600)
	b.ResetTimer()
	for b.Loop() {
		got := 0
		err := s.Scan(context.Background(), store.ScanRequest{Names: names, ACL: true}, func(_ store.Record, err error) error {
			got++
			return err
		})
		if err != nil || got != n {
			b.Fatalf("ReadAll: %v, %d records", err, got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/record")
}

// A server that keeps the connection open but stops answering (frozen
// with SIGSTOP) must fail a pipelined read within the request timeout,
// not after go-zookeeper's own much longer session-based timeout.
func TestReadAllStalledServer(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), RequestTimeout: 2 * time.Second})
	names := []string{"app_a", "app_b", "app_c"}
	for _, n := range names {
		if err := put(t.Context(), s, store.NewRecord(n, []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	pid := srv.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	begin := time.Now()
	err := s.Scan(t.Context(), store.ScanRequest{Names: names, ACL: true}, func(_ store.Record, err error) error { return err })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ReadAll of a frozen server: %v, want ErrUnavailable", err)
	}
	if d := time.Since(begin); d > 4*time.Second {
		t.Fatalf("ReadAll of a frozen server took %s, want about the 2 s request timeout", d)
	}
}
