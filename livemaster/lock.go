package livemaster

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked means another recoverctl writer holds the directory's lock.
// --force does not override it: two recoverctl writers must never overlap.
var ErrLocked = errors.New("another recoverctl is writing to this recovery directory")

// DirLock is a held lock; Unlock releases it.
type DirLock struct {
	f    *os.File
	path string
}

// LockDir takes an exclusive flock(2) on the recovery directory itself,
// without waiting. Locking the directory rather than a file in it leaves
// nothing behind for Spark or for listings to trip over, and the kernel drops
// the lock when the process dies, so a killed recoverctl never leaves a
// stale lock.
func LockDir(dir string) (*DirLock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return &DirLock{f: f, path: dir}, nil
}

// Path is the locked directory.
func (l *DirLock) Path() string { return l.path }

// Unlock releases the lock.
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
