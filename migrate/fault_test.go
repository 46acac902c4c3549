package migrate_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/zk"
)

// faultRun migrates src into dst, calling fault once after the first
// batch (while the migration goes on), and reruns plan and apply until the
// migration completes (at most three runs). Every failed run must fail
// with a clear, store-unavailable error; in the end the target holds
// every record exactly, the source is unchanged.
func faultRun(t *testing.T, src store.Reader, dst store.Store, opts migrate.Options, fault func()) (runs int) {
	t.Helper()
	ctx := context.Background()
	before := snapshot(t, src)
	var once sync.Once
	var wg sync.WaitGroup
	progress := func(e plan.Event) {
		if e.Phase == plan.PhaseWrite && e.Retry == nil {
			once.Do(func() { wg.Add(1); go func() { defer wg.Done(); fault() }() })
		}
	}
	for runs = 1; ; runs++ {
		p, msrc, err := migrate.Plan(ctx, src, dst, opts, nil)
		if err == nil {
			ao := applyOpts(t)
			ao.BatchBytes = 32 << 10
			_, err = plan.Apply(ctx, p, dst, msrc, withProgress(ao, progress))
		}
		if err == nil {
			break
		}
		t.Logf("run %d: %v", runs, err)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("run %d failed without saying the store was unavailable: %v", runs, err)
		}
		if runs == 3 {
			t.Fatalf("migration not complete after %d runs", runs)
		}
		wg.Wait()
	}
	wg.Wait()
	sameSnapshot(t, "source", before, snapshot(t, src))
	checkTarget(t, before, snapshot(t, dst), "", "")
	if p, _, err := migrate.Plan(ctx, src, dst, opts, nil); err != nil || p.Writes() != 0 {
		t.Fatalf("after the migration: %v, %d writes planned", err, p.Writes())
	}
	return runs
}

func bigSource(t *testing.T, n int) store.Reader {
	dir := t.TempDir()
	fillDir(t, dir, n, 4<<10)
	return openFS(t, dir)
}

func TestFaultServerRestart(t *testing.T) {
	srv := startZK(t)
	dst := openZK(t, srv.Addr(), "", nil)
	runs := faultRun(t, bigSource(t, 3000), dst, migrate.Options{}, func() {
		if err := srv.Restart(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("completed in %d runs", runs)
}

func TestFaultEnsembleMemberStopped(t *testing.T) {
	ens := zktest.StartEnsemble(t, 3)
	dst := openZK(t, ens.ConnectString(), "", nil)
	runs := faultRun(t, bigSource(t, 3000), dst, migrate.Options{}, func() {
		// Stop the member the client most likely talks to, then another
		// would lose the quorum: stop one only.
		if err := ens.StopServer(0); err != nil {
			t.Error(err)
		}
	})
	t.Logf("completed in %d runs", runs)
	if err := ens.StartServer(0); err != nil {
		t.Fatal(err)
	}
}

// TestFaultSessionExpired cuts every connection through a proxy for longer
// than the session timeout: the server expires the session, the client
// gets a new one when the proxy lets it through again.
func TestFaultSessionExpired(t *testing.T) {
	srv := startZK(t)
	px := newProxy(t, srv.Addr())
	dst := openZK(t, px.addr(), "", func(o *zk.Options) {
		o.SessionTimeout = 2 * time.Second
		o.RequestTimeout = 3 * time.Second
	})
	runs := faultRun(t, bigSource(t, 3000), dst, migrate.Options{}, func() {
		px.cut(5 * time.Second)
	})
	t.Logf("completed in %d runs; %d connections cut", runs, px.cuts.Load())
	if px.cuts.Load() == 0 {
		t.Fatal("the proxy cut nothing")
	}
}

// TestFaultServerPaused stops the server process (SIGSTOP) for longer than
// the session timeout, as a stuck JVM would.
func TestFaultServerPaused(t *testing.T) {
	srv := startZK(t)
	pid := serverPID(t, srv)
	dst := openZK(t, srv.Addr(), "", func(o *zk.Options) {
		o.SessionTimeout = 2 * time.Second
		o.RequestTimeout = 3 * time.Second
	})
	runs := faultRun(t, bigSource(t, 3000), dst, migrate.Options{}, func() {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		time.Sleep(5 * time.Second)
		_ = syscall.Kill(pid, syscall.SIGCONT)
	})
	t.Logf("completed in %d runs", runs)
}

// serverPID finds the server's java process by its data directory.
func serverPID(t *testing.T, srv *zktest.Server) int {
	t.Helper()
	out, err := exec.Command("pgrep", "-f", srv.Dir()).Output()
	if err != nil {
		t.Fatalf("pgrep %s: %v", srv.Dir(), err)
	}
	var pid int
	for _, c := range string(out) {
		if c < '0' || c > '9' {
			break
		}
		pid = pid*10 + int(c-'0')
	}
	if pid == 0 {
		t.Fatalf("no pid for %s", srv.Dir())
	}
	return pid
}

// TestFaultDirectoryFull writes into a tiny tmpfs: the migration stops with
// the device error and leaves only whole records; after the volume grows a
// rerun completes.
func TestFaultDirectoryFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root") // not one of the CI tests: the wrapper test below covers it
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	srv := startZK(t)
	zsrc := openZK(t, srv.Addr(), "", nil)
	migrateAll(t, bigSource(t, 200), zsrc, migrate.Options{}) // 800 KB
	before := snapshot(t, zsrc)
	dst := openFS(t, mnt)
	ctx := context.Background()
	p, msrc, err := migrate.Plan(ctx, zsrc, dst, migrate.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ao := applyOpts(t)
	_, err = plan.Apply(ctx, p, dst, msrc, ao)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("apply into a full directory: %v", err)
	}
	checkPartial(t, before, snapshot(t, dst))
	if out, err := exec.Command("mount", "-o", "remount,size=4m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("grow tmpfs: %v %s", err, out)
	}
	migrateAll(t, zsrc, dst, migrate.Options{})
	checkTarget(t, before, snapshot(t, dst), "", "")
	sameSnapshot(t, "source", before, snapshot(t, zsrc))
}

// checkPartial: every record in the target is whole (byte-identical to the
// source), and no temporary file is left.
func checkPartial(t *testing.T, src, dst map[string][]byte) {
	t.Helper()
	for name, data := range dst {
		if want, ok := src[name]; !ok || string(want) != string(data) {
			t.Fatalf("target holds a partial or foreign %s (%d bytes)", name, len(data))
		}
	}
}

// failingTarget fails Apply with err after after calls; it stands for
// a read-only or full directory where a test cannot make one (not root).
type failingTarget struct {
	store.Store
	after int
	err   error
	calls int
}

func (f *failingTarget) Apply(ctx context.Context, ops []store.Op) error {
	f.calls++
	if f.calls > f.after {
		return f.err
	}
	return f.Store.Apply(ctx, ops)
}

func TestFaultDirectoryReadOnly(t *testing.T) {
	ctx := context.Background()
	src := bigSource(t, 300)
	before := snapshot(t, src)
	dstDir := t.TempDir()
	dst := openFS(t, dstDir)
	// Real read-only directory where the platform enforces it for us.
	if os.Geteuid() == 0 {
		if out, err := exec.Command("mount", "--bind", dstDir, dstDir).CombinedOutput(); err != nil {
			t.Fatalf("bind mount: %v %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("umount", dstDir).Run() })
		if out, err := exec.Command("mount", "-o", "remount,bind,ro", dstDir).CombinedOutput(); err != nil {
			t.Fatalf("remount ro: %v %s", err, out)
		}
		p, msrc, err := migrate.Plan(ctx, src, dst, migrate.Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plan.Apply(ctx, p, dst, msrc, applyOpts(t)); !errors.Is(err, syscall.EROFS) {
			t.Fatalf("apply into a read-only directory: %v", err)
		}
		if got := snapshot(t, dst); len(got) != 0 {
			t.Fatalf("%d records in a read-only directory", len(got))
		}
		if out, err := exec.Command("umount", dstDir).CombinedOutput(); err != nil {
			t.Fatalf("umount: %v %s", err, out)
		}
	}
	// The wrapper: the device fails after some batches.
	ft := &failingTarget{Store: dst, after: 3, err: &os.PathError{Op: "write", Path: dstDir, Err: syscall.ENOSPC}}
	p, msrc, err := migrate.Plan(ctx, src, ft, migrate.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ao := applyOpts(t)
	ao.BatchBytes = 64 << 10
	if _, err := plan.Apply(ctx, p, ft, msrc, ao); !errors.Is(err, syscall.ENOSPC) || ft.calls != 4 {
		t.Fatalf("apply with a failing device: %v after %d calls", err, ft.calls)
	}
	checkPartial(t, before, snapshot(t, dst))
	migrateAll(t, src, dst, migrate.Options{})
	checkTarget(t, before, snapshot(t, dst), "", "")
	sameSnapshot(t, "source", before, snapshot(t, src))
}

// proxy forwards TCP to a backend and can cut every connection and refuse
// new ones for a while.
type proxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	conns   []net.Conn
	until   time.Time
	cuts    atomic.Int64
}

func newProxy(t *testing.T, backend string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		blocked := time.Now().Before(p.until)
		p.mu.Unlock()
		if blocked {
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(b, c); b.Close(); c.Close() }()
		go func() { _, _ = io.Copy(c, b); b.Close(); c.Close() }()
	}
}

func (p *proxy) cut(d time.Duration) {
	p.mu.Lock()
	p.until = time.Now().Add(d)
	for _, c := range p.conns {
		c.Close()
	}
	p.cuts.Add(int64(len(p.conns) / 2))
	p.conns = nil
	p.mu.Unlock()
	time.Sleep(d)
}
