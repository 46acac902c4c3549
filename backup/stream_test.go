package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/store"
)

// streamSource serves records from a pool of distinct record bytes (real
// captures when present); it holds its entry list and the pool, never the
// records it hands out. The pool (1024 x 2.6 KB) is larger than the
// encoder window, so repeats do not flatter the compression ratio.
type streamSource struct {
	entries []store.Entry
	pool    [][]byte
}

func newStreamSource(n, size int) *streamSource {
	s := &streamSource{pool: realRecords()}
	if len(s.pool) == 0 {
		for i := range 1024 {
			s.pool = append(s.pool, synthRecord(fmt.Sprintf("app_app-20261128043000-%06d", i), size, uint64(i)))
		}
	}
	s.entries = make([]store.Entry, n)
	for i := range s.entries {
		name := fmt.Sprintf("app_app-20261128043000-%06d", i)
		kind, id := store.ParseName(name)
		s.entries[i] = store.Entry{Name: name, Kind: kind, ID: id, Size: int64(size)}
	}
	return s
}

func (s *streamSource) List(context.Context) ([]store.Entry, error) { return s.entries, nil }

func (s *streamSource) Read(_ context.Context, name string) (store.Record, error) {
	var i int
	fmt.Sscanf(name, "app_app-20261128043000-%06d", &i)
	r := store.NewRecord(name, s.pool[i%len(s.pool)])
	r.ModTime = time.Unix(1764300000+int64(i), 0)
	return r, nil
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryFlat streams 100,000 records of 2.6 KB through Write into
// Verify and checks that the live heap stays bounded while 260 MB pass.
func TestMemoryFlat(t *testing.T) {
	const n, size = 100_000, 2600
	src := newStreamSource(n, size)
	base := liveHeap()
	var peak uint64
	sample := func() {
		if h := liveHeap(); h > peak {
			peak = h
		}
	}
	pr, pw := io.Pipe()
	type result struct {
		m   *Manifest
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := Verify(context.Background(), pr)
		pr.CloseWithError(err)
		done <- result{m, err}
	}()
	counter := &countingHash{w: pw, h: nopHash{}}
	start := time.Now()
	sum, err := Write(context.Background(), src, counter, testInfo, func(e Event) {
		if e.Done%10_000 == 0 {
			sample()
		}
	})
	pw.CloseWithError(err)
	if err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	sample()
	elapsed := time.Since(start)
	if r.m.Records != n || sum.Records != n || r.m.ArchiveSHA256 != sum.SHA256 {
		t.Fatalf("wrote %d, verified %d records", sum.Records, r.m.Records)
	}
	growth := int64(peak) - int64(base)
	t.Logf("%d records, %.1f MB in, %.1f MB archive (ratio %.2f), live heap growth %.1f MB (entry list held by the source: %.1f MB), write+verify %v",
		n, float64(sum.Bytes)/1e6, float64(sum.ArchiveBytes)/1e6, float64(sum.Bytes)/float64(sum.ArchiveBytes),
		float64(growth)/1e6, float64(base)/1e6, elapsed.Round(time.Millisecond))
	// The records add up to 260 MB; a streaming writer and reader hold a
	// window and a few buffers. 32 MB leaves room for the runtime's own
	// noise but fails as soon as records are accumulated.
	if growth > 32<<20 {
		t.Fatalf("live heap grew by %d MB", growth>>20)
	}
}

type nopHash struct{}

func (nopHash) Write(p []byte) (int, error) { return len(p), nil }
func (nopHash) Sum(b []byte) []byte         { return b }
func (nopHash) Reset()                      {}
func (nopHash) Size() int                   { return 0 }
func (nopHash) BlockSize() int              { return 1 }

// benchArchive writes n records of realistic bytes.
func benchArchive(b *testing.B, n int) ([]byte, Summary) {
	var buf bytes.Buffer
	sum, err := Write(context.Background(), newStreamSource(n, 2600), &buf, testInfo, nil)
	if err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), sum
}

func BenchmarkWrite(b *testing.B) {
	const n = 10_000
	src := newStreamSource(n, 2600)
	var sum Summary
	var err error
	b.ResetTimer()
	for b.Loop() {
		sum, err = Write(context.Background(), src, io.Discard, testInfo, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, sum)
}

func BenchmarkVerify(b *testing.B) {
	data, sum := benchArchive(b, 10_000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Verify(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, sum)
}

func reportRates(b *testing.B, sum Summary) {
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(sum.Records)/perOp, "records/s")
	b.ReportMetric(float64(sum.Bytes)/1e6/perOp, "MB/s")
	b.ReportMetric(float64(sum.Bytes)/float64(sum.ArchiveBytes), "ratio")
	if len(realRecords()) > 0 {
		b.Log("record bytes from testdata/spark captures")
	} else {
		b.Log("record bytes synthesized (no testdata/spark captures yet)")
	}
}

func (s *streamSource) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	return scanByRead(ctx, s, req, fn)
}
func (s *streamSource) String() string { return "stream://" }
