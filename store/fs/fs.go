// Package fs is the store for a Spark FILESYSTEM recovery directory
// (spark.deploy.recoveryDirectory): one flat file per record, named exactly
// the record name. It moves bytes only; it never decodes them, and it does
// not handle FILESYSTEM compression codecs (that is codec's business).
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/recoverctl/recoverctl/store"
)

// MaxRecordBytes bounds what Read loads into memory. Real records are a few
// KB; a larger file is not a Spark record and must not exhaust memory.
const MaxRecordBytes = 64 << 20

// tempPrefix marks files this package is writing. A crash can leave one
// behind; List shows it as a foreign entry so that people notice.
const (
	tempPrefix = ".recoverctl-"
	tempSuffix = ".tmp"
)

// ErrTooLarge is a file bigger than MaxRecordBytes.
var ErrTooLarge = errors.New("file too large for a recovery record")

// ErrInvalidName is a record name that cannot be a plain file name in the
// directory (empty, ".", "..", or holding a separator or NUL).
var ErrInvalidName = errors.New("invalid record name")

// Problem is a directory entry that List could not report as a record:
// a subdirectory, a dangling symlink, a file that cannot be opened. Spark's
// Master would fail recovery on some of these (an unreadable app_ file), so
// they are surfaced rather than silently dropped, but they do not stop a
// listing.
type Problem struct {
	Name string
	Err  error
}

func (p Problem) Error() string { return p.Name + ": " + p.Err.Error() }

// Store is a recovery directory.
type Store struct {
	dir   string
	real  string // dir with its symlinks resolved: where followed links must stay
	owner int    // the directory's owner; -1 when unknown

	mu        sync.Mutex
	problems  []Problem
	leftovers []string // temporary files of killed writers that Lock removed
	created   bool     // Lock created the directory
	target    bool     // OpenTarget of a directory that did not exist
}

// Open returns the store for dir, which must exist: a missing directory
// means the wrong path or an unmounted volume, and creating it would hide
// that (store.ErrUnavailable). A directory holding a RocksDB database is
// refused with ErrRocksDB.
func Open(dir string) (*Store, error) {
	return open(dir, false)
}

// OpenTarget is Open for a store about to be written: a directory that
// does not exist yet is a store with nothing in it,
// which Lock creates, parents included, as Spark's engine creates its
// recovery directory (Files.createDirectories, 0777 less the umask).
// Created says whether it had to.
func OpenTarget(dir string) (*Store, error) {
	return open(dir, true)
}

// Missing reports whether the directory does not exist (yet): OpenTarget
// of a new directory, before Lock.
func (s *Store) Missing() bool {
	_, err := os.Stat(s.dir)
	return errors.Is(err, iofs.ErrNotExist)
}

// notYet reports whether the store is a target directory not created
// yet: it holds nothing.
func (s *Store) notYet() bool { return s.target && s.Missing() }

func open(dir string, target bool) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("recovery directory %s: %w: %v", dir, store.ErrUnavailable, err)
	}
	fi, err := os.Stat(abs)
	if target && errors.Is(err, iofs.ErrNotExist) {
		return &Store{dir: abs, real: abs, owner: os.Getuid(), target: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recovery directory %s: %w: %w", abs, store.ErrUnavailable, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("recovery directory %s: %w: not a directory", abs, store.ErrUnavailable)
	}
	if names := rocksdbFiles(abs); names != nil {
		return nil, fmt.Errorf("recovery directory %s %w (%s)", abs, ErrRocksDB, strings.Join(names, ", "))
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("recovery directory %s: %w: %w", abs, store.ErrUnavailable, err)
	}
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Uid)
	}
	return &Store{dir: abs, real: real, owner: owner}, nil
}

// ErrOutside is a symlink in the directory that is not followed: it leads
// out of the directory, or it belongs to another user than the
// directory's owner (who could point it at anything the reader may read).
var ErrOutside = errors.New("symlink not followed")

// follow returns the file p stands for: p itself, or where the symlink p
// leads when that is inside the recovery directory and the link is the
// directory owner's. Spark's Master follows any symlink; a tool that
// archives and rewrites what it reads must not carry /etc/shadow into an
// archive or a znode.
func (s *Store) follow(p string) (string, error) {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&iofs.ModeSymlink == 0 {
		return p, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && s.owner >= 0 && int(st.Uid) != s.owner {
		return "", fmt.Errorf("%s: a symlink owned by uid %d, the directory by uid %d: %w", p, st.Uid, s.owner, ErrOutside)
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		// The entry is there; what it points at is not: a dangling link
		// is a problem to report, not a record that vanished.
		dest, _ := os.Readlink(p)
		return "", fmt.Errorf("%s: a symlink to %s, which cannot be followed: %v", p, dest, err)
	}
	if rel, err := filepath.Rel(s.real, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: a symlink to %s, outside the recovery directory: %w", p, target, ErrOutside)
	}
	return target, nil
}

// String names the store: "fs:///var/spark/recovery".
func (s *Store) String() string { return "fs://" + s.dir }

// Dir is the absolute directory path.
func (s *Store) Dir() string { return s.dir }

// List returns every entry of the directory, sorted by name: regular
// files (symlinks followed within the directory, see follow) with their
// size and modification time, and the entries that are no readable
// regular file (a subdirectory, a FIFO, a file the user may not read, a
// dangling or outward symlink) with size 0: reading one fails with the
// reason, so that every command reports it instead of leaving it out.
// Problems says why for each.
func (s *Store) List(ctx context.Context) ([]store.Entry, error) {
	entries, problems, err := s.ListProblems(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.problems = problems
	s.mu.Unlock()
	for _, p := range problems {
		kind, id := store.ParseName(p.Name)
		entries = append(entries, store.Entry{Name: p.Name, Kind: kind, ID: id, Version: -1})
	}
	slices.SortFunc(entries, func(a, b store.Entry) int { return strings.Compare(a.Name, b.Name) })
	return entries, nil
}

// Problems returns what the most recent List could not list.
func (s *Store) Problems() []Problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

// scanWorkers is how many goroutines Scan uses to stat and open entries.
// Each entry costs a few system calls; on a cold cache or a network
// filesystem each one waits, so several run at once.
const scanWorkers = 16

// scanBatch is how many consecutive entries a Scan worker takes at a time.
const scanBatch = 256

// ListProblems returns the readable entries, and the problems of the
// others apart.
func (s *Store) ListProblems(ctx context.Context) ([]store.Entry, []Problem, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if s.notYet() {
		return nil, nil, nil
	}
	names, err := readNames(s.dir)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil, nil, fmt.Errorf("list %s: %w: %w", s.dir, store.ErrUnavailable, err)
		}
		return nil, nil, fmt.Errorf("list %s: %w", s.dir, err)
	}
	// Each entry is checked independently into its own slot, so the
	// result is in name order whatever the interleaving.
	infos := make([]fileInfo, len(names))
	errs := make([]error, len(names))
	prefix := s.dir + string(filepath.Separator)
	if strings.HasSuffix(s.dir, string(filepath.Separator)) {
		prefix = s.dir // the root directory
	}
	var next atomic.Int64
	checkAll := func() error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			lo := int(next.Add(scanBatch)) - scanBatch
			if lo >= len(names) {
				return nil
			}
			for i := lo; i < min(lo+scanBatch, len(names)); i++ {
				infos[i], errs[i] = s.check(prefix + names[i])
			}
		}
	}
	workers := max(1, min(scanWorkers, (len(names)+scanBatch-1)/scanBatch))
	cerrs := make(chan error, workers)
	for range workers - 1 {
		go func() { cerrs <- checkAll() }()
	}
	err = checkAll()
	for range workers - 1 {
		if cerr := <-cerrs; err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, nil, err
	}
	entries := make([]store.Entry, 0, len(names))
	var problems []Problem
	for i, name := range names {
		if errs[i] != nil {
			problems = append(problems, Problem{Name: name, Err: errs[i]})
			continue
		}
		kind, id := store.ParseName(name)
		entries = append(entries, store.Entry{Name: name, Kind: kind, ID: id, Size: infos[i].size, ModTime: infos[i].modTime, Version: -1})
	}
	return entries, problems, nil // sorted: names are
}

// readNames returns the names in dir, sorted. It is os.ReadDir without a
// DirEntry per name, which Scan does not use (it stats every entry,
// following symlinks), and with a plain string sort.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}

// fileInfo is what List keeps of a file's Stat.
type fileInfo struct {
	size    int64
	modTime time.Time
}

// check returns what List reports for the directory entry at p: its size
// and modification time if it is a regular file (following symlinks) that
// can be opened, or the problem.
func (s *Store) check(p string) (fileInfo, error) {
	p, err := s.follow(p)
	if err != nil {
		return fileInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return fileInfo{}, err
	}
	if !fi.Mode().IsRegular() {
		return fileInfo{}, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	// Permission bits alone do not say whether we can read (root, ACLs),
	// so try. A bare open and close: an *os.File would add several
	// system calls (non-blocking mode, poller registration) per entry.
	// O_NONBLOCK keeps the open from hanging should the file have been
	// replaced by a FIFO since the Stat.
	for {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fileInfo{}, &iofs.PathError{Op: "open", Path: p, Err: err} // as os.Open reports it
		}
		syscall.Close(fd)
		return fileInfo{size: fi.Size(), modTime: fi.ModTime()}, nil
	}
}

func (s *Store) path(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || strings.ContainsRune(name, filepath.Separator) {
		return "", fmt.Errorf("%q: %w", name, ErrInvalidName)
	}
	// filepath.Join(s.dir, name) without cleaning again what is clean
	// already: s.dir (filepath.Abs cleans) and a name without separators.
	if strings.HasSuffix(s.dir, string(filepath.Separator)) {
		return s.dir + name, nil // the root directory
	}
	return s.dir + string(filepath.Separator) + name, nil
}

// Read returns one record; store.ErrNotFound if absent.
func (s *Store) Read(ctx context.Context, name string) (store.Record, error) {
	return s.ReadBuffer(ctx, name, nil)
}

// ReadBuffer is Read into buf's storage when the record fits there: the
// record's Data then shares it, and the caller must not reuse buf while it
// still needs the record. A backup that is done with each record before it
// reads the next one reads a whole directory with a few buffers.
func (s *Store) ReadBuffer(ctx context.Context, name string, buf []byte) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	p, err := s.path(name)
	if err != nil {
		return store.Record{}, fmt.Errorf("read: %w", err)
	}
	target, err := s.follow(p)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return store.Record{}, fmt.Errorf("read %s: %w", p, store.ErrNotFound)
		}
		return store.Record{}, fmt.Errorf("read %s: %w", p, err)
	}
	// O_NONBLOCK: an *os.File opened without it is put into non-blocking
	// mode and back (four fcntl calls) on its way to the poller, which
	// refuses regular files anyway; and it keeps a FIFO from hanging the
	// open (the Stat below refuses it). Reads of a regular file ignore it.
	// O_NOFOLLOW: the link was checked; a link swapped in since is refused.
	f, err := os.OpenFile(target, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return store.Record{}, fmt.Errorf("read %s: %w", p, store.ErrNotFound)
		}
		return store.Record{}, fmt.Errorf("read %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return store.Record{}, fmt.Errorf("read %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return store.Record{}, fmt.Errorf("read %s: not a regular file (%s)", p, fi.Mode().Type())
	}
	data, err := readAll(f, fi.Size(), buf)
	if err != nil {
		return store.Record{}, fmt.Errorf("read %s: %w", p, err)
	}
	if len(data) > MaxRecordBytes {
		return store.Record{}, fmt.Errorf("read %s: %w (limit %d bytes)", p, ErrTooLarge, MaxRecordBytes)
	}
	rec := store.NewRecord(name, data)
	rec.ModTime = fi.ModTime()
	return rec, nil
}

// readAll reads f to its end, at most MaxRecordBytes+1 bytes, into buf's
// storage if it is large enough. size is what Stat said: a buffer one byte
// larger reads a record in one read and sees the end with a second, where
// io.ReadAll grows its buffer and reads several times.
func readAll(f *os.File, size int64, buf []byte) ([]byte, error) {
	if want := min(max(size, 0), MaxRecordBytes) + 1; int64(cap(buf)) < want {
		buf = make([]byte, 0, want)
	} else {
		buf = buf[:0]
	}
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) > MaxRecordBytes {
			return buf, nil
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), MaxRecordBytes+1-len(buf)))
		}
	}
}
