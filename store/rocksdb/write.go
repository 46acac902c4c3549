package rocksdb

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"

	"github.com/recoverctl/recoverctl/store"
)

// Limits of what Create writes. RocksDB itself takes keys and values up to
// 4 GiB; these are far above any Spark record (ZooKeeper takes 1 MiB) and
// keep the database within what Open reads back and memory holds.
const (
	MaxKeySize   = 64 << 10
	MaxValueSize = 16 << 20
	// MaxDatabaseSize bounds the keys and values of one database: Create
	// writes them all into one log, which Open reads whole.
	MaxDatabaseSize = 1 << 30
)

// The files of a new database, numbered as RocksDB's DBImpl::NewDB numbers
// them (MANIFEST 1) plus the log that holds the records.
const (
	newManifestNumber = 1
	newLogNumber      = 2
	newNextFile       = 3
	// Puts are grouped into write batches of about this size; a larger
	// record has a batch of its own.
	walBatchBytes = 1 << 20

	tagDBID         = tagSafeIgnoreMask + 1 // kDbId
	tagPersistUDT   = tagSafeIgnoreMask + 9 // kPersistUserDefinedTimestamps
	bytewiseName    = "leveldb.BytewiseComparator"
	identityName    = "IDENTITY"
	currentTempName = "000001.dbtmp"
)

// Create writes a new RocksDB database in dir, which must not exist (its
// parent must), holding exactly pairs in the default column family, in the
// form RocksDB recovers on open: a MANIFEST with one version edit (DB id,
// comparator, log number 0, next file number, last sequence 0, the default
// column family implied), CURRENT naming it, an IDENTITY, and one
// write-ahead log of write batches of puts, sequence numbers from 1 — what a
// Spark Master killed before any flush leaves. No OPTIONS file: RocksDB
// writes one on open and does not need one to open (Spark passes its
// options in code). The first open by RocksDB replays the log, flushes it
// into an SST and writes a new MANIFEST.
//
// Every file and the directory are fsynced. A key or value over MaxKeySize
// or MaxValueSize, or more than MaxDatabaseSize in all, is refused with an
// error wrapping store.ErrTooLarge, before anything is written; on any error
// dir is removed again.
func Create(dir string, pairs map[string][]byte) error {
	keys := make([]string, 0, len(pairs))
	total := 0
	for k, v := range pairs {
		if len(k) > MaxKeySize {
			return fmt.Errorf("rocksdb: create %s: key %.40q...: %d bytes, more than the %d this writer takes: %w", dir, k, len(k), MaxKeySize, store.ErrTooLarge)
		}
		if len(v) > MaxValueSize {
			return fmt.Errorf("rocksdb: create %s: value of %q: %d bytes, more than the %d this writer takes: %w", dir, k, len(v), MaxValueSize, store.ErrTooLarge)
		}
		total += len(k) + len(v)
		if total > MaxDatabaseSize {
			return fmt.Errorf("rocksdb: create %s: more than %d bytes of keys and values: %w", dir, MaxDatabaseSize, store.ErrTooLarge)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("rocksdb: create %s: %w", dir, err)
	}
	if err := create(dir, keys, pairs); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("rocksdb: create %s: %w", dir, err)
	}
	return nil
}

func create(dir string, keys []string, pairs map[string][]byte) error {
	id, err := newDBID()
	if err != nil {
		return err
	}
	if err := writeSynced(filepath.Join(dir, identityName), func(w *bufio.Writer) error {
		_, err := w.WriteString(id)
		return err
	}); err != nil {
		return err
	}
	if len(keys) > 0 {
		if err := writeSynced(filepath.Join(dir, fmt.Sprintf("%06d.log", newLogNumber)), func(w *bufio.Writer) error {
			return writeWAL(w, keys, pairs)
		}); err != nil {
			return err
		}
	}
	manifest := fmt.Sprintf("MANIFEST-%06d", newManifestNumber)
	if err := writeSynced(filepath.Join(dir, manifest), func(w *bufio.Writer) error {
		lw := &recordWriter{w: w}
		return lw.add(newDBEdit(id))
	}); err != nil {
		return err
	}
	// As RocksDB's SetCurrentFile: a temporary file renamed onto CURRENT.
	tmp := filepath.Join(dir, currentTempName)
	if err := writeSynced(tmp, func(w *bufio.Writer) error {
		_, err := w.WriteString(manifest + "\n")
		return err
	}); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "CURRENT")); err != nil {
		return err
	}
	return syncDir(dir)
}

// newDBEdit is the version edit of DBImpl::NewDB plus the comparator (and
// the flag RocksDB records beside it) that its first recovery adds, in
// VersionEdit::EncodeTo's field order.
func newDBEdit(id string) []byte {
	var b []byte
	b = binary.AppendUvarint(b, tagDBID)
	b = appendLenPrefixed(b, []byte(id))
	b = binary.AppendUvarint(b, tagComparator)
	b = appendLenPrefixed(b, []byte(bytewiseName))
	b = binary.AppendUvarint(b, tagLogNumber)
	b = binary.AppendUvarint(b, 0)
	b = binary.AppendUvarint(b, tagNextFileNumber)
	b = binary.AppendUvarint(b, newNextFile)
	b = binary.AppendUvarint(b, tagLastSequence)
	b = binary.AppendUvarint(b, 0)
	b = binary.AppendUvarint(b, tagPersistUDT)
	b = appendLenPrefixed(b, []byte{1})
	return b
}

// writeWAL writes the pairs as write batches of puts into the default
// column family (WriteBatch: sequence, count, then per put kTypeValue and
// the length-prefixed key and value), sequence numbers from 1.
func writeWAL(w *bufio.Writer, keys []string, pairs map[string][]byte) error {
	lw := &recordWriter{w: w}
	seq := uint64(1)
	var b []byte
	count := uint32(0)
	flush := func() error {
		if count == 0 {
			return nil
		}
		binary.LittleEndian.PutUint64(b, seq)
		binary.LittleEndian.PutUint32(b[8:], count)
		if err := lw.add(b); err != nil {
			return err
		}
		seq += uint64(count)
		b, count = b[:0], 0
		return nil
	}
	for _, k := range keys {
		v := pairs[k]
		if count > 0 && len(b)+len(k)+len(v) > walBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		if count == 0 {
			b = append(b[:0], make([]byte, batchHeaderSize)...)
		}
		b = append(b, typeValue)
		b = appendLenPrefixed(b, []byte(k))
		b = appendLenPrefixed(b, v)
		count++
	}
	return flush()
}

func appendLenPrefixed(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// recordWriter writes logical records in the log format of WALs and
// MANIFESTs (db/log_writer.cc, legacy non-recyclable records): 32 KiB
// blocks, a block's tail shorter than a header zero-filled, a record split
// into FIRST/MIDDLE/LAST fragments where it does not fit.
type recordWriter struct {
	w   *bufio.Writer
	off int64
}

func (r *recordWriter) add(rec []byte) error {
	begin := true
	for {
		left := logBlockSize - int(r.off%logBlockSize)
		if left < legacyHeaderSize {
			if _, err := r.w.Write(make([]byte, left)); err != nil {
				return err
			}
			r.off += int64(left)
			left = logBlockSize
		}
		n := min(len(rec), left-legacyHeaderSize)
		end := n == len(rec)
		typ := byte(recMiddle)
		switch {
		case begin && end:
			typ = recFull
		case begin:
			typ = recFirst
		case end:
			typ = recLast
		}
		var h [legacyHeaderSize]byte
		binary.LittleEndian.PutUint16(h[4:], uint16(n))
		h[6] = typ
		crc := crc32.Update(0, crcTable, h[6:7])
		crc = crc32.Update(crc, crcTable, rec[:n])
		binary.LittleEndian.PutUint32(h[:], maskCRC(crc))
		if _, err := r.w.Write(h[:]); err != nil {
			return err
		}
		if _, err := r.w.Write(rec[:n]); err != nil {
			return err
		}
		r.off += int64(legacyHeaderSize + n)
		rec = rec[n:]
		begin = false
		if end {
			return nil
		}
	}
}

// writeSynced creates path (which must not exist), fills it through fill
// and fsyncs it.
func writeSynced(path string, fill func(*bufio.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// newDBID is a random (version 4) UUID, the form of RocksDB's
// GenerateUniqueId.
func newDBID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", errors.Join(errors.New("rocksdb: no random DB id"), err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
