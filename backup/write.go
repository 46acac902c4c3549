package backup

import (
	"archive/tar"
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/recoverctl/recoverctl/store"
)

// Source is what a backup needs of a store; store.Store satisfies it.
type Source interface {
	// List returns every entry, sorted by name.
	List(ctx context.Context) ([]store.Entry, error)
	// Read returns one record; store.ErrNotFound if it is gone. Write
	// calls it from several goroutines at once (it reads ahead).
	Read(ctx context.Context, name string) (store.Record, error)
}

// Info is what the caller knows about the source; it goes into the manifest.
type Info struct {
	StoreKind string            // "fs" or "zk"; also names the archive file
	Address   string            // store address: "fs:///var/spark/recovery", "zk://h1:2181,h2:2181"
	Dir       string            // recovery directory or spark.deploy.zookeeper.dir
	Settings  map[string]string // Spark settings found (spark.deploy.*), as the caller read them
	Version   string            // recoverctl version
	Time      time.Time         // when the backup started; zero means now
	// IncludeForeign archives entries that are no Spark record too. Only
	// prune sets it, to keep what it deletes (--foreign); a restore of such
	// an archive puts them back like any record.
	IncludeForeign bool
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
	Records      int
	Bytes        int64 // record bytes before compression
	ArchiveBytes int64 // archive size, footer included
	SHA256       [32]byte
	Foreign      []string // entries that are not Spark records: reported, not archived
	Vanished     []string // listed, then gone before they could be read
	Duration     time.Duration
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
	total := 0
	for i, e := range entries {
		if i > 0 && entries[i-1].Name == e.Name {
			return sum, fmt.Errorf("backup: store lists %s twice", e.Name)
		}
		if kind, _ := store.ParseName(e.Name); kind == store.KindForeign && !info.IncludeForeign {
			sum.Foreign = append(sum.Foreign, e.Name)
			continue
		}
		if err := checkName(e.Name); err != nil {
			return sum, fmt.Errorf("backup: record name %q: %w", e.Name, err)
		}
		total++
	}

	out := &countingHash{w: w, h: sha256.New()}
	if _, err := out.Write(appendHeader(nil)); err != nil {
		return sum, fmt.Errorf("backup: write: %w", err)
	}
	// Two goroutines: one block is compressed while the next is filled.
	zw, err := zstd.NewWriter(out,
		zstd.WithEncoderConcurrency(2),
		zstd.WithWindowSize(encoderWindow),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return sum, fmt.Errorf("backup: zstd: %w", err)
	}
	defer zw.Close()
	tw := tar.NewWriter(zw)
	digest := sha256.New()

	ra := startReadAhead(ctx, src, entries, func(e store.Entry) bool {
		kind, _ := store.ParseName(e.Name)
		return kind != store.KindForeign || info.IncludeForeign
	})
	defer ra.stop()
	for _, e := range entries {
		if kind, _ := store.ParseName(e.Name); kind == store.KindForeign && !info.IncludeForeign {
			continue
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		rec, err := ra.read(e.Name)
		if errors.Is(err, store.ErrNotFound) {
			sum.Vanished = append(sum.Vanished, e.Name)
			continue
		}
		if err != nil {
			return sum, fmt.Errorf("backup: read %s: %w", e.Name, err)
		}
		if len(rec.Data) > MaxRecordSize {
			return sum, fmt.Errorf("backup: %s is %d bytes, more than the %d an archive record may hold",
				e.Name, len(rec.Data), MaxRecordSize)
		}
		modTime, acl := rec.ModTime, rec.ACL
		if modTime.IsZero() {
			modTime = e.ModTime
		}
		if acl == nil {
			acl = e.ACL
		}
		h := sha256.Sum256(rec.Data)
		hdr, err := recordHeader(e.Name, int64(len(rec.Data)), modTime, acl, h)
		if err != nil {
			return sum, fmt.Errorf("backup: %s: %w", e.Name, err)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return sum, fmt.Errorf("backup: write %s: %w", e.Name, err)
		}
		if _, err := tw.Write(rec.Data); err != nil {
			return sum, fmt.Errorf("backup: write %s: %w", e.Name, err)
		}
		fmt.Fprintf(digest, "%s %d %x\n", e.Name, len(rec.Data), h)
		sum.Records++
		sum.Bytes += int64(len(rec.Data))
		progress.report(Event{Phase: PhaseBackup, Record: e.Name, Done: sum.Records, Total: total, Bytes: sum.Bytes})
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

func recordHeader(name string, size int64, modTime time.Time, acl []store.ACL, h [32]byte) (*tar.Header, error) {
	if modTime.IsZero() {
		modTime = time.Unix(0, 0) // read back as "no modification time"
	}
	pax := map[string]string{paxSHA256: hex.EncodeToString(h[:])}
	if len(acl) > 0 {
		b, err := json.Marshal(acl)
		if err != nil {
			return nil, err
		}
		pax[paxACL] = string(b)
	}
	return &tar.Header{
		Typeflag:   tar.TypeReg,
		Name:       name,
		Size:       size,
		Mode:       0o600,
		ModTime:    modTime.UTC(),
		Format:     tar.FormatPAX,
		PAXRecords: pax,
	}, nil
}

// checkName refuses names that could not round-trip through a store or
// that could escape a directory when restored to one.
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return errors.New("empty or dot name")
	case len(name) > maxNameLen:
		return errors.New("name too long")
	case !utf8.ValidString(name):
		return errors.New("name is not UTF-8")
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == '\\' || name[i] < 0x20 {
			return fmt.Errorf("name holds byte %s", strconv.QuoteRune(rune(name[i])))
		}
	}
	return nil
}

// WriteFile writes an archive to path atomically: into a temporary file in
// the same directory (mode 0600), fsynced, verified by reading it back, then
// renamed to path and the directory fsynced. It refuses to replace an
// existing file. On error or cancellation nothing is left behind.
func WriteFile(ctx context.Context, src Source, path string, info Info, progress Progress) (sum Summary, err error) {
	if _, err := os.Lstat(path); err == nil {
		return sum, fmt.Errorf("backup: %s: %w", path, ErrArchiveExists)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return sum, fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return sum, fmt.Errorf("backup: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	sum, err = Write(ctx, src, bw, info, progress)
	if err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("backup: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return sum, fmt.Errorf("backup: fsync %s: %w", tmp, err)
	}
	m, err := Verify(ctx, io.NewSectionReader(f, 0, sum.ArchiveBytes))
	if err != nil {
		return sum, fmt.Errorf("backup: verify %s after writing: %w", tmp, err)
	}
	if m.ArchiveSHA256 != sum.SHA256 || m.ArchiveSize != sum.ArchiveBytes || m.Records != sum.Records {
		return sum, fmt.Errorf("backup: verify %s after writing: %w", tmp, ErrReadBack)
	}
	if err := f.Close(); err != nil {
		return sum, fmt.Errorf("backup: close %s: %w", tmp, err)
	}
	if _, err := os.Lstat(path); err == nil {
		return sum, fmt.Errorf("backup: %s: %w", path, ErrArchiveExists)
	}
	if err := os.Rename(tmp, path); err != nil {
		return sum, fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return sum, fmt.Errorf("backup: fsync %s: %w", dir, err)
	}
	return sum, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
