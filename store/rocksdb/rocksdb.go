package rocksdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/recoverctl/recoverctl/store"
)

const (
	maxCurrentSize = 4096
	// Files above this are refused rather than read whole into memory: a
	// Spark recovery database is a few MiB.
	maxFileSize = 4 << 30
	openRetries = 3
)

// FileInfo describes one file of the database that Open read or skipped.
type FileInfo struct {
	Name         string
	Kind         string // "CURRENT", "MANIFEST", "sst" or "log"
	Size         int64
	Level        int        // sst: LSM level
	ColumnFamily string     // sst: its column family
	Table        *TableInfo // sst: footer and blocks
	Records      int        // sst: entries; log: write batches replayed
	Flushed      bool       // log: older than every column family's log number, so not replayed
}

// Info is what status shows about the database.
type Info struct {
	Dir            string
	Manifest       string
	Comparator     string
	Files          []FileInfo
	ColumnFamilies []string
	// Smallest and largest sequence number of the entries read (SSTs and logs).
	SmallestSeq, LargestSeq uint64
	// LastSequence is the MANIFEST's: what was flushed when it was last written.
	LastSequence   uint64
	NextFileNumber uint64
	LogNumber      uint64 // smallest log number of the column families: older logs are flushed
	LogOnly        []string
	Deleted        int // keys whose newest version is a deletion (or under a range deletion)
	// Locked tells that a live RocksDB held the LOCK file when Open looked
	// (LockPID its process). The files were read as they were: consistent up
	// to the last complete write batch in the log.
	Locked   bool
	LockPID  int
	Problems []error // damage that did not stop the read
}

// Store is a read-only view of a RocksDB database directory, as of Open.
type Store struct {
	dir   string
	names []string
	recs  map[string]live
	info  Info
}

type live struct {
	value   []byte
	fromLog bool
}

// IsDatabase tells whether dir holds a RocksDB database: a CURRENT file and
// at least one MANIFEST.
func IsDatabase(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "CURRENT"))
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	m, err := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	return err == nil && len(m) > 0
}

// Open reads the database in dir: the MANIFEST named by CURRENT, every live
// SST of every column family and the logs not yet flushed, merged as RocksDB
// merges them. It never writes, locks or repairs anything in dir.
func Open(dir string) (*Store, error) {
	held, pid := lockHolder(filepath.Join(dir, "LOCK"))
	var s *Store
	var err error
	for attempt := 0; attempt < openRetries; attempt++ {
		s, err = open(dir)
		// A live RocksDB may replace the MANIFEST or delete compacted SSTs
		// between our reads; start again from CURRENT.
		if !held || (err == nil && !missingFiles(s.info.Problems)) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	s.info.Locked, s.info.LockPID = held, pid
	return s, nil
}

func missingFiles(ps []error) bool {
	for _, p := range ps {
		if errors.Is(p, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > maxFileSize {
		return nil, &FormatError{File: filepath.Base(path), Want: fmt.Sprintf("a file of at most %d bytes", int64(maxFileSize)), Got: fmt.Sprint(st.Size()), Err: ErrLimit}
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if err != nil && n != len(b) {
		return nil, err
	}
	return b[:n], nil
}

type version struct {
	seq     uint64
	kind    byte
	value   []byte
	fromLog bool
}

type rangeTomb struct {
	start, end []byte
	seq        uint64
}

type cfState struct {
	name  string
	keys  map[string]version
	tombs []rangeTomb
}

type merger struct {
	s    *Store
	cfs  map[uint32]*cfState
	seen bool
}

func (m *merger) add(cf uint32, key []byte, v version) {
	st := m.cfs[cf]
	if !m.seen || v.seq < m.s.info.SmallestSeq {
		m.s.info.SmallestSeq = v.seq
	}
	if !m.seen || v.seq > m.s.info.LargestSeq {
		m.s.info.LargestSeq = v.seq
	}
	m.seen = true
	if v.kind == typeRangeDeletion {
		st.tombs = append(st.tombs, rangeTomb{start: key, end: v.value, seq: v.seq})
		return
	}
	if cur, ok := st.keys[string(key)]; ok && cur.seq > v.seq {
		return
	}
	st.keys[string(key)] = v
}

func open(dir string) (*Store, error) {
	s := &Store{dir: dir, recs: map[string]live{}}
	s.info.Dir = dir
	cur, err := readBounded(filepath.Join(dir, "CURRENT"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("rocksdb: %s is not a RocksDB database: %w: %w", dir, store.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("rocksdb: %w", err)
	}
	s.info.Files = append(s.info.Files, FileInfo{Name: "CURRENT", Kind: "CURRENT", Size: int64(len(cur))})
	name := strings.TrimSuffix(string(cur), "\n")
	if len(cur) > maxCurrentSize || !bytes.HasSuffix(cur, []byte("\n")) || !strings.HasPrefix(name, "MANIFEST-") || strings.ContainsAny(name, "/\\\x00\n") {
		return nil, &FormatError{File: "CURRENT", Want: `"MANIFEST-<number>\n"`, Got: strconv.Quote(string(cur[:min(len(cur), 64)]))}
	}
	s.info.Manifest = name
	mdata, err := readBounded(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("rocksdb: MANIFEST named by CURRENT: %w", err)
	}
	s.info.Files = append(s.info.Files, FileInfo{Name: name, Kind: "MANIFEST", Size: int64(len(mdata))})
	man, err := readManifest(name, mdata)
	if err != nil {
		return nil, err
	}
	s.info.Problems = append(s.info.Problems, man.problems...)
	s.info.Comparator = man.comparator
	s.info.LastSequence = man.lastSequence
	s.info.NextFileNumber = man.nextFile
	if man.comparator != "" && man.comparator != "leveldb.BytewiseComparator" {
		return nil, &FormatError{File: name, Want: "leveldb.BytewiseComparator", Got: man.comparator, Err: ErrUnsupported}
	}

	m := &merger{s: s, cfs: map[uint32]*cfState{}}
	minLog := uint64(0)
	first := true
	ids := make([]uint32, 0, len(man.cfs))
	for id, cf := range man.cfs {
		m.cfs[id] = &cfState{name: cf.name, keys: map[string]version{}}
		ids = append(ids, id)
		if first || cf.logNumber < minLog {
			minLog, first = cf.logNumber, false
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		s.info.ColumnFamilies = append(s.info.ColumnFamilies, man.cfs[id].name)
	}
	s.info.LogNumber = minLog

	for _, id := range ids {
		files := make([]SSTFile, 0, len(man.cfs[id].files))
		for _, f := range man.cfs[id].files {
			files = append(files, f)
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Number < files[j].Number })
		for _, f := range files {
			s.readSST(m, id, f)
		}
	}
	s.replayLogs(m, man, minLog)
	s.finish(m)
	return s, nil
}

func (s *Store) readSST(m *merger, cf uint32, f SSTFile) {
	base := fmt.Sprintf("%06d.sst", f.Number)
	data, err := readBounded(filepath.Join(s.dir, base))
	if errors.Is(err, fs.ErrNotExist) {
		// LevelDB's old suffix, still accepted by RocksDB.
		alt := fmt.Sprintf("%06d.ldb", f.Number)
		if d, e := readBounded(filepath.Join(s.dir, alt)); e == nil {
			base, data, err = alt, d, nil
		}
	}
	fi := FileInfo{Name: base, Kind: "sst", Level: f.Level, ColumnFamily: f.ColumnFamily, Size: int64(len(data))}
	if err != nil {
		s.info.Problems = append(s.info.Problems, fmt.Errorf("rocksdb: live SST %s of column family %q (level %d) not read, its records are missing or older: %w", base, f.ColumnFamily, f.Level, err))
		s.info.Files = append(s.info.Files, fi)
		return
	}
	ti, problems, err := readTable(base, data, func(e internalEntry) {
		m.add(cf, e.key, version{seq: e.seq, kind: e.kind, value: e.value})
	})
	fi.Table = &ti
	fi.Records = ti.Entries
	s.info.Files = append(s.info.Files, fi)
	s.info.Problems = append(s.info.Problems, problems...)
	if err != nil {
		s.info.Problems = append(s.info.Problems, fmt.Errorf("rocksdb: SST %s not read past the damage: %w", base, err))
	}
}

type logFile struct {
	name   string
	number uint64
}

func (s *Store) replayLogs(m *merger, man *manifest, minLog uint64) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		s.info.Problems = append(s.info.Problems, fmt.Errorf("rocksdb: listing logs: %w", err))
		return
	}
	var logs []logFile
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		num, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			continue
		}
		logs = append(logs, logFile{e.Name(), num})
	}
	sort.Slice(logs, func(i, j int) bool { return logs[i].number < logs[j].number })
	stopped := ""
	for _, l := range logs {
		fi := FileInfo{Name: l.name, Kind: "log"}
		if l.number < minLog && l.number != man.prevLog {
			fi.Flushed = true
			if st, err := os.Stat(filepath.Join(s.dir, l.name)); err == nil {
				fi.Size = st.Size()
			}
			s.info.Files = append(s.info.Files, fi)
			continue
		}
		if stopped != "" {
			s.info.Problems = append(s.info.Problems, fmt.Errorf("rocksdb: log %s not replayed: replay stopped at the damage in %s, as RocksDB's point-in-time recovery does", l.name, stopped))
			s.info.Files = append(s.info.Files, fi)
			continue
		}
		data, err := readBounded(filepath.Join(s.dir, l.name))
		fi.Size = int64(len(data))
		if err != nil {
			s.info.Problems = append(s.info.Problems, fmt.Errorf("rocksdb: log %s: %w", l.name, err))
			s.info.Files = append(s.info.Files, fi)
			stopped = l.name
			continue
		}
		lr := readLog(l.name, data, l.number)
		for _, r := range lr.records {
			_, ops, err := parseBatch(l.name, r.off, r.data)
			if err != nil {
				lr.problem = err.(*FormatError)
				break
			}
			fi.Records++
			for _, o := range ops {
				cf, ok := man.cfs[o.cf]
				if !ok || l.number < cf.logNumber {
					continue // a dropped family, or already in this family's SSTs
				}
				m.add(o.cf, o.key, version{seq: o.seq, kind: o.kind, value: o.value, fromLog: true})
			}
		}
		if lr.problem != nil {
			s.info.Problems = append(s.info.Problems, lr.problem)
			stopped = l.name
		}
		s.info.Files = append(s.info.Files, fi)
	}
}

func (s *Store) finish(m *merger) {
	type winner struct {
		cf   string
		rank int
		v    version
	}
	best := map[string]winner{}
	for id, st := range m.cfs {
		for key, v := range st.keys {
			deleted := v.kind == typeDeletion || v.kind == typeSingleDeletion || v.kind == typeDeletionWithTS
			for _, t := range st.tombs {
				if t.seq > v.seq && key >= string(t.start) && key < string(t.end) {
					deleted = true
					break
				}
			}
			if deleted {
				s.info.Deleted++
				continue
			}
			if v.kind != typeValue {
				s.info.Problems = append(s.info.Problems, fmt.Errorf("rocksdb: key %q of column family %q: value type 0x%x (merge, blob or wide column) is not supported; the key is left out: %w", key, st.name, v.kind, ErrUnsupported))
				continue
			}
			// Spark reads a name from the family named by its prefix when
			// that family exists, else from the default one.
			rank := 2
			if kind, _ := store.ParseName(key); kind != store.KindForeign && strings.HasPrefix(key, st.name) {
				rank = 0
			} else if id == 0 {
				rank = 1
			}
			if w, ok := best[key]; ok {
				keep, drop := w, winner{st.name, rank, v}
				if rank < w.rank || (rank == w.rank && st.name < w.cf) {
					keep, drop = drop, keep
				}
				s.info.Problems = append(s.info.Problems, fmt.Errorf("rocksdb: %q is in column families %q and %q; showing the one in %q", key, keep.cf, drop.cf, keep.cf))
				best[key] = keep
				continue
			}
			best[key] = winner{st.name, rank, v}
		}
	}
	// The live values are copied into one buffer, so that the files read
	// (every older version in them) can be freed.
	total := 0
	for _, w := range best {
		total += len(w.v.value)
	}
	arena := make([]byte, 0, total)
	for key, w := range best {
		s.names = append(s.names, key)
		start := len(arena)
		arena = append(arena, w.v.value...)
		s.recs[key] = live{value: arena[start:len(arena):len(arena)], fromLog: w.v.fromLog}
		if w.v.fromLog {
			s.info.LogOnly = append(s.info.LogOnly, key)
		}
	}
	sort.Strings(s.names)
	sort.Strings(s.info.LogOnly)
}

// Info returns what Open read and found.
func (s *Store) Info() Info { return s.info }

// String names the store for people.
func (s *Store) String() string { return "rocksdb://" + s.dir }

// Close releases nothing: Open read everything and closed its files.
func (s *Store) Close() error { return nil }

// List returns every live key, sorted by name.
func (s *Store) List(ctx context.Context) ([]store.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]store.Entry, 0, len(s.names))
	for _, n := range s.names {
		k, id := store.ParseName(n)
		out = append(out, store.Entry{Name: n, Kind: k, ID: id, Size: int64(len(s.recs[n].value))})
	}
	return out, nil
}

// Read returns one record's value as stored (Spark's serialized object
// followed by zero padding).
func (s *Store) Read(ctx context.Context, name string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	r, ok := s.recs[name]
	if !ok {
		return store.Record{}, fmt.Errorf("%s: %s: %w", s, name, store.ErrNotFound)
	}
	return store.NewRecord(name, bytes.Clone(r.value)), nil
}

// Scan calls fn once per name, in order (every key when names is nil); an
// absent name gets an empty record and an error wrapping store.ErrNotFound.
// An error returned by fn stops the scan and is returned.
func (s *Store) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	names := req.Names
	if names == nil {
		names = s.names
	}
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := s.Read(ctx, n)
		if err != nil {
			k, id := store.ParseName(n)
			rec = store.Record{Entry: store.Entry{Name: n, Kind: k, ID: id}}
		}
		if err := fn(rec, err); err != nil {
			return err
		}
	}
	return nil
}

var _ store.Reader = (*Store)(nil)
