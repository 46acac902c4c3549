package fs

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/recoverctl/recoverctl/store"
)

// maxBatchBytes bounds one Apply: the temporary files of a batch are all
// written before the first is renamed, so this is what a batch holds on
// disk twice, and in memory once.
const maxBatchBytes = 8 << 20

// fileCost is what every change counts besides its bytes: about one
// file system block, so that a batch of tiny records still ends after
// a few thousand files.
const fileCost = 4 << 10

// Cost is what one change counts against MaxBatch.
func (s *Store) Cost(op store.Op) int { return len(op.Record.Data) + len(op.Record.Name) + fileCost }

// MaxChange is the largest record the directory takes: what Read reads
// back (MaxRecordBytes), with its cost.
func (s *Store) MaxChange() int { return MaxRecordBytes + fileCost + 255 }

// MaxBatch is the most one Apply takes, counted by Cost.
func (s *Store) MaxBatch() int { return maxBatchBytes }

// writeConcurrency is how many temporary files Apply writes and fsyncs at
// once. Concurrent fsyncs on one filesystem share journal commits (ext4,
// xfs), so a batch costs a few commits instead of one per file.
const writeConcurrency = 32

// Apply carries out ops in order. Each change is atomic and conditional:
// the bytes of a create or replace go to a temporary file in the
// directory, fsynced (all of the batch's concurrently); then, in order, a
// create is renamed onto its name only if the name is free (renameat2
// RENAME_NOREPLACE, or a hard link where the file system lacks it: never
// an overwrite), a replace or delete happens only if the file still holds
// the bytes the plan saw (SeenSHA256); the directory is fsynced once at
// the end. A directory has no multi-file transaction: on a failed change
// the ones before it are done and durable (OpError.Applied), the rest are
// not, and no temporary file is left.
//
// The content checks and the changes are not one atomic step; what keeps
// another writer out between them is Lock (for recoverctl) and the
// live-Master guard (for Spark).
func (s *Store) Apply(ctx context.Context, ops []store.Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	paths := make([]string, len(ops))
	for i, op := range ops {
		p, err := s.path(op.Record.Name)
		if err != nil {
			return &store.OpError{Index: i, Name: op.Record.Name, Err: err}
		}
		if c := s.Cost(op); c > s.MaxChange() {
			return &store.OpError{Index: i, Name: op.Record.Name,
				Err: fmt.Errorf("%d bytes, more than a record file may hold (%d): %w", len(op.Record.Data), MaxRecordBytes, store.ErrTooLarge)}
		}
		paths[i] = p
	}
	tmps, err := s.writeTemps(ctx, ops)
	defer func() {
		for _, t := range tmps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	if err != nil {
		return err
	}
	// Last chance to honour cancellation before the visible changes.
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, op := range ops {
		if err := s.applyOne(op, paths[i], tmps[i]); err != nil {
			if i > 0 {
				_ = s.syncDir() // the changes before it must survive a crash too
			}
			return &store.OpError{Index: i, Name: op.Record.Name, Applied: i, Err: err}
		}
		tmps[i] = "" // renamed or linked: nothing to remove
	}
	if err := s.syncDir(); err != nil {
		return fmt.Errorf("apply %d changes: %w", len(ops), err)
	}
	return nil
}

func (s *Store) applyOne(op store.Op, p, tmp string) error {
	switch op.Kind {
	case store.OpCreate:
		return renameNoReplace(tmp, p)
	case store.OpReplace:
		if err := s.expect(p, op.SeenSHA256); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return fmt.Errorf("replace %s: %w", p, err)
		}
		return nil
	case store.OpDelete:
		if err := s.expect(p, op.SeenSHA256); err != nil {
			return err
		}
		if err := os.Remove(p); err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return fmt.Errorf("delete %s: %w", p, store.ErrNotFound)
			}
			return fmt.Errorf("delete %s: %w", p, err)
		}
		return nil
	}
	return fmt.Errorf("unknown change %v", op.Kind)
}

// expect checks that the regular file p holds the bytes whose SHA-256 the
// plan saw.
func (s *Store) expect(p string, sum [32]byte) error {
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return fmt.Errorf("%s: %w", p, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("%s: %w", p, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s: not a regular file (%s): %w", p, fi.Mode().Type(), store.ErrChanged)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if got := sha256.Sum256(data); !bytes.Equal(got[:], sum[:]) {
		return fmt.Errorf("%s: %w", p, store.ErrChanged)
	}
	return nil
}

// renameNoReplace moves tmp onto p only if p does not exist.
func renameNoReplace(tmp, p string) error {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, p, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("create %s: %w", p, store.ErrExists)
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		// No RENAME_NOREPLACE here: a hard link fails on an existing name
		// just the same; the temporary name is removed afterwards.
		if err := os.Link(tmp, p); err != nil {
			if errors.Is(err, iofs.ErrExist) {
				return fmt.Errorf("create %s: %w", p, store.ErrExists)
			}
			return fmt.Errorf("create %s: %w", p, err)
		}
		return os.Remove(tmp)
	}
	return fmt.Errorf("create %s: %w", p, err)
}

// writeTemps writes the bytes of every create and replace to its own
// temporary file, fsynced, writeConcurrency at a time; "" for deletes. On
// error the files written are returned for removal.
func (s *Store) writeTemps(ctx context.Context, ops []store.Op) ([]string, error) {
	tmps := make([]string, len(ops))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range min(writeConcurrency, len(ops)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				tmp, err := s.writeTemp(ops[i].Record.Data)
				mu.Lock()
				tmps[i] = tmp
				if err != nil && firstErr == nil {
					firstErr = &store.OpError{Index: i, Name: ops[i].Record.Name, Err: err}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i, op := range ops {
		if op.Kind == store.OpDelete {
			continue
		}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return tmps, firstErr
}

// writeTemp writes data to a new temporary file in the directory, fsyncs
// and closes it, and returns its path; on error nothing is left behind.
// The file is created with mode 0666 minus the umask, as Spark's
// File.createNewFile does, so a Master running as the same user reads it.
func (s *Store) writeTemp(data []byte) (string, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(s.dir, tempPrefix+hex.EncodeToString(rnd[:])+tempSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return "", fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

func (s *Store) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", s.dir, err)
	}
	return nil
}

// Lock takes an exclusive flock(2) on the recovery directory itself,
// without waiting. Locking the directory rather than a file in it leaves
// nothing behind for Spark or for listings to trip over, and the kernel
// drops the lock when the process dies, so a killed recoverctl never
// leaves a stale lock. Holding it, the writer then removes the temporary
// files that a killed writer left (Leftovers says which).
func (s *Store) Lock(ctx context.Context, holder string) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.Missing() {
		if err := os.MkdirAll(s.dir, 0o777); err != nil {
			return nil, fmt.Errorf("create recovery directory %s: %w", s.dir, err)
		}
		real, err := filepath.EvalSymlinks(s.dir)
		if err != nil {
			return nil, fmt.Errorf("create recovery directory %s: %w", s.dir, err)
		}
		s.mu.Lock()
		s.created, s.real = true, real
		s.mu.Unlock()
	}
	f, err := os.Open(s.dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: another recoverctl is writing to this recovery directory: %w", s.dir, store.ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", s.dir, err)
	}
	s.removeLeftovers()
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		})
		return err
	}, nil
}

// removeLeftovers deletes the temporary files of earlier writers (a
// SIGKILL between writing and renaming leaves them): under the lock no
// other recoverctl is writing, so every one of them is dead.
func (s *Store) removeLeftovers() {
	names, err := readNames(s.dir)
	if err != nil {
		return
	}
	var removed []string
	for _, n := range names {
		if strings.HasPrefix(n, tempPrefix) && strings.HasSuffix(n, tempSuffix) {
			if os.Remove(filepath.Join(s.dir, n)) == nil {
				removed = append(removed, n)
			}
		}
	}
	s.mu.Lock()
	s.leftovers = removed
	s.mu.Unlock()
}

// Created reports whether Lock created the directory (OpenTarget of one
// that did not exist).
func (s *Store) Created() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

// Leftovers names the temporary files of killed writers that Lock removed.
func (s *Store) Leftovers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.leftovers...)
}

// Commit does nothing: Apply made every batch durable as it came.
func (s *Store) Commit(context.Context) error { return nil }
