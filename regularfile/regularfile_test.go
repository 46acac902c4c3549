package regularfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test if it has not returned after d: the
// point of these tests is that nothing blocks.
func within(t *testing.T, d time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("still blocked after %s", d)
		return nil
	}
}

func TestRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero", dir} {
		err := within(t, 5*time.Second, func() error { _, _, err := Open(path); return err })
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("Open(%s) = %v, want ErrNotRegular", path, err)
		}
		err = within(t, 5*time.Second, func() error { _, err := ReadFile(path, 1<<20); return err })
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadFile(%s) = %v, want ErrNotRegular", path, err)
		}
	}
	// A symbolic link to a FIFO is the FIFO.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(link); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Open(link to FIFO) = %v, want ErrNotRegular", err)
	}
}

func TestReadFileBound(t *testing.T) {
	dir := t.TempDir()
	const limit = 1000
	exact := filepath.Join(dir, "exact")
	if err := os.WriteFile(exact, make([]byte, limit), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(exact, limit); err != nil || len(b) != limit {
		t.Errorf("ReadFile(%d bytes, limit %d) = %d bytes, %v", limit, limit, len(b), err)
	}
	over := filepath.Join(dir, "over")
	if err := os.WriteFile(over, make([]byte, limit+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(over, limit); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadFile(limit+1 bytes) = %v, want ErrTooLarge", err)
	}
	// A sparse 64 GiB file is refused from its size, before any read.
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = within(t, 5*time.Second, func() error { _, err := ReadFile(huge, 4<<20); return err })
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadFile(64 GiB) = %v, want ErrTooLarge", err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(empty, limit); err != nil || len(b) != 0 {
		t.Errorf("ReadFile(empty) = %q, %v", b, err)
	}
}
