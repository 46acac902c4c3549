package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/recoverctl/recoverctl/regularfile"
	"github.com/recoverctl/recoverctl/store"
)

// splitter hands out every byte of r except the last footerLen, which it
// holds back as the footer candidate, and hashes what it hands out. This is
// what lets Verify check the footer while streaming from a plain io.Reader.
type splitter struct {
	r      io.Reader
	h      hash.Hash
	buf    []byte
	lo, hi int
	off    int64 // bytes handed out and hashed
	err    error // sticky error from r; io.EOF at the end
}

func newSplitter(r io.Reader) *splitter {
	return &splitter{r: r, h: sha256.New(), buf: make([]byte, 64<<10)}
}

func (s *splitter) Read(p []byte) (int, error) {
	for zero := 0; s.hi-s.lo <= footerLen && s.err == nil; {
		if len(s.buf)-s.hi < 4096 {
			s.hi = copy(s.buf, s.buf[s.lo:s.hi])
			s.lo = 0
		}
		n, err := s.r.Read(s.buf[s.hi:])
		s.hi += n
		if err != nil {
			s.err = err
		} else if n == 0 {
			if zero++; zero > 100 {
				s.err = io.ErrNoProgress
			}
		}
	}
	avail := s.hi - s.lo - footerLen
	if avail <= 0 {
		return 0, s.err
	}
	n := copy(p, s.buf[s.lo:s.lo+avail])
	s.h.Write(p[:n])
	s.lo += n
	s.off += int64(n)
	return n, nil
}

// readErr is an error reading the input itself, as opposed to damage.
func (s *splitter) readErr() error {
	if s.err != nil && s.err != io.EOF {
		return s.err
	}
	return nil
}

func (s *splitter) drain(ctx context.Context) error {
	buf := make([]byte, 32<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := s.Read(buf); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// scan reads an archive once, checking every record against the SHA-256 in
// its header, the manifest against the records, and the footer against the
// whole archive. visit, if not nil, sees each record after its hash has been
// checked (but before the footer has been); data is nil unless withData.
type scan struct {
	s        *splitter
	visit    func(Entry, []byte) error
	withData bool
	record   string // record being read, for DamageError
	// visitForeign, if not nil, sees each entry of the foreign part as
	// visit sees records; visit never does.
	visitForeign func(Entry, []byte) error
}

func (sc *scan) damage(what string, args ...any) *DamageError {
	return &DamageError{Record: sc.record, Offset: sc.s.off, What: fmt.Sprintf(what, args...), Err: ErrDamaged}
}

func runScan(ctx context.Context, r io.Reader, visit func(Entry, []byte) error, withData bool) (*Manifest, error) {
	return runScanner(ctx, &scan{s: newSplitter(r), visit: visit, withData: withData})
}

func runScanner(ctx context.Context, sc *scan) (*Manifest, error) {
	m, headerOK, err := sc.stream(ctx)
	return sc.finish(ctx, m, headerOK, err)
}

// stream decodes header, records and manifest. Errors that are not
// *DamageError (cancellation, input errors, visit's errors) end the scan as
// they are.
func (sc *scan) stream(ctx context.Context) (*Manifest, bool, error) {
	var hb [headerLen]byte
	if _, err := io.ReadFull(sc.s, hb[:]); err != nil {
		return nil, false, sc.damage("archive shorter than its header")
	}
	version, err := parseHeader(hb[:])
	if err != nil {
		return nil, false, &DamageError{Offset: 0, What: "no recoverctl header", Err: ErrNotArchive}
	}
	if version != FormatVersion {
		return nil, true, fmt.Errorf("%w: %d (this recoverctl reads %d)", ErrUnsupported, version, FormatVersion)
	}
	dec, err := zstd.NewReader(sc.s,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(maxWindow),
		zstd.WithDecoderMaxMemory(maxDecodeMem),
		// The frame checksum would fail the whole frame without saying
		// which record is hit; the per-record SHA-256 names it, and the
		// footer's SHA-256 covers every byte the record hashes do not.
		zstd.IgnoreChecksum(true))
	if err != nil {
		return nil, true, err
	}
	defer dec.Close()
	tr := tar.NewReader(dec)
	digest := sha256.New()
	buf := make([]byte, 32<<10)
	var line []byte
	h := sha256.New()
	var got [sha256.Size]byte
	var lr io.LimitedReader
	var prev string
	var count int
	var bytes int64
	// The foreign part follows the records (FORMAT.md).
	var foreignDigest hash.Hash
	var prevForeign string
	var foreignCount int
	var foreignBytes int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, true, err
		}
		hdr, err := tr.Next()
		if err != nil {
			if rerr := sc.s.readErr(); rerr != nil {
				return nil, true, fmt.Errorf("read archive: %w", rerr)
			}
			if err == io.EOF {
				return nil, true, sc.damage("archive ends before its manifest")
			}
			if prev == "" {
				return nil, true, sc.damage("first entry: %v", err)
			}
			return nil, true, sc.damage("entry after %q: %v", prev, err)
		}
		if hdr.Name == manifestName {
			sc.record = ""
			m, err := sc.manifest(tr, hdr)
			if err != nil {
				return nil, true, err
			}
			if _, err := tr.Next(); err != io.EOF {
				return nil, true, sc.damage("entries after the manifest")
			}
			// The rest of the zstd stream must decode cleanly (frame
			// checksum) and hold nothing more.
			if n, err := io.Copy(io.Discard, dec); err != nil || n != 0 {
				if rerr := sc.s.readErr(); rerr != nil {
					return nil, true, fmt.Errorf("read archive: %w", rerr)
				}
				return nil, true, sc.damage("after the manifest: %d stray bytes, %v", n, err)
			}
			if m.Format != version {
				return nil, true, sc.damage("manifest says format %d, header %d", m.Format, version)
			}
			if m.Records != count || m.Bytes != bytes || m.RecordsSHA256 != hex.EncodeToString(digest.Sum(nil)) {
				return nil, true, sc.damage("manifest lists %d records (%d bytes), archive holds %d (%d bytes) or their digest differs",
					m.Records, m.Bytes, count, bytes)
			}
			wantForeign := ""
			if foreignDigest != nil {
				wantForeign = hex.EncodeToString(foreignDigest.Sum(nil))
			}
			if m.Foreign != foreignCount || m.ForeignBytes != foreignBytes || m.ForeignSHA256 != wantForeign {
				return nil, true, sc.damage("manifest lists %d foreign entries (%d bytes), archive holds %d (%d bytes) or their digest differs",
					m.Foreign, m.ForeignBytes, foreignCount, foreignBytes)
			}
			return m, true, nil
		}
		name, foreign := strings.CutPrefix(hdr.Name, foreignPrefix)
		sc.record = name
		var e Entry
		if foreign {
			if foreignDigest == nil {
				foreignDigest = sha256.New()
			}
			e, err = sc.entry(hdr, name, prevForeign, true)
		} else {
			if foreignDigest != nil {
				return nil, true, sc.damage("record after the foreign part")
			}
			e, err = sc.entry(hdr, name, prev, false)
		}
		if err != nil {
			return nil, true, err
		}
		var data []byte
		h.Reset()
		if sc.withData {
			data = make([]byte, hdr.Size)
			_, err = io.ReadFull(tr, data)
			h.Write(data)
		} else {
			lr.R, lr.N = tr, hdr.Size
			_, err = io.CopyBuffer(h, &lr, buf)
		}
		if err != nil {
			if rerr := sc.s.readErr(); rerr != nil {
				return nil, true, fmt.Errorf("read archive: %w", rerr)
			}
			return nil, true, sc.damage("record data: %v", err)
		}
		if [32]byte(h.Sum(got[:0])) != e.SHA256 {
			return nil, true, sc.damage("record bytes do not match their SHA-256")
		}
		line = appendDigestLine(line[:0], e.Name, e.Size, e.SHA256)
		if foreign {
			foreignDigest.Write(line)
			foreignCount++
			foreignBytes += e.Size
			prevForeign = name
			if sc.visitForeign != nil {
				if err := sc.visitForeign(e, data); err != nil {
					return nil, true, err
				}
			}
			continue
		}
		digest.Write(line)
		count++
		bytes += e.Size
		prev = name
		if sc.visit != nil {
			if err := sc.visit(e, data); err != nil {
				return nil, true, err
			}
		}
	}
}

// entry checks one entry's header; name is its record name (the tar name
// without foreignPrefix for the foreign part).
func (sc *scan) entry(hdr *tar.Header, name, prev string, foreign bool) (Entry, error) {
	var e Entry
	if foreign {
		if err := checkName(name); err != nil {
			return e, sc.badName("foreign entry name refused: %v", err)
		}
		if kind, _ := store.ParseName(name); kind != store.KindForeign {
			return e, sc.badName("a Spark record name in the foreign part")
		}
	} else if err := checkRecordName(name); err != nil {
		return e, sc.badName("not a name Spark writes (%v); an archive holds only app_, driver_ and worker_ records and the format's own .recoverctl/ entries", err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return e, sc.damage("entry type %q is not a record", hdr.Typeflag)
	}
	if name <= prev {
		return e, sc.damage("entry out of order or repeated after %s", printableName(prev))
	}
	if hdr.Size < 0 || hdr.Size > MaxRecordSize {
		return e, sc.damage("record size %d outside 0..%d", hdr.Size, MaxRecordSize)
	}
	hexSum := hdr.PAXRecords[paxSHA256]
	if len(hexSum) != hex.EncodedLen(sha256.Size) {
		return e, sc.damage("missing or bad SHA-256 in record header")
	}
	var hexBuf [2 * sha256.Size]byte
	copy(hexBuf[:], hexSum)
	if _, err := hex.Decode(e.SHA256[:], hexBuf[:]); err != nil {
		return e, sc.damage("missing or bad SHA-256 in record header")
	}
	var acl []store.ACL
	if s, ok := hdr.PAXRecords[paxACL]; ok {
		if err := json.Unmarshal([]byte(s), &acl); err != nil || len(acl) == 0 {
			return e, sc.damage("bad ACL in record header")
		}
	}
	modTime := hdr.ModTime
	if modTime.Equal(time.Unix(0, 0)) {
		modTime = time.Time{}
	}
	kind, id := store.ParseName(name)
	e.Entry = store.Entry{Name: name, Kind: kind, ID: id, Size: hdr.Size, ModTime: modTime, ACL: acl}
	return e, nil
}

// badName is a damage of kind ErrBadName: the archive may be intact (its
// footer matches), but it holds what no Spark Master wrote.
func (sc *scan) badName(what string, args ...any) *DamageError {
	d := sc.damage(what, args...)
	d.Err = ErrBadName
	return d
}

func (sc *scan) manifest(tr *tar.Reader, hdr *tar.Header) (*Manifest, error) {
	if hdr.Size < 0 || hdr.Size > maxManifest {
		return nil, sc.damage("manifest size %d outside 0..%d", hdr.Size, maxManifest)
	}
	b := make([]byte, hdr.Size)
	if _, err := io.ReadFull(tr, b); err != nil {
		if rerr := sc.s.readErr(); rerr != nil {
			return nil, fmt.Errorf("read archive: %w", rerr)
		}
		return nil, sc.damage("manifest: %v", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, sc.damage("manifest: %v", err)
	}
	return &m, nil
}

// finish checks the footer and decides what to report: the whole-archive
// hash is the judge, the stream error says where.
func (sc *scan) finish(ctx context.Context, m *Manifest, headerOK bool, err error) (*Manifest, error) {
	var de *DamageError
	if err != nil && !errors.As(err, &de) && !errors.Is(err, ErrUnsupported) {
		return nil, err // cancelled, input error, or the visitor's own error
	}
	if derr := sc.s.drain(ctx); derr != nil {
		return nil, derr
	}
	if rerr := sc.s.readErr(); rerr != nil {
		return nil, fmt.Errorf("read archive: %w", rerr)
	}
	tail := sc.s.buf[sc.s.lo:sc.s.hi]
	end := sc.s.off + int64(len(tail))
	length, want, ok := parseFooter(tail)
	switch {
	case !ok && !headerOK:
		return nil, &DamageError{Offset: 0, What: "no recoverctl header or footer", Err: ErrNotArchive}
	case !ok:
		return nil, &DamageError{Record: sc.record, Offset: end,
			What: fmt.Sprintf("no footer in the last %d bytes: archive truncated or its end damaged", footerLen), Err: ErrTruncated}
	case length != sc.s.off:
		e := &DamageError{Offset: end, Err: ErrDamaged,
			What: fmt.Sprintf("archive is %d bytes, its footer says %d", end, length+footerLen)}
		if length > sc.s.off {
			e.Err = ErrTruncated
			e.Record = sc.record
		}
		return nil, e
	}
	if [32]byte(sc.s.h.Sum(nil)) != want {
		if de != nil {
			de.Err = ErrChecksum
			return nil, de
		}
		return nil, &DamageError{Offset: -1, Err: ErrChecksum,
			What: "SHA-256 of the archive does not match its footer (damage in framing, not in record bytes)"}
	}
	if err != nil {
		// The archive is as it was written, but was written wrong, or
		// by a newer recoverctl.
		return nil, err
	}
	if !headerOK {
		return nil, &DamageError{Offset: 0, What: "bad header", Err: ErrDamaged}
	}
	m.ArchiveSize = end
	m.ArchiveSHA256 = want
	return m, nil
}

// Verify reads a whole archive and checks every byte of it: each record
// against its SHA-256, the manifest against the records, and the footer's
// SHA-256 against everything before it. Damage is reported as a
// *DamageError naming the record and offset; it matches ErrDamaged and one
// of ErrTruncated, ErrChecksum, ErrNotArchive. Memory use is flat.
func Verify(ctx context.Context, r io.Reader) (*Manifest, error) {
	return runScan(ctx, r, nil, false)
}

// Archive is a verified archive that can be read again.
type Archive struct {
	r        io.ReaderAt
	size     int64
	manifest *Manifest
	closer   io.Closer
	// file is the opened file's size and modification time when OpenFile
	// verified it; nil for archives opened from any other ReaderAt.
	file os.FileInfo
}

// Open verifies the archive in r and returns it for reading.
func Open(ctx context.Context, r io.ReaderAt, size int64) (*Archive, error) {
	m, err := Verify(ctx, io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, err
	}
	return &Archive{r: r, size: size, manifest: m}, nil
}

// OpenFile opens and verifies the archive at path; Close releases it.
// Only a regular file is opened (see regularfile.Open): a FIFO would
// block the open beyond the reach of signals, a device never end.
func OpenFile(ctx context.Context, path string) (*Archive, error) {
	f, fi, err := regularfile.Open(path)
	if err != nil {
		return nil, err
	}
	a, err := Open(ctx, f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a.closer = f
	a.file = fi
	return a, nil
}

// unchanged reports whether the archive is still the file OpenFile
// verified: same size and modification time, and a footer naming the same
// length and SHA-256. It lets Apply skip a second full verification of
// a file; archives not opened from a file get no such shortcut.
func (a *Archive) unchanged() bool {
	f, ok := a.r.(*os.File)
	if !ok || a.file == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() != a.file.Size() || !fi.ModTime().Equal(a.file.ModTime()) || fi.Size() != a.size {
		return false
	}
	var b [footerLen]byte
	if a.size < footerLen {
		return false
	}
	if _, err := f.ReadAt(b[:], a.size-footerLen); err != nil {
		return false
	}
	length, sum, ok := parseFooter(b[:])
	return ok && length+footerLen == a.manifest.ArchiveSize && sum == a.manifest.ArchiveSHA256
}

// EnsureUnchanged refuses an archive that is no longer the one Open
// verified: for a file that OpenFile verified, by its size, modification
// time and footer; otherwise by verifying it again. A restore calls it
// before its first write.
func (a *Archive) EnsureUnchanged(ctx context.Context) error {
	if a.unchanged() {
		return nil
	}
	m, err := Verify(ctx, newSection(a))
	if err != nil {
		return err
	}
	if m.ArchiveSHA256 != a.manifest.ArchiveSHA256 {
		return ErrArchiveModified
	}
	return nil
}

// Close releases the file OpenFile opened.
func (a *Archive) Close() error {
	if a.closer != nil {
		return a.closer.Close()
	}
	return nil
}

// Manifest returns the manifest found when the archive was verified.
func (a *Archive) Manifest() *Manifest { return a.manifest }

func (a *Archive) scan(ctx context.Context, visit func(Entry, []byte) error, withData bool) error {
	m, err := runScan(ctx, io.NewSectionReader(a.r, 0, a.size), visit, withData)
	if err != nil {
		return err
	}
	if m.ArchiveSHA256 != a.manifest.ArchiveSHA256 {
		return ErrArchiveModified
	}
	return nil
}

// errStop ends a scan early when the consumer of an iterator stops.
var errStop = errors.New("stop")

// Records yields each record with its bytes, in name order. Each record's
// bytes are checked against its SHA-256 before it is yielded; the archive
// was verified as a whole by Open and is checked again at the end of the
// iteration, whose failure is yielded as a final error.
func (a *Archive) Records(ctx context.Context) iter.Seq2[store.Record, error] {
	return func(yield func(store.Record, error) bool) {
		err := a.scan(ctx, func(e Entry, data []byte) error {
			if !yield(store.Record{Entry: e.Entry, Data: data}, nil) {
				return errStop
			}
			return nil
		}, true)
		if err != nil && err != errStop {
			yield(store.Record{}, err)
		}
	}
}

// Entries yields each record's metadata without keeping its bytes.
func (a *Archive) Entries(ctx context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		err := a.scan(ctx, func(e Entry, _ []byte) error {
			if !yield(e, nil) {
				return errStop
			}
			return nil
		}, false)
		if err != nil && err != errStop {
			yield(Entry{}, err)
		}
	}
}

// Foreign yields each entry of the archive's foreign part (FORMAT.md)
// with its bytes, checked like Records. Restore never writes these back;
// they are for a person (or a future explicit flag) to look at.
func (a *Archive) Foreign(ctx context.Context) iter.Seq2[store.Record, error] {
	return func(yield func(store.Record, error) bool) {
		sc := &scan{s: newSplitter(io.NewSectionReader(a.r, 0, a.size)), withData: true,
			visitForeign: func(e Entry, data []byte) error {
				if !yield(store.Record{Entry: e.Entry, Data: data}, nil) {
					return errStop
				}
				return nil
			}}
		m, err := runScanner(ctx, sc)
		if err == nil && m.ArchiveSHA256 != a.manifest.ArchiveSHA256 {
			err = ErrArchiveModified
		}
		if err != nil && err != errStop {
			yield(store.Record{}, err)
		}
	}
}

func newSection(a *Archive) *io.SectionReader { return io.NewSectionReader(a.r, 0, a.size) }
