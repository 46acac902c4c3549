package backup

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/store"
)

var update = flag.Bool("update", false, "rewrite testdata/ golden archives")

var testInfo = Info{
	StoreKind: "zk",
	Address:   "zk://zk1:2181,zk2:2181",
	Dir:       "/spark",
	Settings:  map[string]string{"spark.deploy.recoveryMode": "ZOOKEEPER", "spark.deploy.zookeeper.dir": "/spark"},
	Version:   "test",
	Time:      time.Date(2026, 11, 28, 4, 30, 0, 0, time.UTC),
}

// sampleStore holds a few records of each kind, one with an ACL, one without
// a modification time, and a foreign entry that must not be archived.
func sampleStore() *memStore {
	m := newMemStore()
	m.put("app_app-20261128043000-0000", bytes.Repeat([]byte("app record \x00\x01"), 40))
	m.put("app_app-20261128043000-0001", bytes.Repeat([]byte("another app \x02"), 30))
	m.put("driver_driver-20261128043001-0000", []byte("driver bytes"))
	m.put("worker_worker-20261128042900-10.0.0.5-40123", []byte{})
	m.put("README", []byte("not a record"))
	r := m.recs["app_app-20261128043000-0001"]
	r.ACL = []store.ACL{{Perms: 31, Scheme: "world", ID: "anyone"}, {Perms: 1, Scheme: "digest", ID: "u:x="}}
	m.recs[r.Name] = r
	r = m.recs["driver_driver-20261128043001-0000"]
	r.ModTime = time.Time{}
	m.recs[r.Name] = r
	return m
}

func writeArchive(t testing.TB, src Source) ([]byte, Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := Write(context.Background(), src, &buf, testInfo, nil)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if int64(buf.Len()) != sum.ArchiveBytes {
		t.Fatalf("summary says %d bytes, wrote %d", sum.ArchiveBytes, buf.Len())
	}
	return buf.Bytes(), sum
}

func sparkRecords(m *memStore) []store.Record {
	var out []store.Record
	for _, e := range must(m.List(context.Background())) {
		if e.Kind != store.KindForeign {
			out = append(out, m.recs[e.Name])
		}
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := sampleStore()
	data, sum := writeArchive(t, src)
	if sum.Records != 4 || !slices.Equal(sum.Foreign, []string{"README"}) {
		t.Fatalf("summary: %d records, foreign %v", sum.Records, sum.Foreign)
	}
	a, err := Open(ctx, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	m := a.Manifest()
	if m.StoreKind != "zk" || m.Address != testInfo.Address || m.Dir != "/spark" || m.Version != "test" ||
		!m.Created.Equal(testInfo.Time) || m.Settings["spark.deploy.recoveryMode"] != "ZOOKEEPER" ||
		m.Records != 4 || m.ArchiveSHA256 != sum.SHA256 || m.ArchiveSize != int64(len(data)) {
		t.Fatalf("manifest: %+v", m)
	}
	var got []store.Record
	for r, err := range a.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := sparkRecords(src)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Kind != w.Kind || g.ID != w.ID || !bytes.Equal(g.Data, w.Data) ||
			g.Size != int64(len(w.Data)) || !g.ModTime.Equal(w.ModTime) || !slices.Equal(g.ACL, w.ACL) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, g.Entry, w.Entry)
		}
	}
}

// TestVerifyRejectsEveryDamage flips every byte and cuts at every length of
// a small archive; Verify must reject each one.
func TestVerifyRejectsEveryDamage(t *testing.T) {
	ctx := context.Background()
	data, _ := writeArchive(t, sampleStore())
	if _, err := Verify(ctx, bytes.NewReader(data)); err != nil {
		t.Fatalf("intact archive: %v", err)
	}
	named := 0
	for _, mask := range []byte{0xff, 0x01, 0x80} {
		for i := range data {
			bad := slices.Clone(data)
			bad[i] ^= mask
			_, err := Verify(ctx, bytes.NewReader(bad))
			var de *DamageError
			if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) {
				t.Fatalf("byte %d ^ %#x: got %v, want a *DamageError", i, mask, err)
			}
			if de.Record != "" {
				named++
			}
		}
	}
	for n := range len(data) {
		_, err := Verify(ctx, bytes.NewReader(data[:n]))
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotArchive) {
			t.Fatalf("cut at %d of %d: got %v, want ErrTruncated", n, len(data), err)
		}
	}
	for _, extra := range [][]byte{{0}, []byte("trailing garbage"), data[len(data)-footerLen:]} {
		if _, err := Verify(ctx, bytes.NewReader(append(slices.Clone(data), extra...))); !errors.Is(err, ErrDamaged) {
			t.Fatalf("%d bytes appended: got %v", len(extra), err)
		}
	}
	t.Logf("%d-byte archive: %d flips, %d cuts rejected; %d flips attributed to a record",
		len(data), 3*len(data), len(data), named)
}

// TestVerifyNamesDamagedRecord damages bytes inside one record (stored
// verbatim because they do not compress) and expects that record named.
func TestVerifyNamesDamagedRecord(t *testing.T) {
	src := sampleStore()
	noise := make([]byte, 64<<10)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(noise)
	src.put("app_app-20261128043000-0000b", noise)
	data, _ := writeArchive(t, src)
	at := bytes.Index(data, noise[30000:30100])
	if at < 0 {
		t.Fatal("record bytes not found verbatim in archive")
	}
	data[at+50] ^= 0x10
	_, err := Verify(context.Background(), bytes.NewReader(data))
	var de *DamageError
	if !errors.As(err, &de) || de.Record != "app_app-20261128043000-0000b" || !errors.Is(err, ErrChecksum) {
		t.Fatalf("got %v, want damage in app_app-20261128043000-0000b", err)
	}
	if de.Offset < int64(at) {
		t.Errorf("damage at %d reported at offset %d", at+50, de.Offset)
	}
	t.Log(err)
}

func TestVerifyNotArchive(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{0}, 4096)} {
		if _, err := Verify(context.Background(), bytes.NewReader(in)); !errors.Is(err, ErrNotArchive) {
			t.Errorf("%q...: got %v, want ErrNotArchive", in[:min(8, len(in))], err)
		}
	}
}

// TestGolden keeps archives written by earlier versions readable.
func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "v1.rctl.zst")
	if *update {
		data, _ := writeArchive(t, sampleStore())
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := OpenFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n := 0
	for r, err := range a.Records(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		want := sampleStore().recs[r.Name]
		if !bytes.Equal(r.Data, want.Data) {
			t.Errorf("%s differs", r.Name)
		}
		n++
	}
	if n != 4 || a.Manifest().Records != 4 {
		t.Fatalf("golden archive holds %d records, manifest %d", n, a.Manifest().Records)
	}
}

func TestWriteFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	name, err := ArchiveName("zk", testInfo.Time)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	sum, err := WriteFile(ctx, sampleStore(), path, testInfo, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != sum.ArchiveBytes {
		t.Fatalf("archive file: %v %v", fi, err)
	}
	if _, err := WriteFile(ctx, sampleStore(), path, testInfo, nil); !errors.Is(err, ErrArchiveExists) {
		t.Fatalf("second write: got %v, want ErrArchiveExists", err)
	}
	assertDir(t, dir, name)
}

// cancellingSource cancels the backup's context after n reads, as Ctrl-C
// would; failing after n reads instead returns an error.
type cancellingSource struct {
	*memStore
	mu     sync.Mutex // Write reads ahead: Read runs concurrently
	n      int
	cancel context.CancelFunc
}

func (c *cancellingSource) Read(ctx context.Context, name string) (store.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 {
		if c.cancel == nil {
			return store.Record{}, errInjected
		}
		c.cancel()
	}
	return c.memStore.Read(ctx, name)
}

func TestWriteFileLeavesNothingOnFailure(t *testing.T) {
	for _, cancel := range []bool{true, false} {
		dir := t.TempDir()
		ctx, stop := context.WithCancel(context.Background())
		src := &cancellingSource{memStore: sampleStore(), n: 2}
		if cancel {
			src.cancel = stop
		}
		_, err := WriteFile(ctx, src, filepath.Join(dir, "a.rctl.zst"), testInfo, nil)
		stop()
		if cancel && !errors.Is(err, context.Canceled) || !cancel && !errors.Is(err, errInjected) {
			t.Fatalf("cancel=%v: got %v", cancel, err)
		}
		assertDir(t, dir)
	}
}

// flipWriter inverts the byte at offset at of what passes through it.
type flipWriter struct {
	w      io.Writer
	at, of int64
}

func (f *flipWriter) Write(p []byte) (int, error) {
	if i := f.at - f.of; i >= 0 && i < int64(len(p)) {
		p = slices.Clone(p)
		p[i] ^= 0xff
	}
	f.of += int64(len(p))
	return f.w.Write(p)
}

// TestWriteFileCatchesDamage damages an archive at each step between the
// encoder and the renamed file: WriteFile must refuse it and leave nothing
// behind. The first case has a footer that matches the damaged bytes, so
// only the verification that runs while writing, decoding every record,
// can catch it.
func TestWriteFileCatchesDamage(t *testing.T) {
	flip := func(at int64) func(io.Writer) io.Writer {
		return func(w io.Writer) io.Writer { return &flipWriter{w: w, at: at} }
	}
	cases := []struct {
		name      string
		hk        hooks
		want, not error
	}{
		{"compressed body, footer hash over the damage", hooks{body: flip(1000)}, ErrDamaged, ErrChecksum},
		{"bytes to the file and the check", hooks{stream: flip(3000)}, ErrChecksum, nil},
		{"file after fsync", hooks{synced: func(f *os.File) error {
			var b [1]byte
			if _, err := f.ReadAt(b[:], 2000); err != nil {
				return err
			}
			b[0] ^= 0x01
			_, err := f.WriteAt(b[:], 2000)
			return err
		}}, ErrChecksum, nil},
		{"file truncated after fsync", hooks{synced: func(f *os.File) error {
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			return f.Truncate(fi.Size() - 1)
		}}, ErrTruncated, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := writePath(context.Background(), newStreamSource(2000, 2600), filepath.Join(dir, "a.rctl.zst"), testInfo, nil, &c.hk)
			var de *DamageError
			if !errors.As(err, &de) || !errors.Is(err, c.want) || c.not != nil && errors.Is(err, c.not) {
				t.Fatalf("got %v, want a *DamageError matching %v", err, c.want)
			}
			t.Log(err)
			assertDir(t, dir)
		})
	}
}

func assertDir(t *testing.T, dir string, want ...string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, de := range des {
		got = append(got, de.Name())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s holds %v, want %v", dir, got, want)
	}
}

func TestVanishedRecord(t *testing.T) {
	src := sampleStore()
	src.readErr = map[string]error{"app_app-20261128043000-0000": store.ErrNotFound}
	data, sum := writeArchive(t, src)
	if sum.Records != 3 || !slices.Equal(sum.Vanished, []string{"app_app-20261128043000-0000"}) {
		t.Fatalf("summary %+v", sum)
	}
	if _, err := Verify(context.Background(), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

func TestWriteMetrics(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "recoverctl.prom")
	sum := Summary{Records: 1234, Bytes: 3_200_000, ArchiveBytes: 400_000, Duration: 1500 * time.Millisecond}
	info := testInfo
	info.StoreKind = `z"k`
	if err := WriteMetrics(path, info, sum, time.Unix(1_800_000_000, 250e6)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`recoverctl_backup_last_success_timestamp_seconds{store="z\"k"} 1800000000.250`,
		`recoverctl_backup_duration_seconds{store="z\"k"} 1.500`,
		`recoverctl_backup_records{store="z\"k"} 1234`,
		`recoverctl_backup_record_bytes{store="z\"k"} 3200000`,
		`recoverctl_backup_archive_bytes{store="z\"k"} 400000`,
		"# TYPE recoverctl_backup_records gauge",
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("metrics file lacks %q:\n%s", want, b)
		}
	}
	assertDir(t, dir, "recoverctl.prom")
}

// FuzzVerify checks that no input makes Verify panic or accept a changed
// archive.
func FuzzVerify(f *testing.F) {
	data, _ := writeArchive(f, sampleStore())
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("RCTL"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Verify(context.Background(), bytes.NewReader(in))
		if err == nil && !bytes.Equal(in, data) {
			// Only an archive that hashes right may pass.
			if m.ArchiveSize != int64(len(in)) {
				t.Fatalf("accepted %d bytes as a %d-byte archive", len(in), m.ArchiveSize)
			}
		}
	})
}

func ExampleArchiveName() {
	n, _ := ArchiveName("zk", time.Date(2026, 11, 28, 4, 30, 0, 0, time.UTC))
	fmt.Println(n)
	// Output: recoverctl-zk-20261128T043000Z.rctl.zst
}

var _ io.Reader = (*splitter)(nil)

func (c *cancellingSource) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	return scanByRead(ctx, c, req, fn)
}
