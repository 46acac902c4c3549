package rocksdb

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/store"
	"golang.org/x/sys/unix"
)

// problemIn returns the first problem that is a *FormatError of file.
func problemIn(info Info, file string) *FormatError {
	for _, p := range info.Problems {
		var fe *FormatError
		if errors.As(p, &fe) && fe.File == file {
			return fe
		}
	}
	return nil
}

// subsetOf checks that every record shown is one the undamaged database holds
// with the same bytes: damage may hide records, never invent or alter them.
func subsetOf(t *testing.T, got, full map[string]string) {
	t.Helper()
	for k, v := range got {
		if w, ok := full[k]; !ok || w != v {
			t.Errorf("%s shown after damage with bytes the database never held", k)
		}
	}
}

func TestTruncatedLog(t *testing.T) {
	src := filepath.Join(captureDir("4.0.5-2.13"), "rocksdb")
	full, _ := contents(t, src)
	st, err := os.Stat(filepath.Join(src, "000004.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int64{1, 100, 5000, st.Size() - 20} {
		dir := copyDir(t, src)
		if err := os.Truncate(filepath.Join(dir, "000004.log"), st.Size()-cut); err != nil {
			t.Fatal(err)
		}
		got, info := contents(t, dir)
		fe := problemIn(info, "000004.log")
		if fe == nil || !errors.Is(fe, ErrTruncated) || fe.Offset < 0 || fe.Offset >= st.Size() {
			t.Errorf("cut %d: problems %v", cut, info.Problems)
		}
		subsetOf(t, got, full)
		if cut < 1000 && len(got) != len(full)-1 {
			t.Errorf("cut %d: %d records, want all but the last written (%d)", cut, len(got), len(full)-1)
		}
	}
}

// A log cut inside the fragments of its 79 KB record loses that record and
// the batch after it, nothing before.
func TestTruncatedFragmentedLog(t *testing.T) {
	src := filepath.Join("testdata", "jvm", "spark-options", "db")
	full, _ := contents(t, src)
	dir := copyDir(t, src)
	p := filepath.Join(dir, "000011.log")
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, st.Size()-40000); err != nil {
		t.Fatal(err)
	}
	got, info := contents(t, dir)
	fe := problemIn(info, "000011.log")
	if fe == nil || !errors.Is(fe, ErrTruncated) || fe.Offset > st.Size()-40000 {
		t.Fatalf("problems %v", info.Problems)
	}
	for _, lost := range []string{"driver_driver-20261128051409-0400", "worker_worker-20261128051338-127.0.0.1-30401"} {
		if _, ok := full[lost]; !ok {
			t.Fatalf("%s not in the full database", lost)
		}
		if _, ok := got[lost]; ok {
			t.Errorf("%s shown though its batch was cut", lost)
		}
	}
	if len(got) < len(full)-3 {
		t.Errorf("%d of %d records", len(got), len(full))
	}
}

func TestFlippedLogByte(t *testing.T) {
	src := filepath.Join(captureDir("4.3.0-2.13"), "rocksdb")
	full, _ := contents(t, src)
	dir := copyDir(t, src)
	p := filepath.Join(dir, "000004.log")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	write(t, p, b)
	got, info := contents(t, dir)
	fe := problemIn(info, "000004.log")
	if fe == nil || !errors.Is(fe, ErrChecksum) || fe.Offset > int64(len(b)/2) {
		t.Fatalf("problems %v", info.Problems)
	}
	if !strings.Contains(fe.Error(), "000004.log offset ") {
		t.Errorf("message %q names no file and offset", fe)
	}
	subsetOf(t, got, full)
	if len(got) == 0 || len(got) == len(full) {
		t.Errorf("%d of %d records shown", len(got), len(full))
	}
}

func TestFlippedSSTByte(t *testing.T) {
	src := filepath.Join("testdata", "jvm", "spark-options", "db")
	full, _ := contents(t, src)
	dir := copyDir(t, src)
	sst := bottomSST(t, dir)
	p := filepath.Join(dir, sst)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x01 // inside the data blocks
	write(t, p, b)
	got, info := contents(t, dir)
	fe := problemIn(info, sst)
	if fe == nil || !errors.Is(fe, ErrChecksum) || fe.Offset > int64(len(b)/3) || fe.Offset < int64(len(b)/3)-70000 {
		t.Fatalf("problems %v", info.Problems)
	}
	subsetOf(t, got, full)
	if len(got) < len(full)/2 || len(got) == len(full) {
		t.Errorf("%d of %d records shown: other blocks must still be read", len(got), len(full))
	}
}

// bottomSST names the deepest SST, whose keys have no older version elsewhere.
func bottomSST(t *testing.T, dir string) string {
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	best, lvl := "", -1
	for _, f := range s.Info().Files {
		if f.Kind == "sst" && f.Level > lvl {
			best, lvl = f.Name, f.Level
		}
	}
	if best == "" {
		t.Fatal("no SST")
	}
	return best
}

func TestMissingAndTruncatedSST(t *testing.T) {
	src := filepath.Join("testdata", "jvm", "spark-options", "db")
	dir := copyDir(t, src)
	sst := bottomSST(t, dir)
	if err := os.Remove(filepath.Join(dir, sst)); err != nil {
		t.Fatal(err)
	}
	got, info := contents(t, dir)
	found := false
	for _, p := range info.Problems {
		if errors.Is(p, fs.ErrNotExist) && strings.Contains(p.Error(), sst) {
			found = true
		}
	}
	if !found || len(got) == 0 {
		t.Errorf("missing %s: %d records, problems %v", sst, len(got), info.Problems)
	}

	dir = copyDir(t, src)
	if err := os.Truncate(filepath.Join(dir, sst), 30); err != nil {
		t.Fatal(err)
	}
	got, info = contents(t, dir)
	if fe := problemIn(info, sst); fe == nil || !errors.Is(fe, ErrTruncated) || len(got) == 0 {
		t.Errorf("truncated %s: %d records, problems %v", sst, len(got), info.Problems)
	}
}

func TestBadManifest(t *testing.T) {
	src := filepath.Join("testdata", "jvm", "column-families", "db")
	for name, damage := range map[string]func([]byte) []byte{
		"garbage": func(b []byte) []byte {
			for i := range b {
				b[i] = byte(i*7 + 3)
			}
			return b
		},
		"flipped": func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b },
		"empty":   func([]byte) []byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, src)
			p := filepath.Join(dir, "MANIFEST-000005")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			write(t, p, damage(b))
			_, err = Open(dir)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.File != "MANIFEST-000005" || !strings.Contains(err.Error(), "MANIFEST-000005 offset ") {
				t.Fatalf("Open = %v", err)
			}
		})
	}
	// A last edit cut short (a killed writer) costs only that edit.
	dir := copyDir(t, src)
	p := filepath.Join(dir, "MANIFEST-000005")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	write(t, p, b[:len(b)-3])
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fe := problemIn(s.Info(), "MANIFEST-000005"); fe == nil || !errors.Is(fe, ErrTruncated) {
		t.Errorf("problems %v", s.Info().Problems)
	}
}

func TestMissingCurrentManifest(t *testing.T) {
	dir := copyDir(t, filepath.Join(captureDir("4.0.5-2.13"), "rocksdb"))
	if err := os.Remove(filepath.Join(dir, "MANIFEST-000005")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "MANIFEST-000005") {
		t.Errorf("Open = %v", err)
	}
}

// A database whose LOCK a live RocksDB holds is read as it is, and says so.
func TestLockedDatabase(t *testing.T) {
	src := filepath.Join(captureDir("4.0.5-2.13"), "rocksdb")
	dir := copyDir(t, src)
	_, info := contents(t, dir)
	if info.Locked {
		t.Fatal("unlocked database reported locked")
	}
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// What RocksDB's PosixEnv::LockFile does.
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	got, info := contents(t, dir)
	if !info.Locked || info.LockPID != os.Getpid() {
		t.Errorf("Locked %v pid %d, want true %d", info.Locked, info.LockPID, os.Getpid())
	}
	if len(got) != 5 {
		t.Errorf("%d records from the locked database", len(got))
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(context.Background(), "app_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Error(err)
	}
}
