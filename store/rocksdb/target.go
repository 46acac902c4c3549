package rocksdb

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/recoverctl/recoverctl/store"
)

// Target is a RocksDB database directory that recoverctl writes (restore,
// migrate, prune): a store.Store whose Commit writes what Apply staged.
//
// There is no in-place writer: Apply only stages changes, each conditional
// on the database as Open read it plus the changes staged before it; Commit
// then writes the whole new database beside the old one, reads it back,
// and swaps the directories:
//
//  1. Create <dir>.recoverctl-new-<rand> in the same parent (the old
//     database's pairs with the staged changes) and read it back with Open:
//     exactly the expected pairs, no problem.
//  2. Exchange the two directories in one rename (renameat2
//     RENAME_EXCHANGE); where the file system lacks it, rename the old one
//     to <dir>.recoverctl-old-<rand>, then the new one to <dir>.
//  3. Rename what is now the -new- name (the old database) to -old-, read
//     <dir> back again, then remove the old database.
//
// What a crash (or SIGKILL) leaves, and what the next OpenTarget and Lock
// do with it, under the lock of <dir> (no other recoverctl is writing):
//   - during or after 1: <dir> is the old database, untouched; the -new-
//     directory (partial or whole) is removed. The run wrote nothing, and a
//     rerun plans and writes it all again.
//   - after the exchange of 2: <dir> is the new database, which read back
//     whole before the swap; the old one, under -new- or -old-, is removed.
//     A rerun finds every record identical. The records of the old
//     database are in the plan's pre-write archive.
//   - between the two renames of the fallback of 2: <dir> is missing and
//     the old database is under -old-: OpenTarget renames it back to <dir>
//     (the run is undone, Recovered says so), and the -new- one is removed.
//   - during 3's removal: a partial -old- directory, removed.
//
// The lock is flock(2) on <dir> itself, as store/fs takes it; Commit locks
// the new directory too before the swap, so that the name <dir> is locked
// whichever directory it names. Lock also refuses while a live RocksDB (a
// Master) holds the database's own LOCK.
//
// Entries carry Version -1 (conditions compare bytes, as in a directory)
// and, since RocksDB keeps no time per key, the modification time of the
// database's newest file; staged ones the time they were staged.
type Target struct {
	dir  string // as given, for String
	real string // dir with symlinks resolved: what is renamed

	mu      sync.Mutex
	base    *Store // nil: no database yet (a new or empty directory)
	baseSum [32]byte
	// baseTime is when the database last changed (its newest file): the
	// modification time of each of its records, which RocksDB does not
	// keep per key.
	baseTime time.Time
	staged   map[string]change
	lock     *os.File
	removed  []string
	undone   string
}

type change struct {
	data    []byte
	deleted bool
	at      time.Time
}

const (
	newInfix = ".recoverctl-new-"
	oldInfix = ".recoverctl-old-"
	// opCost is what every change counts besides its bytes.
	opCost = 64
)

var _ store.Store = (*Target)(nil)

// OpenTarget opens dir for writing: a RocksDB database, an empty directory
// or none yet (its parent must exist; Lock creates it). A directory that
// holds other files is refused, and so is a database this writer could not
// rewrite without losing something: one with damage the reader reported,
// or column families other than default (no released Spark uses them). It
// first undoes a swap a crash left halfway (see Target).
func OpenTarget(dir string) (*Target, error) {
	t := &Target{dir: dir, real: filepath.Clean(dir), staged: map[string]change{}}
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		t.real = r
	}
	if _, err := os.Stat(filepath.Dir(t.real)); err != nil {
		return nil, fmt.Errorf("rocksdb: %s: parent directory: %w: %w", dir, store.ErrUnavailable, err)
	}
	undone, err := undoSwap(t.real)
	if err != nil {
		return nil, err
	}
	t.undone = undone
	if err := t.load(); err != nil {
		return nil, err
	}
	return t, nil
}

// load reads the database as it is on disk into base.
func (t *Target) load() error {
	s, err := openExisting(t.real)
	if err != nil {
		return err
	}
	t.base = s
	t.baseSum = fingerprint(s)
	t.baseTime = time.Time{}
	if ents, err := os.ReadDir(t.real); err == nil {
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.ModTime().After(t.baseTime) {
				t.baseTime = fi.ModTime()
			}
		}
	}
	return nil
}

// openExisting reads the database in dir; nil for a missing or empty
// directory.
func openExisting(dir string) (*Store, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rocksdb: %s: %w", dir, err)
	}
	if len(ents) == 0 {
		return nil, nil
	}
	if !IsDatabase(dir) {
		return nil, fmt.Errorf("rocksdb: %s holds %d entries but no RocksDB database (no CURRENT and MANIFEST): refusing to write a database over it", dir, len(ents))
	}
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	if len(s.info.Problems) > 0 {
		return nil, fmt.Errorf("rocksdb: %s is damaged (%d problems, first: %w); rewriting it would drop what cannot be read: move it aside and write a new database", dir, len(s.info.Problems), s.info.Problems[0])
	}
	if len(s.info.ColumnFamilies) != 1 || s.info.ColumnFamilies[0] != "default" {
		return nil, fmt.Errorf("rocksdb: %s has column families %v: this writer writes the default one only, as Spark 4.0 to 4.3 use: %w", dir, s.info.ColumnFamilies, ErrUnsupported)
	}
	return s, nil
}

// fingerprint sums every key and value, the condition of a Commit: the
// database must still be the one the changes were staged on.
func fingerprint(s *Store) [32]byte {
	h := sha256.New()
	if s == nil {
		return [32]byte{}
	}
	var n [8]byte
	for _, k := range s.names {
		v := s.recs[k].value
		putLen := func(x int) {
			for i := range n {
				n[i] = byte(x >> (8 * i))
			}
			h.Write(n[:])
		}
		putLen(len(k))
		h.Write([]byte(k))
		putLen(len(v))
		h.Write(v)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// String names the store for people.
func (t *Target) String() string { return "rocksdb://" + t.dir }

// Undone names the -old- directory that OpenTarget renamed back to the
// database (a swap a crash left halfway), or "".
func (t *Target) Undone() string { return t.undone }

// Leftovers names the directories of killed writers that Lock removed.
func (t *Target) Leftovers() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.removed...)
}

func (t *Target) lookup(name string) ([]byte, bool) {
	v, _, ok := t.lookupTime(name)
	return v, ok
}

func (t *Target) lookupTime(name string) ([]byte, time.Time, bool) {
	if c, ok := t.staged[name]; ok {
		return c.data, c.at, !c.deleted
	}
	if t.base != nil {
		if r, ok := t.base.recs[name]; ok {
			return r.value, t.baseTime, true
		}
	}
	return nil, time.Time{}, false
}

func (t *Target) names() []string {
	var out []string
	if t.base != nil {
		for _, n := range t.base.names {
			if c, ok := t.staged[n]; !ok || !c.deleted {
				out = append(out, n)
			}
		}
	}
	for n, c := range t.staged {
		if c.deleted {
			continue
		}
		if t.base != nil {
			if _, ok := t.base.recs[n]; ok {
				continue
			}
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// List returns every key of the database with the staged changes, sorted.
func (t *Target) List(ctx context.Context) ([]store.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	names := t.names()
	out := make([]store.Entry, 0, len(names))
	for _, n := range names {
		v, at, _ := t.lookupTime(n)
		k, id := store.ParseName(n)
		out = append(out, store.Entry{Name: n, Kind: k, ID: id, Size: int64(len(v)), ModTime: at, Version: -1})
	}
	return out, nil
}

// Read returns one record as the database with the staged changes holds it.
func (t *Target) Read(ctx context.Context, name string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	v, at, ok := t.lookupTime(name)
	if !ok {
		return store.Record{}, fmt.Errorf("%s: %s: %w", t, name, store.ErrNotFound)
	}
	rec := store.NewRecord(name, bytes.Clone(v))
	rec.ModTime = at
	return rec, nil
}

// Scan calls fn once per name, in order (every key when Names is nil).
func (t *Target) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	names := req.Names
	if names == nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		t.mu.Lock()
		names = t.names()
		t.mu.Unlock()
	}
	for _, n := range names {
		rec, err := t.Read(ctx, n)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			k, id := store.ParseName(n)
			rec = store.Record{Entry: store.Entry{Name: n, Kind: k, ID: id, Version: -1}}
		}
		if err := fn(rec, err); err != nil {
			return err
		}
	}
	return nil
}

// Cost is what one change counts against MaxBatch.
func (t *Target) Cost(op store.Op) int { return len(op.Record.Name) + len(op.Record.Data) + opCost }

// MaxBatch is the most one Apply takes: the largest key and value Create
// writes, so that every record it can write fits a batch of its own.
func (t *Target) MaxBatch() int { return MaxKeySize + MaxValueSize + opCost }

// MaxChange is the largest change this writer takes.
func (t *Target) MaxChange() int { return MaxKeySize + MaxValueSize + opCost }

// validName refuses names that no Spark Master writes and that other
// stores cannot hold, so that a database never gets a record that cannot
// be migrated out again.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("invalid record name %q", name)
	}
	return nil
}

// Apply stages a batch of changes, all or none: each is checked against
// the database as read plus the changes staged before it (a create needs
// the name free, a replace or delete the bytes the plan saw, SeenSHA256).
// Nothing reaches the disk before Commit.
func (t *Target) Apply(ctx context.Context, ops []store.Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	local := map[string]change{}
	get := func(name string) ([]byte, bool) {
		if c, ok := local[name]; ok {
			return c.data, !c.deleted
		}
		return t.lookup(name)
	}
	for i, op := range ops {
		name := op.Record.Name
		fail := func(err error) error {
			return &store.OpError{Index: i, Name: name, Err: fmt.Errorf("%v in %s: %w", op.Kind, t, err)}
		}
		if err := validName(name); err != nil {
			return fail(err)
		}
		cur, ok := get(name)
		switch op.Kind {
		case store.OpCreate, store.OpReplace:
			if len(name) > MaxKeySize || len(op.Record.Data) > MaxValueSize {
				return fail(fmt.Errorf("%d bytes of name and %d of value, more than the %d and %d it takes: %w",
					len(name), len(op.Record.Data), MaxKeySize, MaxValueSize, store.ErrTooLarge))
			}
			if op.Kind == store.OpCreate && ok {
				return fail(store.ErrExists)
			}
		case store.OpDelete:
		default:
			return fail(fmt.Errorf("unknown change %v", op.Kind))
		}
		if op.Kind != store.OpCreate {
			if !ok {
				return fail(store.ErrNotFound)
			}
			if sha256.Sum256(cur) != op.SeenSHA256 {
				return fail(store.ErrChanged)
			}
		}
		if op.Kind == store.OpDelete {
			local[name] = change{deleted: true}
		} else {
			local[name] = change{data: bytes.Clone(op.Record.Data)}
		}
	}
	now := time.Now()
	for n, c := range local {
		c.at = now
		t.staged[n] = c
	}
	return nil
}

// Lock claims the database for this writer: flock(2) on the directory
// (created if missing, as Spark creates it), refused while another
// recoverctl holds it or a live RocksDB holds the database's LOCK file.
// Holding it, it removes the directories killed writers left beside it
// and, with nothing staged, reads the database again: what a plan made
// after Lock sees is what Commit will find.
func (t *Target) Lock(ctx context.Context, holder string) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lock != nil {
		return nil, fmt.Errorf("lock %s: already held by this writer: %w", t, store.ErrLocked)
	}
	if err := t.takeLock(); err != nil {
		return nil, err
	}
	if len(t.staged) == 0 {
		// What the plan is made on is the database as it is under the lock.
		if err := t.load(); err != nil {
			_ = t.releaseLock()
			return nil, fmt.Errorf("lock %s: %w", t, err)
		}
	}
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			err = t.releaseLock()
		})
		return err
	}, nil
}

func (t *Target) takeLock() error {
	if err := os.Mkdir(t.real, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("lock %s: %w: %w", t, store.ErrUnavailable, err)
	}
	f, err := flockDir(t.real)
	if err != nil {
		return fmt.Errorf("lock %s: %w", t, err)
	}
	if held, pid := lockHolder(filepath.Join(t.real, "LOCK")); held {
		f.Close()
		return fmt.Errorf("lock %s: a running RocksDB (process %d: a live Master?) holds its LOCK file: %w", t, pid, store.ErrLocked)
	}
	t.lock = f
	t.removeLeftovers()
	return nil
}

func (t *Target) releaseLock() error {
	if t.lock == nil {
		return nil
	}
	err := syscall.Flock(int(t.lock.Fd()), syscall.LOCK_UN)
	if cerr := t.lock.Close(); err == nil {
		err = cerr
	}
	t.lock = nil
	return err
}

// flockDir takes an exclusive flock on the directory path names, without
// waiting, and checks that the name still names the directory locked: a
// writer that swapped another directory in between is seen.
func flockDir(path string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("another recoverctl is writing this database: %w", store.ErrLocked)
			}
			return nil, err
		}
		a, err1 := f.Stat()
		b, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(a, b) {
			return f, nil
		}
		f.Close()
		if attempt == 3 {
			return nil, fmt.Errorf("%s keeps being replaced: %w", path, store.ErrLocked)
		}
	}
}

// leftovers lists the -new- and -old- directories of dir's earlier writers.
func leftovers(dir, infix string) []string {
	parent, base := filepath.Split(dir)
	ents, err := os.ReadDir(filepath.Clean(parent))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		rnd, ok := strings.CutPrefix(e.Name(), base+infix)
		if !ok || len(rnd) != 16 || !e.IsDir() {
			continue
		}
		if _, err := hex.DecodeString(rnd); err != nil {
			continue
		}
		out = append(out, filepath.Join(parent, e.Name()))
	}
	return out
}

// removeLeftovers removes them, under the lock: every writer that left
// them is dead, and <dir> is whole (undoSwap ran).
func (t *Target) removeLeftovers() {
	var removed []string
	for _, infix := range []string{newInfix, oldInfix} {
		for _, d := range leftovers(t.real, infix) {
			if os.RemoveAll(d) == nil {
				removed = append(removed, d)
			}
		}
	}
	if len(removed) > 0 {
		_ = syncDir(filepath.Dir(t.real))
	}
	t.removed = append(t.removed, removed...)
}

// undoSwap puts the old database back where a crash between the two
// renames of the fallback swap left the directory missing.
func undoSwap(dir string) (string, error) {
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	olds := leftovers(dir, oldInfix)
	switch len(olds) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", fmt.Errorf("rocksdb: %s is missing and %d earlier databases are beside it (%s): rename the right one to %s", dir, len(olds), strings.Join(olds, ", "), filepath.Base(dir))
	}
	if err := os.Rename(olds[0], dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return "", nil // another writer finished the swap meanwhile
		}
		return "", fmt.Errorf("rocksdb: putting back %s, which a killed writer left: %w", olds[0], err)
	}
	_ = syncDir(filepath.Dir(dir))
	return olds[0], nil
}

// crashAt, set by tests, stops Commit at a named point as a crash would:
// nothing after it runs, nothing is cleaned up.
var crashAt string

var errCrash = errors.New("rocksdb: test crash")

// Commit writes the database with the staged changes beside the old one,
// reads it back, and swaps it in (see Target). It takes the lock for the
// time it runs where Lock is not held. The database on disk must still be
// the one the changes were staged on (ErrChanged otherwise), and no live
// RocksDB may hold it (ErrLocked). With nothing staged it does nothing.
// On an error before the swap the old database is untouched and the
// staged changes are kept.
func (t *Target) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.staged) == 0 {
		return nil
	}
	if t.lock == nil {
		if err := t.takeLock(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		defer func() { _ = t.releaseLock() }()
	}
	if held, pid := lockHolder(filepath.Join(t.real, "LOCK")); held {
		return fmt.Errorf("commit %s: a running RocksDB (process %d) holds its LOCK file: %w", t, pid, store.ErrLocked)
	}
	cur, err := openExisting(t.real)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if fingerprint(cur) != t.baseSum {
		return fmt.Errorf("commit %s: the database changed since it was read (another writer, or a Master that ran meanwhile): %w", t, store.ErrChanged)
	}
	want := map[string][]byte{}
	for _, n := range t.names() {
		want[n], _ = t.lookup(n)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	suffix := hex.EncodeToString(rnd[:])
	newDir := t.real + newInfix + suffix
	oldDir := t.real + oldInfix + suffix
	parent := filepath.Dir(t.real)

	if err := Create(newDir, want); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if crashAt == "created" {
		return errCrash
	}
	if err := readsBack(newDir, want); err != nil {
		_ = os.RemoveAll(newDir)
		return fmt.Errorf("commit %s: the new database %s does not read back, nothing swapped: %w", t, newDir, err)
	}
	if err := ctx.Err(); err != nil {
		_ = os.RemoveAll(newDir)
		return err
	}
	// Lock the new directory before it takes the name, so that the name
	// stays locked across the swap.
	nf, err := flockDir(newDir)
	if err != nil {
		_ = os.RemoveAll(newDir)
		return fmt.Errorf("commit %s: locking the new database: %w", t, err)
	}
	// A Master that opened the old database meanwhile would go on writing
	// into the directory moved aside.
	if held, pid := lockHolder(filepath.Join(t.real, "LOCK")); held {
		nf.Close()
		_ = os.RemoveAll(newDir)
		return fmt.Errorf("commit %s: a running RocksDB (process %d) opened it meanwhile: %w", t, pid, store.ErrLocked)
	}
	exchanged, err := swapDirs(newDir, t.real, oldDir, crashAt == "renamed-aside")
	if errors.Is(err, errCrash) {
		nf.Close()
		return err
	}
	if err != nil {
		nf.Close()
		_ = os.RemoveAll(newDir)
		return fmt.Errorf("commit %s: swapping in the new database: %w", t, err)
	}
	_ = syncDir(parent)
	// The name now names the new directory, locked by nf.
	_ = t.releaseLock()
	t.lock = nf
	if crashAt == "swapped" {
		return errCrash
	}
	if exchanged {
		if err := os.Rename(newDir, oldDir); err != nil {
			return fmt.Errorf("commit %s: the new database is in place; moving the old one from %s: %w", t, newDir, err)
		}
		_ = syncDir(parent)
	}
	if crashAt == "old-aside" {
		return errCrash
	}
	t.staged = map[string]change{}
	if err := t.load(); err != nil {
		return fmt.Errorf("commit %s: the new database is in place but reading it back failed (the old one is kept in %s): %w", t, oldDir, err)
	}
	if err := readsBack(t.real, want); err != nil {
		return fmt.Errorf("commit %s: the new database is in place but does not read back (the old one is kept in %s): %w", t, oldDir, err)
	}
	if err := os.RemoveAll(oldDir); err != nil {
		return fmt.Errorf("commit %s: the new database is in place; removing the old one %s: %w", t, oldDir, err)
	}
	_ = syncDir(parent)
	return nil
}

// readsBack checks that the database in dir holds exactly want.
func readsBack(dir string, want map[string][]byte) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	if len(s.info.Problems) > 0 {
		return s.info.Problems[0]
	}
	if len(s.names) != len(want) {
		return fmt.Errorf("%d keys read, %d written", len(s.names), len(want))
	}
	for k, v := range want {
		r, ok := s.recs[k]
		if !ok {
			return fmt.Errorf("key %q missing", k)
		}
		if !bytes.Equal(r.value, v) {
			return fmt.Errorf("key %q: other bytes", k)
		}
	}
	return nil
}

// Dir is the database directory as named.
func (t *Target) Dir() string { return t.dir }
