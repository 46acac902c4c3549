package fs_test

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/storetest"
)

func open(t *testing.T) *fs.Store {
	t.Helper()
	s, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
		s := open(t)
		return s, func(t *testing.T) store.Store {
			again, err := fs.Open(s.Dir())
			if err != nil {
				t.Fatal(err)
			}
			return again
		}
	})
}

func TestOpenMissingIsUnavailable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := fs.Open(dir)
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open missing dir: %v, want ErrUnavailable naming %s", err, dir)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Open(file); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open on a file: %v, want ErrUnavailable", err)
	}
}

func TestDirectoryRemovedAfterOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("List: %v, want ErrUnavailable", err)
	}
	if err := put(t.Context(), s, store.NewRecord("app_x", []byte("x"))); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Write: %v, want ErrUnavailable", err)
	}
}

// Spark creates records with File.createNewFile (mode 0666 minus umask).
// Not parallel: the umask is per process.
func TestFileModeFollowsUmask(t *testing.T) {
	for _, umask := range []int{0o022, 0o077, 0o002} {
		old := syscall.Umask(umask)
		s := open(t)
		err := put(t.Context(), s, store.NewRecord("app_m", []byte("x")))
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(s.Dir(), "app_m"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o666&^umask); got != want {
			t.Errorf("umask %03o: mode %v, want %v", umask, got, want)
		}
	}
}

func TestWriteLeavesNoTempFiles(t *testing.T) {
	s := open(t)
	if err := put(t.Context(), s, store.NewRecord("app_a", storetest.Payload(0, 100))); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 5; i++ {
		// A failed create and a replace leave nothing behind either.
		if err := put(t.Context(), s, store.NewRecord("app_a", storetest.Payload(uint64(i), 100))); !errors.Is(err, store.ErrExists) {
			t.Fatalf("create over app_a: %v, want ErrExists", err)
		}
		rec, err := s.Read(t.Context(), "app_a")
		if err != nil {
			t.Fatal(err)
		}
		err = s.Apply(t.Context(), []store.Op{{Kind: store.OpReplace, Record: store.NewRecord("app_a", storetest.Payload(uint64(i), 100)), SeenSHA256: sha256.Sum256(rec.Data)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	des, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 || des[0].Name() != "app_a" {
		var names []string
		for _, d := range des {
			names = append(names, d.Name())
		}
		t.Fatalf("directory holds %v, want only app_a", names)
	}
}

func TestProblemsReported(t *testing.T) {
	s := open(t)
	dir := s.Dir()
	if err := put(t.Context(), s, store.NewRecord("app_ok", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "app_subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "driver_dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "app_ok"), filepath.Join(dir, "app_link")); err != nil {
		t.Fatal(err)
	}
	wantProblems := []string{"app_subdir", "driver_dangling"}
	if os.Geteuid() != 0 { // root reads mode-000 files anyway
		if err := os.WriteFile(filepath.Join(dir, "worker_noread"), []byte("x"), 0o000); err != nil {
			t.Fatal(err)
		}
		wantProblems = append(wantProblems, "worker_noread")
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("List must not fail on bad entries: %v", err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if want := "app_link,app_ok," + strings.Join(wantProblems, ","); strings.Join(names, ",") != want {
		t.Errorf("List = %v, want every entry: the readable ones and the problems %v", names, wantProblems)
	}
	var got []string
	for _, p := range s.Problems() {
		got = append(got, p.Name)
		if p.Err == nil {
			t.Errorf("problem %s without error", p.Name)
		}
	}
	if strings.Join(got, ",") != strings.Join(wantProblems, ",") {
		t.Errorf("Problems = %v, want %v", got, wantProblems)
	}
	if _, err := s.Read(t.Context(), "app_subdir"); err == nil {
		t.Error("Read of a directory succeeded")
	}
	if err := del(t.Context(), s, "app_subdir"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delete of a directory: %v, want a refusal", err)
	}
}

func TestReadTooLarge(t *testing.T) {
	s := open(t)
	f, err := os.Create(filepath.Join(s.Dir(), "app_huge"))
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: no disk used.
	if err := f.Truncate(fs.MaxRecordBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := s.Read(t.Context(), "app_huge"); !errors.Is(err, fs.ErrTooLarge) {
		t.Fatalf("Read: %v, want ErrTooLarge", err)
	}
}

func TestString(t *testing.T) {
	s := open(t)
	if want := "fs://" + s.Dir(); s.String() != want {
		t.Fatalf("String = %q, want %q", s.String(), want)
	}
}

func TestLockLeavesNothing(t *testing.T) {
	s := open(t)
	unlock, err := s.Lock(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file description: a second open in
	// the same process conflicts, as another process would.
	again, err := fs.Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Lock(t.Context(), "test"); !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), s.Dir()) {
		t.Fatalf("second lock: %v, want ErrLocked naming the directory", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(s.Dir()); len(ents) != 0 {
		t.Errorf("locking left %v in the directory", ents)
	}
}

// TestLockRemovesLeftovers: a writer killed between writing and renaming
// leaves temporary files; the next writer removes them under its lock.
func TestLockRemovesLeftovers(t *testing.T) {
	s := open(t)
	left := filepath.Join(s.Dir(), ".recoverctl-0123456789abcdef.tmp")
	other := filepath.Join(s.Dir(), ".recoverctl-notes")
	for _, p := range []string{left, other} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	unlock, err := s.Lock(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("leftover temporary file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a file that is no temporary file of ours was removed: %v", err)
	}
	if got := s.Leftovers(); len(got) != 1 || got[0] != filepath.Base(left) {
		t.Fatalf("Leftovers = %v", got)
	}
}

// TestSymlinksStayInside: a symlink out of the directory, or one that
// another user than the directory's owner made, is never followed: it is
// listed as a problem and reading it fails, so no command carries
// /etc/passwd into an archive or a znode.
func TestSymlinksStayInside(t *testing.T) {
	s := open(t)
	dir := s.Dir()
	if err := put(t.Context(), s, store.NewRecord("app_ok", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "app_shadow")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "app_ok"), filepath.Join(dir, "app_inside")); err != nil {
		t.Fatal(err)
	}
	outside := []string{"app_shadow"}
	if os.Geteuid() == 0 {
		// A link inside the directory, but another user's.
		p := filepath.Join(dir, "app_strangers")
		if err := os.Symlink(filepath.Join(dir, "app_ok"), p); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		outside = append(outside, "app_strangers")
	}
	for _, n := range outside {
		if _, err := s.Read(t.Context(), n); !errors.Is(err, fs.ErrOutside) {
			t.Errorf("Read %s: %v, want ErrOutside", n, err)
		}
	}
	if rec, err := s.Read(t.Context(), "app_inside"); err != nil || string(rec.Data) != "x" {
		t.Errorf("a link inside the directory: %v", err)
	}
	if _, err := s.List(t.Context()); err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, p := range s.Problems() {
		problems = append(problems, p.Name)
	}
	slices.Sort(outside)
	if !slices.Equal(problems, outside) {
		t.Errorf("Problems = %v, want %v", problems, outside)
	}
	got := map[string]error{}
	err := s.Scan(t.Context(), store.ScanRequest{}, func(rec store.Record, err error) error {
		got[rec.Name] = err
		if err == nil && strings.Contains(string(rec.Data), "root:") {
			t.Errorf("%s: Scan read /etc/passwd", rec.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range outside {
		if !errors.Is(got[n], fs.ErrOutside) {
			t.Errorf("Scan %s: %v, want ErrOutside", n, got[n])
		}
	}
}

// TestOpenTargetCreates: a target directory that does not exist is an
// empty store until Lock creates it, parents included; Open still refuses
// a missing directory.
func TestOpenTargetCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "recovery")
	if _, err := fs.Open(dir); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open of a missing directory: %v", err)
	}
	s, err := fs.OpenTarget(dir)
	if err != nil {
		t.Fatal(err)
	}
	if es, err := s.List(t.Context()); err != nil || len(es) != 0 {
		t.Fatalf("List of a target not created yet: %v %v", es, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("OpenTarget created the directory before Lock")
	}
	unlock, err := s.Lock(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || !s.Created() {
		t.Fatalf("Lock did not create the directory: %v", err)
	}
	if err := put(t.Context(), s, store.NewRecord("app_a", []byte("x"))); err != nil {
		t.Fatal(err)
	}
}
