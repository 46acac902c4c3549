package rocksdb

import (
	"fmt"
)

// VersionEdit tags (RocksDB's db/version_edit.h).
const (
	tagComparator     = 1
	tagLogNumber      = 2
	tagNextFileNumber = 3
	tagLastSequence   = 4
	tagCompactCursor  = 5
	tagDeletedFile    = 6
	tagNewFile        = 7
	tagPrevLogNumber  = 9
	tagMinLogToKeep   = 10
	tagNewFile2       = 100
	tagNewFile3       = 102
	tagNewFile4       = 103
	tagColumnFamily   = 200
	tagCFAdd          = 201
	tagCFDrop         = 202
	tagMaxCF          = 203
	tagInAtomicGroup  = 300
	tagBlobAddition   = 400
	tagBlobGarbage    = 401
	// Tags with this bit carry a length-prefixed payload that a reader may
	// skip (DB id, WAL additions, ...).
	tagSafeIgnoreMask = 1 << 13

	// Custom fields of kNewFile4.
	nfTerminate = 1
	nfPathID    = 65
	// Custom fields with this bit must be understood (kCustomTagNonSafeIgnoreMask).
	nfMustUnderstand = 1 << 6

	maxColumnFamilies = 1 << 16
	maxLiveFiles      = 1 << 20
)

// SSTFile is one live table file of a column family.
type SSTFile struct {
	Number       uint64
	Level        int
	Size         uint64
	SmallestSeq  uint64
	LargestSeq   uint64
	ColumnFamily string
}

type columnFamily struct {
	id        uint32
	name      string
	logNumber uint64
	files     map[uint64]SSTFile
}

type manifest struct {
	comparator   string
	nextFile     uint64
	lastSequence uint64
	prevLog      uint64
	cfs          map[uint32]*columnFamily
	problems     []error
}

type versionEdit struct {
	cf                      uint32
	add, drop               bool
	name                    string
	comparator              string
	hasLog, hasNext, hasSeq bool
	logNumber, next, seq    uint64
	prevLog                 uint64
	deleted                 []SSTFile
	added                   []SSTFile
	atomicRemaining         int64 // -1 when not in an atomic group
}

// readManifest replays the version edits of a MANIFEST. Damage inside it is
// an error: the set of live files cannot be known past it. An incomplete
// last record (a killed writer) is only a problem, as for RocksDB.
func readManifest(file string, data []byte) (*manifest, error) {
	m := &manifest{cfs: map[uint32]*columnFamily{0: {id: 0, name: "default", files: map[uint64]SSTFile{}}}}
	lr := readLog(file, data, 0)
	if lr.problem != nil {
		if !lr.tailOnly || len(lr.records) == 0 {
			return nil, lr.problem
		}
		m.problems = append(m.problems, lr.problem)
	}
	if len(lr.records) == 0 {
		return nil, &FormatError{File: file, Offset: 0, Want: "at least one version edit", Got: "none", Err: ErrTruncated}
	}
	var group []*versionEdit
	for _, r := range lr.records {
		e, err := parseEdit(file, r.off, r.data)
		if err != nil {
			return nil, err
		}
		if e.atomicRemaining >= 0 {
			group = append(group, e)
			if e.atomicRemaining > 0 {
				continue
			}
			for _, g := range group {
				if err := m.apply(file, r.off, g); err != nil {
					return nil, err
				}
			}
			group = nil
			continue
		}
		if len(group) > 0 {
			return nil, &FormatError{File: file, Offset: r.off, Want: "the rest of an atomic group", Got: "an edit outside it"}
		}
		if err := m.apply(file, r.off, e); err != nil {
			return nil, err
		}
	}
	if len(group) > 0 {
		m.problems = append(m.problems, &FormatError{File: file, Offset: int64(len(data)), Want: "the end of an atomic group", Got: "end of file: its edits are not applied", Err: ErrTruncated})
	}
	return m, nil
}

func (m *manifest) apply(file string, off int64, e *versionEdit) error {
	if e.comparator != "" {
		m.comparator = e.comparator
	}
	if e.hasNext {
		m.nextFile = e.next
	}
	if e.hasSeq {
		m.lastSequence = e.seq
	}
	if e.prevLog != 0 {
		m.prevLog = e.prevLog
	}
	if e.add {
		if _, ok := m.cfs[e.cf]; ok && e.cf != 0 {
			return &FormatError{File: file, Offset: off, Want: "a new column family id", Got: fmt.Sprintf("id %d already live", e.cf)}
		}
		if len(m.cfs) >= maxColumnFamilies {
			return &FormatError{File: file, Offset: off, Want: fmt.Sprintf("at most %d column families", maxColumnFamilies), Got: "more", Err: ErrLimit}
		}
		m.cfs[e.cf] = &columnFamily{id: e.cf, name: e.name, files: map[uint64]SSTFile{}}
	}
	cf, ok := m.cfs[e.cf]
	if !ok {
		return &FormatError{File: file, Offset: off, Want: "an edit of a live column family", Got: fmt.Sprintf("column family id %d", e.cf)}
	}
	if e.drop {
		delete(m.cfs, e.cf)
		return nil
	}
	if e.hasLog {
		cf.logNumber = e.logNumber
	}
	for _, d := range e.deleted {
		delete(cf.files, d.Number)
	}
	for _, a := range e.added {
		if len(cf.files) >= maxLiveFiles {
			return &FormatError{File: file, Offset: off, Want: fmt.Sprintf("at most %d live files", maxLiveFiles), Got: "more", Err: ErrLimit}
		}
		a.ColumnFamily = cf.name
		cf.files[a.Number] = a
	}
	return nil
}

func parseEdit(file string, off int64, data []byte) (*versionEdit, error) {
	c := &cursor{file: file, base: off, b: data}
	e := &versionEdit{atomicRemaining: -1}
	for c.left() > 0 {
		tag, err := c.uvarint32("version edit tag")
		if err != nil {
			return nil, err
		}
		switch tag {
		case tagComparator:
			b, err := c.slice("comparator name")
			if err != nil {
				return nil, err
			}
			e.comparator = string(b)
		case tagLogNumber:
			if e.logNumber, err = c.uvarint("log number"); err != nil {
				return nil, err
			}
			e.hasLog = true
		case tagNextFileNumber:
			if e.next, err = c.uvarint("next file number"); err != nil {
				return nil, err
			}
			e.hasNext = true
		case tagLastSequence:
			if e.seq, err = c.uvarint("last sequence"); err != nil {
				return nil, err
			}
			e.hasSeq = true
		case tagPrevLogNumber:
			if e.prevLog, err = c.uvarint("previous log number"); err != nil {
				return nil, err
			}
		case tagMinLogToKeep:
			if _, err = c.uvarint("min log number to keep"); err != nil {
				return nil, err
			}
		case tagCompactCursor:
			if _, err = c.uvarint32("level"); err != nil {
				return nil, err
			}
			if _, err = c.slice("compact cursor"); err != nil {
				return nil, err
			}
		case tagDeletedFile:
			lvl, err := c.uvarint32("level")
			if err != nil {
				return nil, err
			}
			num, err := c.uvarint("file number")
			if err != nil {
				return nil, err
			}
			if len(e.deleted) >= maxLiveFiles {
				return nil, c.errf("fewer deleted files", "more", ErrLimit)
			}
			e.deleted = append(e.deleted, SSTFile{Number: num, Level: int(lvl)})
		case tagNewFile, tagNewFile2, tagNewFile3, tagNewFile4:
			f, err := parseNewFile(c, tag)
			if err != nil {
				return nil, err
			}
			if len(e.added) >= maxLiveFiles {
				return nil, c.errf("fewer new files", "more", ErrLimit)
			}
			e.added = append(e.added, f)
		case tagColumnFamily:
			if e.cf, err = c.uvarint32("column family id"); err != nil {
				return nil, err
			}
		case tagCFAdd:
			b, err := c.slice("column family name")
			if err != nil {
				return nil, err
			}
			e.add, e.name = true, string(b)
		case tagCFDrop:
			e.drop = true
		case tagMaxCF:
			if _, err = c.uvarint32("max column family"); err != nil {
				return nil, err
			}
		case tagInAtomicGroup:
			n, err := c.uvarint32("atomic group remaining")
			if err != nil {
				return nil, err
			}
			e.atomicRemaining = int64(n)
		case tagBlobAddition, tagBlobGarbage:
			return nil, c.errf("no blob files", "a blob file edit (BlobDB)", ErrUnsupported)
		default:
			if tag&tagSafeIgnoreMask == 0 {
				return nil, c.errf("a version edit tag", fmt.Sprintf("tag %d", tag), ErrUnsupported)
			}
			if _, err = c.slice(fmt.Sprintf("field of tag %d", tag)); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

func parseNewFile(c *cursor, tag uint32) (SSTFile, error) {
	var f SSTFile
	lvl, err := c.uvarint32("level")
	if err != nil {
		return f, err
	}
	if lvl > 64 {
		return f, c.errf("a level below 64", fmt.Sprintf("level %d", lvl), nil)
	}
	f.Level = int(lvl)
	if f.Number, err = c.uvarint("file number"); err != nil {
		return f, err
	}
	if tag == tagNewFile3 {
		p, err := c.uvarint32("path id")
		if err != nil {
			return f, err
		}
		if p != 0 {
			return f, c.errf("files in the database directory (path id 0)", fmt.Sprintf("path id %d (db_paths)", p), ErrUnsupported)
		}
	}
	if f.Size, err = c.uvarint("file size"); err != nil {
		return f, err
	}
	if _, err = c.slice("smallest key"); err != nil {
		return f, err
	}
	if _, err = c.slice("largest key"); err != nil {
		return f, err
	}
	if tag == tagNewFile {
		return f, nil
	}
	if f.SmallestSeq, err = c.uvarint("smallest sequence"); err != nil {
		return f, err
	}
	if f.LargestSeq, err = c.uvarint("largest sequence"); err != nil {
		return f, err
	}
	if tag != tagNewFile4 {
		return f, nil
	}
	for {
		ct, err := c.uvarint32("new file field tag")
		if err != nil {
			return f, err
		}
		if ct == nfTerminate {
			return f, nil
		}
		field, err := c.slice(fmt.Sprintf("new file field %d", ct))
		if err != nil {
			return f, err
		}
		switch {
		case ct == nfPathID:
			if len(field) != 1 || field[0] != 0 {
				return f, c.errf("files in the database directory (path id 0)", fmt.Sprintf("path id %v (db_paths)", field), ErrUnsupported)
			}
		case ct&nfMustUnderstand != 0:
			return f, c.errf("a new file field this reader knows", fmt.Sprintf("field %d", ct), ErrUnsupported)
		}
	}
}
