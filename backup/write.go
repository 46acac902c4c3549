package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/recoverctl/recoverctl/store"
)

// Source is what a backup reads: any store. Its List gives each entry's
// ACL where the store has ACLs; the bytes come from its Scan.
type Source = store.Reader

// Info is what the caller knows about the source; it goes into the manifest.
type Info struct {
	StoreKind string            // "fs" or "zk"; also names the archive file
	Address   string            // store address: "fs:///var/spark/recovery", "zk://h1:2181,h2:2181"
	Dir       string            // recovery directory or spark.deploy.zookeeper.dir
	Settings  map[string]string // Spark settings found (spark.deploy.*), as the caller read them
	Version   string            // recoverctl version
	Time      time.Time         // when the backup started; zero means now
	// IncludeForeign archives entries that are no Spark record too, in
	// the archive's foreign part. Only prune sets it, to keep what it
	// deletes (--foreign). Restore never writes the foreign part back
	// (Archive.Foreign reads it); a foreign name that could escape a
	// directory (FORMAT.md) fails the backup.
	IncludeForeign bool
	// SkipUnreadable leaves out the records that cannot be read (a file
	// the user may not read, a FIFO, a znode the ACL refuses), naming each
	// with its reason in the summary and the manifest; without it such a
	// record fails the backup, so that no archive silently lacks one.
	SkipUnreadable bool
}

// Manifest describes a whole archive. It is stored as the last tar entry;
// per-record metadata (size, SHA-256, modification time, ACL) travels in each
// record's own tar header so that neither writing nor reading holds a list
// of all records (see FORMAT.md).
type Manifest struct {
	Format    int               `json:"format"`
	StoreKind string            `json:"store_kind"`
	Address   string            `json:"address"`
	Dir       string            `json:"dir"`
	Settings  map[string]string `json:"settings,omitempty"`
	Created   time.Time         `json:"created"`
	Version   string            `json:"recoverctl_version"`
	Records   int               `json:"records"`
	Bytes     int64             `json:"bytes"`
	// RecordsSHA256 is the SHA-256 of one line per record, in archive
	// order: "<name> <size> <sha256 hex>\n". It ties the manifest to the
	// entries independently of the footer.
	RecordsSHA256 string `json:"records_sha256"`
	// The foreign part (FORMAT.md): entries that are no Spark record,
	// archived only by prune, which deletes them. ForeignSHA256 digests
	// them as RecordsSHA256 digests the records. Restore never writes
	// them back.
	Foreign       int    `json:"foreign,omitempty"`
	ForeignBytes  int64  `json:"foreign_bytes,omitempty"`
	ForeignSHA256 string `json:"foreign_sha256,omitempty"`
	// Skipped are the records the store listed that could not be read
	// and were left out (Info.SkipUnreadable), each with the reason.
	Skipped []Skipped `json:"skipped,omitempty"`

	// Filled in by Verify; not stored in the manifest.
	ArchiveSize   int64    `json:"-"`
	ArchiveSHA256 [32]byte `json:"-"` // the footer hash
}

// Entry is one archived record's metadata.
type Entry struct {
	store.Entry
	SHA256 [32]byte
}

// Phase names the step a progress Event belongs to.
type Phase string

const (
	PhaseBackup   Phase = "backup"
	PhaseVerify   Phase = "verify"
	PhasePlan     Phase = "plan"
	PhaseRestore  Phase = "restore"
	PhaseReadBack Phase = "read-back"
)

// Event reports progress; Total is 0 when unknown.
type Event struct {
	Phase  Phase
	Record string
	Done   int
	Total  int
	Bytes  int64
}

// Progress receives events; nil is allowed. It is called from the goroutine
// doing the work and should return quickly.
type Progress func(Event)

func (p Progress) report(e Event) {
	if p != nil {
		p(e)
	}
}

// Summary says what Write did.
type Summary struct {
	Records int
	Bytes   int64 // record bytes before compression
	// ForeignArchived and ForeignBytes count the foreign part
	// (Info.IncludeForeign).
	ForeignArchived int
	ForeignBytes    int64
	ArchiveBytes    int64 // archive size, footer included
	SHA256          [32]byte
	Foreign         []string // entries that are not Spark records: reported, not archived
	Vanished        []string // listed, then gone before they could be read
	Skipped         []Skipped
	Duration        time.Duration
}

// Skipped is a record left out of an archive because it could not be read.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// countingHash hashes and counts every byte written to w.
type countingHash struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// Write streams an archive of src's Spark records to w. Memory use does not
// depend on the number or size of records beyond the entry list src.List
// returns and one record at a time. On error w holds a partial archive that
// Verify rejects; WriteFile never leaves one behind.
func Write(ctx context.Context, src Source, w io.Writer, info Info, progress Progress) (Summary, error) {
	return write(ctx, src, w, info, progress, nil)
}

// hooks lets tests damage an archive on its way out; nil fields do nothing.
type hooks struct {
	// body wraps the writer the zstd encoder writes to, before the
	// archive hash: what it changes, the footer covers.
	body func(io.Writer) io.Writer
	// stream wraps the writer WriteFile hands to write: what it changes
	// reaches the file and the concurrent check, but not the footer.
	stream func(io.Writer) io.Writer
	// synced runs on the temporary file after its fsync.
	synced func(*os.File) error
	// claim runs after the archive is checked, before its name is
	// claimed: what it creates stands for a file that appears meanwhile.
	claim func()
}

func write(ctx context.Context, src Source, w io.Writer, info Info, progress Progress, hk *hooks) (Summary, error) {
	start := time.Now()
	var sum Summary
	created := info.Time
	if created.IsZero() {
		created = start
	}
	entries, err := src.List(ctx)
	if err != nil {
		return sum, fmt.Errorf("backup: list records: %w", err)
	}
	byName := func(a, b store.Entry) int { return cmp.Compare(a.Name, b.Name) }
	if !slices.IsSortedFunc(entries, byName) {
		entries = slices.Clone(entries)
		slices.SortFunc(entries, byName)
	}
	// Spark records first, then (prune only) the foreign part: FORMAT.md.
	var recs, foreign []store.Entry
	for i, e := range entries {
		if i > 0 && entries[i-1].Name == e.Name {
			return sum, fmt.Errorf("backup: store lists %s twice", printableName(e.Name))
		}
		if kind, _ := store.ParseName(e.Name); kind == store.KindForeign {
			if !info.IncludeForeign {
				sum.Foreign = append(sum.Foreign, e.Name)
				continue
			}
			if err := checkName(e.Name); err != nil {
				return sum, fmt.Errorf("backup: foreign entry %s cannot be archived: %w", printableName(e.Name), err)
			}
			foreign = append(foreign, e)
			continue
		}
		if err := checkName(e.Name); err != nil {
			return sum, fmt.Errorf("backup: record name %s: %w", printableName(e.Name), err)
		}
		recs = append(recs, e)
	}
	total := len(recs) + len(foreign)

	out := &countingHash{w: w, h: sha256.New()}
	if _, err := out.Write(appendHeader(nil)); err != nil {
		return sum, fmt.Errorf("backup: write: %w", err)
	}
	var body io.Writer = out
	if hk != nil && hk.body != nil {
		body = hk.body(out)
	}
	// Two goroutines: one block is compressed while the next is filled.
	zw, err := zstd.NewWriter(body,
		zstd.WithEncoderConcurrency(2),
		zstd.WithWindowSize(encoderWindow),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return sum, fmt.Errorf("backup: zstd: %w", err)
	}
	defer zw.Close()
	tw := tar.NewWriter(zw)
	digest := sha256.New()
	var foreignDigest hash.Hash
	if len(foreign) > 0 {
		foreignDigest = sha256.New()
	}

	// One digest line, tar.Header and PAX map serve every entry
	// (tar.Writer copies what it needs in WriteHeader).
	var line []byte
	var hdr tar.Header
	pax := make(map[string]string, 2)
	// writePart archives list, each entry under prefix+name, in list
	// (name) order, read with the store's fastest read.
	writePart := func(list []store.Entry, prefix string, digest hash.Hash, count *int, bytes *int64) error {
		names := make([]string, len(list))
		byName := make(map[string]store.Entry, len(list))
		for i, e := range list {
			names[i] = e.Name
			byName[e.Name] = e
		}
		return store.ScanOrdered(ctx, src, names, func(rec store.Record, err error) error {
			e := byName[rec.Name]
			if errors.Is(err, store.ErrNotFound) {
				sum.Vanished = append(sum.Vanished, e.Name)
				return nil
			}
			if err != nil && info.SkipUnreadable {
				sum.Skipped = append(sum.Skipped, Skipped{Name: e.Name, Reason: err.Error()})
				return nil
			}
			if err != nil {
				return fmt.Errorf("backup: read %s (--skip-unreadable leaves it out, named in the archive): %w", printableName(e.Name), err)
			}
			if len(rec.Data) > MaxRecordSize {
				return fmt.Errorf("backup: %s is %d bytes, more than the %d an archive record may hold",
					printableName(e.Name), len(rec.Data), MaxRecordSize)
			}
			h := sha256.Sum256(rec.Data)
			modTime, acl := rec.ModTime, rec.ACL
			if modTime.IsZero() {
				modTime = e.ModTime
			}
			if acl == nil {
				acl = e.ACL
			}
			var aclJSON string
			if len(acl) > 0 {
				b, err := json.Marshal(acl)
				if err != nil {
					return fmt.Errorf("backup: %s: %w", printableName(e.Name), err)
				}
				aclJSON = string(b)
			}
			setRecordHeader(&hdr, pax, prefix+e.Name, int64(len(rec.Data)), modTime, aclJSON, h)
			err = tw.WriteHeader(&hdr)
			if err == nil {
				_, err = tw.Write(rec.Data)
			}
			if err != nil {
				return fmt.Errorf("backup: write %s: %w", printableName(e.Name), err)
			}
			line = appendDigestLine(line[:0], e.Name, int64(len(rec.Data)), h)
			digest.Write(line)
			*count++
			*bytes += int64(len(rec.Data))
			done := sum.Records + sum.ForeignArchived
			progress.report(Event{Phase: PhaseBackup, Record: e.Name, Done: done, Total: total, Bytes: sum.Bytes + sum.ForeignBytes})
			return nil
		})
	}
	if err := writePart(recs, "", digest, &sum.Records, &sum.Bytes); err != nil {
		return sum, err
	}
	if err := writePart(foreign, foreignPrefix, foreignDigest, &sum.ForeignArchived, &sum.ForeignBytes); err != nil {
		return sum, err
	}

	m := Manifest{
		Format:        FormatVersion,
		StoreKind:     info.StoreKind,
		Address:       info.Address,
		Dir:           info.Dir,
		Settings:      info.Settings,
		Created:       created.UTC(),
		Version:       info.Version,
		Records:       sum.Records,
		Bytes:         sum.Bytes,
		RecordsSHA256: hex.EncodeToString(digest.Sum(nil)),
		Skipped:       sum.Skipped,
	}
	if sum.ForeignArchived > 0 {
		m.Foreign, m.ForeignBytes = sum.ForeignArchived, sum.ForeignBytes
		m.ForeignSHA256 = hex.EncodeToString(foreignDigest.Sum(nil))
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return sum, fmt.Errorf("backup: manifest: %w", err)
	}
	if len(mb) > maxManifest {
		return sum, fmt.Errorf("backup: manifest is %d bytes, limit %d (too many settings?)", len(mb), maxManifest)
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: manifestName, Size: int64(len(mb)),
		Mode: 0o600, ModTime: created.UTC(), Format: tar.FormatPAX}); err != nil {
		return sum, fmt.Errorf("backup: write manifest: %w", err)
	}
	if _, err := tw.Write(mb); err != nil {
		return sum, fmt.Errorf("backup: write manifest: %w", err)
	}
	if err := tw.Close(); err != nil {
		return sum, fmt.Errorf("backup: write: %w", err)
	}
	if err := zw.Close(); err != nil {
		return sum, fmt.Errorf("backup: write: %w", err)
	}
	copy(sum.SHA256[:], out.h.Sum(nil))
	if _, err := w.Write(appendFooter(nil, out.n, sum.SHA256)); err != nil {
		return sum, fmt.Errorf("backup: write footer: %w", err)
	}
	sum.ArchiveBytes = out.n + footerLen
	sum.Duration = time.Since(start)
	return sum, nil
}

// setRecordHeader makes hdr the tar header of one record, with pax (emptied
// first) as its PAX records. aclJSON is the record's ACL as JSON, "" for
// none.
func setRecordHeader(hdr *tar.Header, pax map[string]string, name string, size int64, modTime time.Time, aclJSON string, h [32]byte) {
	if modTime.IsZero() {
		modTime = time.Unix(0, 0) // read back as "no modification time"
	}
	clear(pax)
	pax[paxSHA256] = hex.EncodeToString(h[:])
	if aclJSON != "" {
		pax[paxACL] = aclJSON
	}
	*hdr = tar.Header{
		Typeflag:   tar.TypeReg,
		Name:       name,
		Size:       size,
		Mode:       0o600,
		ModTime:    modTime.UTC(),
		Format:     tar.FormatPAX,
		PAXRecords: pax,
	}
}

// checkName refuses names that could not round-trip through a store or
// that could escape a directory when restored to one: what FORMAT.md's
// "Names" section says of every entry. Record names must also parse as a
// Spark record (checkRecordName).
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return errors.New("empty or dot name")
	case len(name) > MaxNameLen:
		return fmt.Errorf("name is %d bytes, more than the %d a file name may hold", len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return errors.New("name is not UTF-8")
	}
	for i, r := range name {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return fmt.Errorf("name holds %s at byte %d", strconv.QuoteRune(r), i)
		}
	}
	return nil
}

// checkRecordName accepts only what Spark writes: app_, driver_ or worker_
// and a non-empty id, within checkName's rules.
func checkRecordName(name string) error {
	if kind, _ := store.ParseName(name); kind == store.KindForeign {
		return errors.New("not app_, driver_ or worker_ and an id")
	}
	return checkName(name)
}

// WriteFile writes an archive to path atomically: into a temporary file in
// the same directory (mode 0600), verified, fsynced, checked by reading it
// back, then given its final name with a hard link (which fails, rather
// than replaces, when the name exists: ErrArchiveExists), the temporary
// name removed and the directory fsynced. On error or cancellation nothing
// is left behind.
//
// The verification runs while the archive is written: a goroutine runs
// Verify on a copy of the bytes going to the file, and its result must
// match what Write reports. Reading the fsynced file back then shows that
// it holds exactly those bytes: its SHA-256 must be the one the footer
// records, which Verify checked against the archive the file should hold.
func WriteFile(ctx context.Context, src Source, path string, info Info, progress Progress) (Summary, error) {
	return writePath(ctx, src, path, info, progress, nil)
}

func writePath(ctx context.Context, src Source, path string, info Info, progress Progress, hk *hooks) (Summary, error) {
	// Only a quick refusal before the work: the link is what guards.
	if _, err := os.Lstat(path); err == nil {
		return Summary{}, fmt.Errorf("backup: %s: %w", path, ErrArchiveExists)
	}
	_, sum, err := writeFile(ctx, src, filepath.Dir(path), filepath.Base(path), info, progress, hk,
		func(tmp string) (string, error) { return path, claim(tmp, path) })
	return sum, err
}

// maxNameTries bounds the names WriteDir tries: ArchiveName, then -1 up to
// -(maxNameTries-1).
const maxNameTries = 1000

// WriteDir writes an archive into dir like WriteFile, named
// ArchiveName(info.StoreKind, info.Time), or when that name is taken the
// first free of the same name with -1, -2, ... before the suffix (the
// time in the name stays the backup's own). Each name is claimed with a
// hard link, so a name that appears meanwhile is never replaced: the next
// one is tried. It returns the path written.
func WriteDir(ctx context.Context, src Source, dir string, info Info, progress Progress) (string, Summary, error) {
	if info.Time.IsZero() {
		info.Time = time.Now()
	}
	return writeDir(ctx, src, dir, info, progress, nil)
}

func writeDir(ctx context.Context, src Source, dir string, info Info, progress Progress, hk *hooks) (string, Summary, error) {
	first, err := ArchiveName(info.StoreKind, info.Time)
	if err != nil {
		return "", Summary{}, fmt.Errorf("backup: %w", err)
	}
	return writeFile(ctx, src, dir, first, info, progress, hk, func(tmp string) (string, error) {
		for i := range maxNameTries {
			p := filepath.Join(dir, numberedName(first, i))
			err := claim(tmp, p)
			if !errors.Is(err, ErrArchiveExists) {
				return p, err
			}
		}
		return "", fmt.Errorf("backup: %s and %d numbered names after it: %w",
			filepath.Join(dir, first), maxNameTries-1, ErrArchiveExists)
	})
}

// FreeArchivePath returns the first of ArchiveName(kind, t) and its
// numbered names (as WriteDir tries them) that does not exist in dir yet.
// The name is only a proposal: WriteFile claims it with a hard link, so if
// it is taken meanwhile the write fails with ErrArchiveExists and replaces
// nothing. WriteDir retries instead.
func FreeArchivePath(dir, kind string, t time.Time) (string, error) {
	first, err := ArchiveName(kind, t)
	if err != nil {
		return "", err
	}
	for i := range maxNameTries {
		p := filepath.Join(dir, numberedName(first, i))
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		} else if err != nil {
			return "", fmt.Errorf("backup: %w", err)
		}
	}
	return "", fmt.Errorf("backup: %s and %d numbered names after it: %w",
		filepath.Join(dir, first), maxNameTries-1, ErrArchiveExists)
}

// numberedName is the i-th name tried for an archive named first: first
// itself, then with -i before the suffix.
func numberedName(first string, i int) string {
	if i == 0 {
		return first
	}
	return strings.TrimSuffix(first, nameSuffix) + "-" + strconv.Itoa(i) + nameSuffix
}

// Every file this package writes (archives, the metrics file) is written
// the one way: under a temporary name in its directory (createTemp),
// fsynced, then given its name (publish) and the directory fsynced, so
// that no reader ever sees half a file under the real name.

// createTemp creates the temporary file for path's directory dir, named
// after base, with mode.
func createTemp(dir, base string, mode os.FileMode) (*os.File, error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// publish gives the complete, closed temporary file tmp the name path.
// Without replace it is a hard link, which fails on an existing name (a
// rename would replace it; archives are never replaced), then tmp goes;
// with replace, a rename (the metrics file is replaced each time).
func publish(tmp, path string, replace bool) error {
	if replace {
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return err
		}
	} else {
		if err := os.Link(tmp, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s: %w", path, ErrArchiveExists)
			}
			return fmt.Errorf("name %s (the directory's file system must support hard links): %w", path, err)
		}
		if err := os.Remove(tmp); err != nil {
			return fmt.Errorf("written to %s, but its temporary name %s stays: %w", path, tmp, err)
		}
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("fsync %s: %w", filepath.Dir(path), err)
	}
	return nil
}

// claim gives the verified temporary archive tmp the name path, never
// replacing a file.
func claim(tmp, path string) error {
	if err := publish(tmp, path, false); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// writeFile writes the archive to a temporary file in dir named after
// base, checks it, and hands it to name, which claims a final name for it
// and returns that name.
func writeFile(ctx context.Context, src Source, dir, base string, info Info, progress Progress, hk *hooks,
	name func(tmp string) (string, error)) (path string, sum Summary, err error) {
	f, err := createTemp(dir, base, 0o600)
	if err != nil {
		return "", sum, fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if !closed {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	check := startCheck(ctx)
	var w io.Writer = &tee{w: bw, check: check}
	if hk != nil && hk.stream != nil {
		w = hk.stream(w)
	}
	sum, err = write(ctx, src, w, info, progress, hk)
	if err != nil {
		check.wait()
		return "", sum, err
	}
	if err := bw.Flush(); err != nil {
		check.wait()
		return "", sum, fmt.Errorf("backup: write %s: %w", tmp, err)
	}
	// The check catches up while the file is synced.
	if err := f.Sync(); err != nil {
		check.wait()
		return "", sum, fmt.Errorf("backup: fsync %s: %w", tmp, err)
	}
	m, err := check.wait()
	if err != nil {
		return "", sum, fmt.Errorf("backup: verify %s after writing: %w", tmp, err)
	}
	if m.ArchiveSHA256 != sum.SHA256 || m.ArchiveSize != sum.ArchiveBytes || m.Records != sum.Records || m.Bytes != sum.Bytes ||
		m.Foreign != sum.ForeignArchived || m.ForeignBytes != sum.ForeignBytes {
		return "", sum, fmt.Errorf("backup: verify %s after writing: %w", tmp, ErrReadBack)
	}
	if hk != nil && hk.synced != nil {
		if err := hk.synced(f); err != nil {
			return "", sum, err
		}
	}
	if err := readBack(ctx, f, sum); err != nil {
		return "", sum, fmt.Errorf("backup: verify %s after writing: %w", tmp, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return "", sum, fmt.Errorf("backup: close %s: %w", tmp, err)
	}
	if hk != nil && hk.claim != nil {
		hk.claim()
	}
	path, err = name(tmp)
	if err != nil {
		return "", sum, err
	}
	return path, sum, nil
}

// readBack reads the written file and checks that it is the archive Write
// reported: its size, the SHA-256 of everything before the footer, and the
// footer itself. The concurrent check verified the bytes handed to the
// file; this shows the file holds them.
func readBack(ctx context.Context, f *os.File, sum Summary) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != sum.ArchiveBytes {
		return &DamageError{Offset: min(fi.Size(), sum.ArchiveBytes), Err: ErrTruncated,
			What: fmt.Sprintf("file is %d bytes, %d were written", fi.Size(), sum.ArchiveBytes)}
	}
	length := sum.ArchiveBytes - footerLen
	h := sha256.New()
	buf := make([]byte, 256<<10)
	r := io.NewSectionReader(f, 0, length)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read back: %w", err)
		}
	}
	var footer [footerLen]byte
	if _, err := f.ReadAt(footer[:], length); err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if [32]byte(h.Sum(nil)) != sum.SHA256 || !bytes.Equal(footer[:], appendFooter(nil, length, sum.SHA256)) {
		return &DamageError{Offset: -1, Err: ErrChecksum, What: "file read back differs from the archive written"}
	}
	return nil
}

// tee writes to w and hands a copy of what it wrote to check.
type tee struct {
	w     io.Writer
	check *check
}

func (t *tee) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.check.send(p[:n])
	return n, err
}

// checkQueue is how many writes the concurrent check may lag behind. Write
// hands its output over as the encoder compresses each block of at most
// 128 KiB of tar stream (a few KiB compressed for Spark records), so the
// copies held for the check stay within a few MiB even for data that does
// not compress; checkFree of them are kept for reuse.
const (
	checkQueue = 16
	checkFree  = 4
)

// check runs Verify in a goroutine on the bytes sent to it.
type check struct {
	chunks chan []byte // to the verifier; closed by wait
	free   chan []byte // chunks the verifier is done with
	done   chan struct{}
	cur    []byte // chunk being read
	off    int    // bytes of cur read
	m      *Manifest
	err    error
	closed bool
}

func startCheck(ctx context.Context) *check {
	c := &check{
		chunks: make(chan []byte, checkQueue),
		free:   make(chan []byte, checkFree),
		done:   make(chan struct{}),
	}
	go func() {
		defer close(c.done)
		c.m, c.err = Verify(ctx, (*checkReader)(c))
	}()
	return c
}

// send queues a copy of p for the verifier; once the verifier has
// returned (it found damage, or ctx ended) it drops p.
func (c *check) send(p []byte) {
	if len(p) == 0 {
		return
	}
	var b []byte
	select {
	case b = <-c.free:
	default:
	}
	b = append(b[:0], p...)
	select {
	case c.chunks <- b:
	case <-c.done:
	}
}

// wait ends the input and returns what Verify found.
func (c *check) wait() (*Manifest, error) {
	if !c.closed {
		c.closed = true
		close(c.chunks)
	}
	<-c.done
	return c.m, c.err
}

// checkReader is the verifier's side of a check.
type checkReader check

func (r *checkReader) Read(p []byte) (int, error) {
	for r.off == len(r.cur) {
		if r.cur != nil {
			select {
			case r.free <- r.cur:
			default:
			}
		}
		b, ok := <-r.chunks
		if !ok {
			r.cur, r.off = nil, 0
			return 0, io.EOF
		}
		r.cur, r.off = b, 0
	}
	n := copy(p, r.cur[r.off:])
	r.off += n
	return n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// appendDigestLine appends one line of the manifest's records_sha256 input:
// "<name> <size> <sha256 hex>\n".
func appendDigestLine(b []byte, name string, size int64, h [32]byte) []byte {
	b = append(b, name...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, size, 10)
	b = append(b, ' ')
	b = hex.AppendEncode(b, h[:])
	return append(b, '\n')
}
