package rocksdb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/internal/sparktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/storetest"
)

// writePairs are records shaped like a Spark store's, with the sizes that
// exercise the log format: an empty value, values that end a record 7 bytes
// or fewer before a block end, records fragmented over several blocks, and
// enough of them for several write batches.
func writePairs() map[string][]byte {
	p := map[string][]byte{
		"app_app-20261128051446-0000":        storetest.Payload(1, 2300),
		"driver_driver-20261128051409-0000":  {},
		"worker_worker-20261128051338-1-234": storetest.Payload(2, 70000),
		"foreign-key":                        []byte("not a spark record"),
	}
	for i := range 400 {
		p[fmt.Sprintf("app_app-20261128051446-%04d", i+1)] = storetest.Payload(uint64(10+i), 1000+(i*997)%9000)
	}
	return p
}

func checkPairs(t *testing.T, s *Store, want map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	ents, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(want) {
		t.Fatalf("%d keys read back, %d written", len(ents), len(want))
	}
	for _, e := range ents {
		r, err := s.Read(ctx, e.Name)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[e.Name]
		if !ok || !bytes.Equal(r.Data, w) {
			t.Errorf("%s: %d bytes read back, want %d (present %v)", e.Name, len(r.Data), len(w), ok)
		}
	}
}

func TestCreateReadsBack(t *testing.T) {
	want := writePairs()
	dir := filepath.Join(t.TempDir(), "db")
	if err := Create(dir, want); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info()
	if len(info.Problems) != 0 {
		t.Fatalf("problems: %v", info.Problems)
	}
	checkPairs(t, s, want)
	if info.Comparator != "leveldb.BytewiseComparator" || info.LastSequence != 0 || info.NextFileNumber != newNextFile ||
		len(info.LogOnly) != len(want) || info.SmallestSeq != 1 || info.LargestSeq != uint64(len(want)) {
		t.Errorf("info = %+v", info)
	}
	// Several write batches, and a record fragmented over blocks.
	data, err := os.ReadFile(filepath.Join(dir, "000002.log"))
	if err != nil {
		t.Fatal(err)
	}
	lr := readLog("000002.log", data, newLogNumber)
	if lr.problem != nil || len(lr.records) < 3 {
		t.Fatalf("log: %d records, %v", len(lr.records), lr.problem)
	}
	frag := false
	for off := 0; off+legacyHeaderSize <= len(data); off += logBlockSize {
		if typ := data[off+6]; typ == recMiddle || typ == recLast {
			frag = true
		}
	}
	if !frag {
		t.Error("no record continues over a block boundary")
	}
}

// Records sized so that each one leaves 0 to 8 bytes in its block: the
// writer must pad a tail shorter than a header and start a zero-length
// FIRST fragment in one exactly as long as a header, as log_writer.cc does.
func TestCreateBlockTails(t *testing.T) {
	for tail := 0; tail <= 8; tail++ {
		t.Run(strconv.Itoa(tail), func(t *testing.T) {
			key := "app_a"
			// One batch: header 12, tag 1, key 1+5, value length 3, value.
			valLen := logBlockSize - legacyHeaderSize - tail - (batchHeaderSize + 1 + 1 + len(key) + 3)
			// app_b is too large to join app_a's batch.
			want := map[string][]byte{key: storetest.Payload(uint64(tail), valLen), "app_b": storetest.Payload(99, walBatchBytes)}
			dir := filepath.Join(t.TempDir(), "db")
			if err := Create(dir, want); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, "000002.log"))
			if err != nil {
				t.Fatal(err)
			}
			next := logBlockSize - tail
			if tail < legacyHeaderSize {
				if !allZero(data[next:logBlockSize]) {
					t.Fatalf("block tail of %d bytes not zero-filled", tail)
				}
				next = logBlockSize
			}
			if data[6] != recFull || data[next+6] != recFirst {
				t.Fatalf("record types %d at 0 and %d at %d, want FULL and FIRST", data[6], data[next+6], next)
			}
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if p := s.Info().Problems; len(p) != 0 {
				t.Fatalf("problems: %v", p)
			}
			checkPairs(t, s, want)
		})
	}
}

func TestCreateRefuses(t *testing.T) {
	parent := t.TempDir()
	for _, tc := range []struct {
		name  string
		pairs map[string][]byte
	}{
		{"key", map[string][]byte{strings.Repeat("k", MaxKeySize+1): nil}},
		{"value", map[string][]byte{"app_a": make([]byte, MaxValueSize+1)}},
	} {
		dir := filepath.Join(parent, tc.name)
		err := Create(dir, tc.pairs)
		if !errors.Is(err, store.ErrTooLarge) || !strings.Contains(err.Error(), "more than") {
			t.Errorf("%s over the limit: %v, want ErrTooLarge", tc.name, err)
		}
		if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("%s: refused, but %s was created", tc.name, dir)
		}
	}
	if err := Create(parent, map[string][]byte{"app_a": nil}); err == nil {
		t.Error("Create into an existing directory succeeded")
	}
	// At the limits it writes.
	dir := filepath.Join(parent, "limits")
	want := map[string][]byte{strings.Repeat("k", MaxKeySize): {1}, "app_big": storetest.Payload(5, MaxValueSize)}
	if err := Create(dir, want); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkPairs(t, s, want)
}

func TestCreateEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	if err := Create(dir, nil); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := s.List(context.Background()); len(ents) != 0 || len(s.Info().Problems) != 0 {
		t.Fatalf("empty database: %v, %v", ents, s.Info().Problems)
	}
}

// rocksCheck opens dir with rocksdbjni 9.8.4 as Spark does (testdata/
// RocksCheck.java) and returns what its iterator gives, as "key size
// sha256" lines.
func rocksCheck(t *testing.T, dir string) []string {
	t.Helper()
	home := sparktest.Prepare(t, "4.0.5", "2.13")
	jars, err := filepath.Glob(filepath.Join(home, "jars", "rocksdbjni-*.jar"))
	if err != nil || len(jars) != 1 {
		t.Fatalf("rocksdbjni jar in %s: %v %v", home, jars, err)
	}
	cmd := exec.Command(sparktest.Java17(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.io.tmpdir="+t.TempDir(), "-cp", jars[0], "RocksCheck.java", dir)
	cmd.Dir = "testdata"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("RocksCheck: %v\n%s", err, stderr.String())
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		p := strings.Split(l, "\t")
		if len(p) != 3 {
			t.Fatalf("RocksCheck line %q", l)
		}
		k, err := hex.DecodeString(p[0])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(k)+" "+p[1]+" "+p[2])
	}
	return got
}

func pairLines(want map[string][]byte) []string {
	var out []string
	for k, v := range want {
		sum := sha256.Sum256(v)
		out = append(out, k+" "+strconv.Itoa(len(v))+" "+hex.EncodeToString(sum[:]))
	}
	sort.Strings(out)
	return out
}

// RocksDB itself recovers what Create writes, opened as Spark opens it;
// closing it flushes the recovered log into an SST, which the reader
// then reads back the same.
func TestCreateOpensInRocksDB(t *testing.T) {
	want := writePairs()
	dir := filepath.Join(t.TempDir(), "db")
	if err := Create(dir, want); err != nil {
		t.Fatal(err)
	}
	got := rocksCheck(t, dir)
	exp := pairLines(want)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Fatalf("RocksDB's iterator differs:\n got %d: %s\nwant %d: %s", len(got), diff(got, exp), len(exp), diff(exp, got))
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info()
	if len(info.Problems) != 0 {
		t.Fatalf("problems after RocksDB's open: %v", info.Problems)
	}
	checkPairs(t, s, want)
	ssts := 0
	for _, f := range info.Files {
		if f.Kind == "sst" {
			ssts++
		}
	}
	if ssts == 0 || len(info.LogOnly) != 0 || info.Manifest == "MANIFEST-000001" {
		t.Errorf("RocksDB did not flush the recovered log: %d SSTs, %d log-only keys, %s", ssts, len(info.LogOnly), info.Manifest)
	}
}

// BenchmarkCreate writes a database of 10,000 records of 2 KiB (a large
// Spark store) and reads it back.
func BenchmarkCreate(b *testing.B) {
	pairs := map[string][]byte{}
	for i := range 10000 {
		pairs[fmt.Sprintf("app_app-20261204180000-%05d", i)] = storetest.Payload(uint64(i), 2048)
	}
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "db")
		if err := Create(dir, pairs); err != nil {
			b.Fatal(err)
		}
		s, err := Open(dir)
		if err != nil || len(s.names) != len(pairs) {
			b.Fatal(err)
		}
	}
}
