package rocksdb

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/storetest"
)

func openTarget(t testing.TB, dir string) *Target {
	t.Helper()
	tg, err := OpenTarget(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// committing commits after every batch, so that the conformance suite
// goes through the whole write: new directory, read-back, swap.
type committing struct{ *Target }

func (c committing) Apply(ctx context.Context, ops []store.Op) error {
	if err := c.Target.Apply(ctx, ops); err != nil {
		return err
	}
	return c.Target.Commit(ctx)
}

func TestTargetConformance(t *testing.T) {
	t.Run("staged", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
			dir := filepath.Join(t.TempDir(), "recovery")
			return openTarget(t, dir), func(t *testing.T) store.Store { return openTarget(t, dir) }
		})
	})
	t.Run("committed", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
			dir := filepath.Join(t.TempDir(), "recovery")
			return committing{openTarget(t, dir)}, func(t *testing.T) store.Store { return committing{openTarget(t, dir)} }
		})
	})
}

// onDisk is what a fresh reader finds in dir.
func onDisk(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Info().Problems; len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	out := map[string][]byte{}
	for _, n := range s.names {
		out[n] = s.recs[n].value
	}
	return out
}

func samePairs(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	g, w := pairLines(got), pairLines(want)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Fatalf("%s:\n got %d: %s\nwant %d: %s", what, len(g), diff(g, w), len(w), diff(w, g))
	}
}

// siblings lists the parent's entries other than the database.
func siblings(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() != filepath.Base(dir) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func seenOp(kind store.OpKind, name string, data, old []byte) store.Op {
	return store.Op{Kind: kind, Record: store.NewRecord(name, data), SeenVersion: -1, SeenSHA256: sha256.Sum256(old)}
}

// A Spark capture rewritten: replace, delete and create, committed; the
// swap leaves nothing beside the directory, and a second handle that
// staged on the old database is refused at its Commit.
func TestTargetCommit(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "recovery")
	if err := os.Rename(copyDir(t, filepath.Join(captureDir("4.0.5-2.13"), "rocksdb")), dir); err != nil {
		t.Fatal(err)
	}
	want := onDisk(t, dir)
	names := keys(want)
	tg := openTarget(t, dir)
	other := openTarget(t, dir)
	unlock, err := tg.Lock(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	newApp := storetest.Payload(7, 3000)
	ops := []store.Op{
		seenOp(store.OpReplace, names[0], []byte("replaced"), want[names[0]]),
		seenOp(store.OpDelete, names[1], nil, want[names[1]]),
		{Kind: store.OpCreate, Record: store.NewRecord("app_app-20261204180000-0009", newApp)},
	}
	if err := tg.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, dir); len(got) != len(want) {
		t.Fatal("Apply changed the disk before Commit")
	}
	if err := other.Apply(ctx, []store.Op{{Kind: store.OpCreate, Record: store.NewRecord("app_other", []byte("x"))}}); err != nil {
		t.Fatal(err)
	}
	if err := other.Commit(ctx); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("Commit of a second writer while the first holds the lock: %v, want ErrLocked", err)
	}
	if err := tg.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want[names[0]] = []byte("replaced")
	delete(want, names[1])
	want["app_app-20261204180000-0009"] = newApp
	samePairs(t, "after Commit", onDisk(t, dir), want)
	if s := siblings(t, dir); len(s) != 0 {
		t.Fatalf("left beside the database: %v", s)
	}
	// Still locked under the same name after the swap.
	if _, err := openTarget(t, dir).Lock(ctx, "b"); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("Lock after the swap, while held: %v, want ErrLocked", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := other.Commit(ctx); !errors.Is(err, store.ErrChanged) {
		t.Fatalf("Commit of changes staged on the old database: %v, want ErrChanged", err)
	}
	samePairs(t, "after the refused Commit", onDisk(t, dir), want)
	// The new database opens in RocksDB as Spark opens it.
	if got, exp := rocksCheck(t, dir), pairLines(want); strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Fatalf("RocksDB's iterator differs:\n got %s\nwant %s", diff(got, exp), diff(exp, got))
	}
}

func TestTargetNewDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "recovery")
	if _, err := OpenTarget(dir); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("OpenTarget with no parent: %v, want ErrUnavailable", err)
	}
	if err := os.Mkdir(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tg := openTarget(t, dir)
	want := map[string][]byte{"app_a": storetest.Payload(1, 100), "worker_w": storetest.Payload(2, 50000)}
	storetest.Create(t, committing{tg}, store.NewRecord("app_a", want["app_a"]), store.NewRecord("worker_w", want["worker_w"]))
	samePairs(t, "new database", onDisk(t, dir), want)

	// A directory with other files is no target.
	foreign := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(foreign, "app_x"), []byte("x"))
	if _, err := OpenTarget(foreign); err == nil || !strings.Contains(err.Error(), "no RocksDB database") {
		t.Fatalf("OpenTarget of a FILESYSTEM directory: %v", err)
	}
}

// TestHoldLockHelper is not a test: run by TestTargetRocksDBLock as a
// child process, it holds the LOCK file as RocksDB does (fcntl F_SETLK, a
// write lock) until its stdin closes. Another process, because a POSIX
// lock goes away when its process closes any descriptor of the file.
func TestHoldLockHelper(t *testing.T) {
	path := os.Getenv("RECOVERCTL_HOLD_LOCK")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("held\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// holdLock holds dir's LOCK from another process until release.
func holdLock(t *testing.T, dir string) (pid int, release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldLockHelper$")
	cmd.Env = append(os.Environ(), "RECOVERCTL_HOLD_LOCK="+filepath.Join(dir, "LOCK"))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("lock helper: %q, %v", line, err)
	}
	release = func() {
		in.Close()
		_ = cmd.Wait()
	}
	t.Cleanup(release)
	return cmd.Process.Pid, release
}

// A live RocksDB (a Master) holding the database's LOCK: Lock and Commit
// refuse, naming its process.
func TestTargetRocksDBLock(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "recovery")
	if err := Create(dir, map[string][]byte{"app_a": []byte("a")}); err != nil {
		t.Fatal(err)
	}
	pid, release := holdLock(t, dir)
	tg := openTarget(t, dir)
	_, err := tg.Lock(ctx, "test")
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", pid)) {
		t.Fatalf("Lock while RocksDB holds LOCK: %v, want ErrLocked naming process %d", err, pid)
	}
	if err := tg.Apply(ctx, []store.Op{{Kind: store.OpCreate, Record: store.NewRecord("app_b", []byte("b"))}}); err != nil {
		t.Fatal(err)
	}
	if err := tg.Commit(ctx); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("Commit while RocksDB holds LOCK: %v, want ErrLocked", err)
	}
	release()
	if err := tg.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	samePairs(t, "after the lock went", onDisk(t, dir), map[string][]byte{"app_a": []byte("a"), "app_b": []byte("b")})
}

// Every point a crash can stop Commit at leaves either the old or the new
// database in place, whole, and the next writer's Lock clears the rest.
func TestTargetCrash(t *testing.T) {
	ctx := context.Background()
	old := map[string][]byte{"app_a": storetest.Payload(1, 500), "app_b": storetest.Payload(2, 600)}
	for _, tc := range []struct {
		point      string
		noExchange bool
		newInPlace bool
	}{
		{"created", false, false},
		{"swapped", false, true},
		{"old-aside", false, true},
		{"renamed-aside", true, false},
		{"swapped", true, true},
		{"old-aside", true, true},
	} {
		name := tc.point
		if tc.noExchange {
			name += "-two-renames"
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "recovery")
			if err := Create(dir, old); err != nil {
				t.Fatal(err)
			}
			crashAt, noExchange = tc.point, tc.noExchange
			defer func() { crashAt, noExchange = "", false }()
			tg := openTarget(t, dir)
			unlock, err := tg.Lock(ctx, "killed")
			if err != nil {
				t.Fatal(err)
			}
			if err := tg.Apply(ctx, []store.Op{seenOp(store.OpDelete, "app_a", nil, old["app_a"]),
				{Kind: store.OpCreate, Record: store.NewRecord("app_c", []byte("c"))}}); err != nil {
				t.Fatal(err)
			}
			if err := tg.Commit(ctx); !errors.Is(err, errCrash) {
				t.Fatalf("Commit: %v, want the test crash", err)
			}
			if len(siblings(t, dir)) == 0 {
				t.Fatal("the crash left nothing beside the database: the test stops too late")
			}
			_ = unlock() // the kernel drops a dead writer's locks
			crashAt, noExchange = "", false

			next, err := OpenTarget(dir)
			if err != nil {
				t.Fatal(err)
			}
			if (next.Undone() != "") != (tc.point == "renamed-aside") {
				t.Errorf("Undone = %q", next.Undone())
			}
			unlock, err = next.Lock(ctx, "rerun")
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			if s := siblings(t, dir); len(s) != 0 {
				t.Fatalf("left beside the database after the next Lock: %v", s)
			}
			if len(next.Leftovers()) == 0 {
				t.Error("Leftovers names nothing")
			}
			want := old
			if tc.newInPlace {
				want = map[string][]byte{"app_b": old["app_b"], "app_c": []byte("c")}
			}
			samePairs(t, "after the crash", onDisk(t, dir), want)
		})
	}
}

// plan.Apply on a Target: the batches are staged, and the engine's Commit
// puts them on disk before the read-back.
func TestPlanApplyCommits(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "recovery")
	tg := openTarget(t, dir)
	src := memSource{}
	p := &plan.Plan{Source: "mem", Target: tg.String()}
	for i, n := range []string{"app_app-1", "driver_driver-1", "worker_worker-1"} {
		src[n] = storetest.Payload(uint64(i), 4000+i)
		p.Steps = append(p.Steps, plan.Step{Name: n, Action: plan.Create, Sum: sha256.Sum256(src[n]), DestSize: -1})
	}
	unlock, err := tg.Lock(ctx, "plan")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	res, err := plan.Apply(ctx, p, tg, src, plan.Options{ArchivePath: filepath.Join(t.TempDir(), "archive.tar.gz"), BatchBytes: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 3 || res.Verified != 3 || res.Batches != 3 {
		t.Errorf("result %+v", res)
	}
	samePairs(t, "after plan.Apply", onDisk(t, dir), src)
}

type memSource map[string][]byte

func (m memSource) Supply(ctx context.Context, names []string, fn func(store.Record) error) error {
	for _, n := range names {
		if err := fn(store.NewRecord(n, m[n])); err != nil {
			return err
		}
	}
	return nil
}

func (m memSource) Same(st *plan.Step, data []byte) bool { return sha256.Sum256(data) == st.Sum }

// Lock reads the database again, so that a plan made after it sees what
// another writer committed since OpenTarget.
func TestTargetLockRereads(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "recovery")
	if err := Create(dir, map[string][]byte{"app_a": []byte("a")}); err != nil {
		t.Fatal(err)
	}
	early := openTarget(t, dir)
	storetest.Create(t, committing{openTarget(t, dir)}, store.NewRecord("app_b", []byte("b")))
	unlock, err := early.Lock(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := early.Read(ctx, "app_b"); err != nil {
		t.Fatalf("after Lock, the record another writer committed: %v", err)
	}
	storetest.Create(t, early, store.NewRecord("app_c", []byte("c")))
	if err := early.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	samePairs(t, "after Commit", onDisk(t, dir), map[string][]byte{"app_a": []byte("a"), "app_b": []byte("b"), "app_c": []byte("c")})
}

// A database RocksDB wrote with SSTs on two levels, tombstones and a log
// tail is rewritten with exactly its live records plus the change; one
// with column families beyond default, or damage, is refused.
func TestTargetRewritesRocksDBFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recovery")
	if err := os.Rename(copyDir(t, filepath.Join("testdata", "jvm", "spark-options", "db")), dir); err != nil {
		t.Fatal(err)
	}
	want := onDisk(t, dir)
	if len(want) < 100 {
		t.Fatalf("%d records", len(want))
	}
	tg := openTarget(t, dir)
	storetest.Create(t, committing{tg}, store.NewRecord("app_new", []byte("n")))
	want["app_new"] = []byte("n")
	samePairs(t, "rewritten", onDisk(t, dir), want)
	if s := siblings(t, dir); len(s) != 0 {
		t.Fatalf("left beside the database: %v", s)
	}

	if _, err := OpenTarget(copyDir(t, filepath.Join("testdata", "jvm", "column-families", "db"))); !errors.Is(err, ErrUnsupported) {
		t.Errorf("OpenTarget with app_/driver_/worker_ column families: %v, want ErrUnsupported", err)
	}
	damaged := copyDir(t, filepath.Join(captureDir("4.0.5-2.13"), "rocksdb"))
	log := filepath.Join(damaged, "000004.log")
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	write(t, log, data)
	if _, err := OpenTarget(damaged); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("OpenTarget of a damaged database: %v", err)
	}
}
