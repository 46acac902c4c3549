package livemaster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockName is recoverctl's advisory lock file in a recovery directory.
// Spark ignores it (it is not a record name); recoverctl's own listings
// show it as a foreign entry. It is never deleted: removing a lock file
// while another process waits on it would let two writers hold "the" lock.
const LockName = ".recoverctl.lock"

// ErrLocked means another recoverctl writer holds the directory's lock.
// --force does not override it: two recoverctl writers must never overlap.
var ErrLocked = errors.New("another recoverctl is writing to this recovery directory")

// DirLock is a held lock; Unlock releases it.
type DirLock struct {
	f    *os.File
	path string
}

// LockDir takes an exclusive flock(2) on <dir>/.recoverctl.lock without
// waiting, creating the file (mode 0600) if needed, and writes our pid into
// it so that people can see who holds it. The kernel drops the lock when
// the process dies, so a killed recoverctl never leaves a stale lock.
func LockDir(dir string) (*DirLock, error) {
	p := filepath.Join(dir, LockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(p)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := strings.TrimSpace(string(holder))
			if who != "" {
				who = " (pid " + who + ")"
			}
			return nil, fmt.Errorf("lock %s%s: %w", p, who, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DirLock{f: f, path: p}, nil
}

// Path is the lock file's path.
func (l *DirLock) Path() string { return l.path }

// Unlock releases the lock; the file stays.
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
