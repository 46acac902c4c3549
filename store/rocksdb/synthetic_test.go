package rocksdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/store"
)

// contents opens dir and returns every record as name -> value.
func contents(t testing.TB, dir string) (map[string]string, Info) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ents, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		r, err := s.Read(context.Background(), e.Name)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name] = string(r.Data)
	}
	return out, s.Info()
}

func expect(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d records %v, want %d", len(got), names(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %q (present %v), want %q", k, short(g), ok, short(v))
		}
	}
}

func names(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func short(s string) string { return s[:min(len(s), 40)] }

var baseEdit = edit(tagLogNumber, 4, tagNextFileNumber, 6, tagLastSequence, 0)

func TestNewestSequenceWins(t *testing.T) {
	dir := testDB(t, [][]byte{baseEdit}, map[int][][]byte{4: {
		batch(1, put("app_a", "v1"), put("app_b", "b1")),
		batch(3, put("app_a", "v2")),
		// Written later but older: a replayed batch is ordered by sequence, not position.
		batch(2, put("app_a", "stale"), put("app_b", "b2")),
		batch(4, put("app_a", "v3"), put("app_a", "v4")), // within a batch the later op is newer
		batch(9, put("app_c", "newest")),
		batch(6, put("app_c", "older, written last")),
	}})
	got, info := contents(t, dir)
	expect(t, got, map[string]string{"app_a": "v4", "app_b": "b2", "app_c": "newest"})
	if info.SmallestSeq != 1 || info.LargestSeq != 9 {
		t.Errorf("sequence range %d..%d, want 1..9", info.SmallestSeq, info.LargestSeq)
	}
	if strings.Join(info.LogOnly, ",") != "app_a,app_b,app_c" {
		t.Errorf("LogOnly = %v", info.LogOnly)
	}
}

func TestDeletesHideOlderPuts(t *testing.T) {
	dir := testDB(t, [][]byte{baseEdit}, map[int][][]byte{4: {
		batch(1, put("app_a", "1"), put("app_b", "1"), put("app_c", "1"), put("driver_c", "1"), put("driver_d", "1"), put("driver_e", "1"), put("worker_f", "1")),
		batch(7, del("app_a"), sdel("app_b"), delRange("driver_", "driver_e")),
		batch(10, put("app_b", "again"), put("driver_d", "after the range deletion")),
		batch(12, del("never_written")),
	}})
	got, info := contents(t, dir)
	expect(t, got, map[string]string{"app_b": "again", "app_c": "1", "driver_d": "after the range deletion", "driver_e": "1", "worker_f": "1"})
	if info.Deleted != 3 { // app_a, driver_c and never_written; driver_d is live again
		t.Errorf("Deleted = %d, want 3", info.Deleted)
	}
}

func TestFlushedLogsSkipped(t *testing.T) {
	dir := testDB(t, [][]byte{baseEdit}, map[int][][]byte{
		3: {batch(1, put("app_flushed", "x"))}, // older than the log number: its data is in SSTs
		4: {batch(2, put("app_live", "y"))},
	})
	got, info := contents(t, dir)
	expect(t, got, map[string]string{"app_live": "y"})
	var flushed []string
	for _, f := range info.Files {
		if f.Flushed {
			flushed = append(flushed, f.Name)
		}
	}
	if strings.Join(flushed, ",") != "000003.log" {
		t.Errorf("flushed logs %v", flushed)
	}
}

func TestColumnFamilies(t *testing.T) {
	edits := [][]byte{
		baseEdit,
		edit(tagColumnFamily, 1, tagCFAdd, "app_", tagLogNumber, 4),
		edit(tagColumnFamily, 2, tagCFAdd, "gone", tagLogNumber, 4),
		edit(tagColumnFamily, 3, tagCFAdd, "worker_", tagLogNumber, 5),
		edit(tagColumnFamily, 2, tagCFDrop, nil),
	}
	dir := testDB(t, edits, map[int][][]byte{
		4: {
			batch(1, put("app_x", "in default")),
			// Spark's migration: into the family, out of default, one batch.
			batch(2, cfPut(1, "app_x", "in app_"), del("app_x")),
			batch(4, cfPut(2, "app_dropped", "dropped family"), cfPut(3, "worker_old", "flushed for worker_")),
			batch(7, cfPut(1, "app_y", "y"), cfPut(1, "app_z", "z"), cfDel(1, "app_z")),
		},
		5: {batch(10, cfPut(3, "worker_w", "w"), put("foreign", "f"))},
	})
	got, info := contents(t, dir)
	expect(t, got, map[string]string{"app_x": "in app_", "app_y": "y", "worker_w": "w", "foreign": "f"})
	if strings.Join(info.ColumnFamilies, ",") != "default,app_,worker_" {
		t.Errorf("ColumnFamilies = %v", info.ColumnFamilies)
	}
}

func TestSameNameInTwoFamilies(t *testing.T) {
	edits := [][]byte{baseEdit, edit(tagColumnFamily, 1, tagCFAdd, "app_", tagLogNumber, 4)}
	dir := testDB(t, edits, map[int][][]byte{4: {batch(1, put("app_x", "default's"), cfPut(1, "app_x", "app_'s"))}})
	got, info := contents(t, dir)
	expect(t, got, map[string]string{"app_x": "app_'s"})
	if len(info.Problems) != 1 || !strings.Contains(info.Problems[0].Error(), `"app_x" is in column families`) {
		t.Errorf("problems %v", info.Problems)
	}
}

func TestFragmentedRecords(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 5000) // 80000 bytes: FIRST, MIDDLE, LAST
	// A first record that leaves 3 bytes in the first block: too few for a
	// header, so the writer pads them and the next record starts a block.
	fill := strings.Repeat("f", logBlockSize-legacyHeaderSize-3-batchHeaderSize-1-1-len("app_fill")-3)
	for _, recyclable := range []bool{false, true} {
		dir := testDB(t, [][]byte{baseEdit}, nil)
		w := logWriter{recyclable: recyclable, number: 4}
		w.add(batch(1, put("app_fill", fill)))
		if len(w.buf) != logBlockSize-3 && !recyclable {
			t.Fatalf("fill record ends at %d", len(w.buf))
		}
		w.add(batch(2, put("app_big", big)))
		w.add(batch(3, put("app_after", "a")))
		write(t, filepath.Join(dir, "000004.log"), w.buf)
		got, info := contents(t, dir)
		expect(t, got, map[string]string{"app_fill": fill, "app_big": big, "app_after": "a"})
		for _, p := range info.Problems {
			t.Errorf("recyclable %v: %v", recyclable, p)
		}
	}
}

func TestRecycledLogTail(t *testing.T) {
	dir := testDB(t, [][]byte{baseEdit}, nil)
	w := logWriter{recyclable: true, number: 4}
	w.add(batch(1, put("app_new", "n")))
	old := logWriter{recyclable: true, number: 2} // the file's previous life
	old.add(batch(1, put("app_old", "o")))
	write(t, filepath.Join(dir, "000004.log"), append(w.buf, old.buf...))
	got, info := contents(t, dir)
	expect(t, got, map[string]string{"app_new": "n"})
	if len(info.Problems) != 0 {
		t.Errorf("problems %v", info.Problems)
	}
}

// A database from RocksDB (SSTs) with a newer log of ours on top: the log's
// writes win over the SSTs and its deletions hide their keys.
func TestSSTAndLogMerge(t *testing.T) {
	src := filepath.Join("testdata", "jvm", "xxhash64-none-v4", "db")
	dir := copyDir(t, src)
	before, info := contents(t, dir)
	var sstName, sstOnly string
	for n := range before {
		if !inList(n, info.LogOnly) {
			if sstName == "" {
				sstName = n
			} else if sstOnly == "" && n != sstName {
				sstOnly = n
			}
		}
	}
	if sstName == "" || sstOnly == "" {
		t.Fatal("no records from SSTs")
	}
	w := logWriter{number: 99}
	w.add(batch(info.LargestSeq+1, put(sstName, "newer than the SST"), del(sstOnly), put("app_brand-new", "n")))
	write(t, filepath.Join(dir, "000099.log"), w.buf)
	after, info2 := contents(t, dir)
	want := map[string]string{}
	for k, v := range before {
		want[k] = v
	}
	want[sstName] = "newer than the SST"
	delete(want, sstOnly)
	want["app_brand-new"] = "n"
	expect(t, after, want)
	if info2.Deleted != info.Deleted+1 {
		t.Errorf("Deleted %d, want %d", info2.Deleted, info.Deleted+1)
	}
}

func inList(s string, l []string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestScanNamesAndErrors(t *testing.T) {
	dir := testDB(t, [][]byte{baseEdit}, map[int][][]byte{4: {batch(1, put("app_a", "A"), put("worker_w", "W"))}})
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var seen []string
	err = s.Scan(ctx, store.ScanRequest{Names: []string{"worker_w", "app_missing", "app_a"}}, func(r store.Record, err error) error {
		if r.Name == "app_missing" {
			if !errors.Is(err, store.ErrNotFound) || r.Data != nil || r.Kind != store.KindApp {
				t.Errorf("missing: %+v %v", r, err)
			}
		} else if err != nil || r.Size != int64(len(r.Data)) {
			t.Errorf("%s: %v", r.Name, err)
		}
		seen = append(seen, r.Name+"="+string(r.Data))
		return nil
	})
	if err != nil || strings.Join(seen, ",") != "worker_w=W,app_missing=,app_a=A" {
		t.Fatalf("Scan = %v, %v", seen, err)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.Scan(ctx, store.ScanRequest{}, func(store.Record, error) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Scan returned %v after %d calls", err, n)
	}
	r, _ := s.Read(ctx, "app_a")
	r.Data[0] = 'X' // the caller owns Data
	if r2, _ := s.Read(ctx, "app_a"); !bytes.Equal(r2.Data, []byte("A")) {
		t.Error("Read shares its bytes")
	}
	if _, err := s.Read(ctx, "app_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Read absent: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.List(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List on a cancelled context: %v", err)
	}
}

func TestXXH32Vectors(t *testing.T) {
	// Reference values of XXH32 with seed 0.
	for in, want := range map[string]uint32{"": 0x02cc5d05, "a": 0x550d7456, "abc": 0x32d153ff,
		"Nobody inspects the spammish repetition": 0xe2293b2f} {
		if got := xxh32([]byte(in), 0, false); got != want {
			t.Errorf("xxh32(%q) = %08x, want %08x", in, got, want)
		}
		// The last-byte form must equal hashing the whole input.
		if in != "" {
			if got := xxh32([]byte(in[:len(in)-1]), in[len(in)-1], true); got != want {
				t.Errorf("xxh32(%q) with last byte apart = %08x, want %08x", in, got, want)
			}
		}
	}
	// Every split point and stripe boundary against the one-piece hash.
	data := bytes.Repeat([]byte("0123456789abcdefghij"), 5)
	for n := 1; n <= len(data); n++ {
		if a, b := xxh32(data[:n], 0, false), xxh32(data[:n-1], data[n-1], true); a != b {
			t.Fatalf("n=%d: %08x != %08x", n, a, b)
		}
	}
	for typ := byte(checksumCRC32C); typ <= checksumXXH3; typ++ {
		for n := 1; n <= len(data); n += 7 {
			if a, b := wholeChecksum(typ, data[:n]), blockChecksum(typ, data[:n-1], data[n-1]); a != b {
				t.Fatalf("%s n=%d: %08x != %08x", checksumName(typ), n, a, b)
			}
		}
	}
}

func TestNotADatabase(t *testing.T) {
	dir := t.TempDir()
	if IsDatabase(dir) {
		t.Error("IsDatabase(empty dir)")
	}
	_, err := Open(dir)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open(empty dir) = %v", err)
	}
	write(t, filepath.Join(dir, "CURRENT"), []byte("../../etc/passwd\n"))
	write(t, filepath.Join(dir, "MANIFEST-000001"), nil)
	if !IsDatabase(dir) {
		t.Error("IsDatabase with CURRENT and a MANIFEST")
	}
	var fe *FormatError
	if _, err := Open(dir); !errors.As(err, &fe) || fe.File != "CURRENT" {
		t.Errorf("Open with a bad CURRENT = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "LOCK")); !errors.Is(err, os.ErrNotExist) {
		t.Error("Open created LOCK")
	}
	if IsDatabase(filepath.Join("..", "..", "testdata", "spark", "4.0.5-2.13", "filesystem", "records")) {
		t.Error("a FILESYSTEM recovery directory taken for a database")
	}
}

func TestLogRecordTypes(t *testing.T) {
	udt := func(cf uint32, size uint16) []byte {
		b := binary.LittleEndian.AppendUint32(nil, cf)
		return binary.LittleEndian.AppendUint16(b, size)
	}
	for _, c := range []struct {
		name    string
		typ     byte
		payload []byte
		err     error // nil: the record is skipped and the next batch read
	}{
		{"timestamp sizes all zero", recUDTSize, udt(0, 0), nil},
		{"safe to ignore", 130, []byte("predecessor"), nil},
		{"timestamps in use", recUDTSize, udt(0, 8), ErrUnsupported},
		{"WAL compression", recSetCompression, []byte{7}, ErrUnsupported},
		{"unknown type", 20, []byte("x"), ErrUnsupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := testDB(t, [][]byte{baseEdit}, nil)
			w := logWriter{number: 4}
			w.add(batch(1, put("app_before", "b")))
			w.raw(c.typ, c.payload)
			w.add(batch(2, put("app_after", "a")))
			write(t, filepath.Join(dir, "000004.log"), w.buf)
			got, info := contents(t, dir)
			if c.err == nil {
				expect(t, got, map[string]string{"app_before": "b", "app_after": "a"})
				if len(info.Problems) != 0 {
					t.Errorf("problems %v", info.Problems)
				}
				return
			}
			expect(t, got, map[string]string{"app_before": "b"})
			if fe := problemIn(info, "000004.log"); fe == nil || !errors.Is(fe, c.err) || fe.Offset == 0 {
				t.Errorf("problems %v", info.Problems)
			}
		})
	}
}

func TestBatchOpsUnsupported(t *testing.T) {
	merge := batch(2, put("app_x", "1"))
	merge[batchHeaderSize] = typeMerge // same layout as a put
	dir := testDB(t, [][]byte{baseEdit}, map[int][][]byte{4: {batch(1, put("app_a", "a")), merge, batch(3, put("app_c", "c"))}})
	got, info := contents(t, dir)
	// The damaged batch and everything after it are left out, as RocksDB stops there.
	expect(t, got, map[string]string{"app_a": "a"})
	if fe := problemIn(info, "000004.log"); fe == nil || !errors.Is(fe, ErrUnsupported) || !strings.Contains(fe.Got, "merge") {
		t.Errorf("problems %v", info.Problems)
	}
	short := batch(2, put("app_x", "1"), put("app_y", "2"))
	binary.LittleEndian.PutUint32(short[8:], 3) // claims three ops
	dir = testDB(t, [][]byte{baseEdit}, map[int][][]byte{4: {short}})
	if got, info := contents(t, dir); len(got) != 0 || problemIn(info, "000004.log") == nil {
		t.Errorf("count mismatch: %v, %v", got, info.Problems)
	}
}
