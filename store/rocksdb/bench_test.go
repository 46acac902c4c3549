package rocksdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/recoverctl/recoverctl/store"
)

// A killed Master's database: every record only in the log, each value a
// real app record of the 4.0.5 capture (9216 bytes with its padding).
func benchLogDB(b *testing.B, n int) (string, int64) {
	b.Helper()
	recs, err := os.ReadDir(filepath.Join(captureDir("4.0.5-2.13"), "records"))
	if err != nil {
		b.Fatal(err)
	}
	var vals [][]byte
	for _, r := range recs {
		v, err := os.ReadFile(filepath.Join(captureDir("4.0.5-2.13"), "records", r.Name()))
		if err != nil {
			b.Fatal(err)
		}
		vals = append(vals, v)
	}
	dir := testDB(b, [][]byte{baseEdit}, nil)
	w := logWriter{number: 4}
	var total int64
	for i := 0; i < n; i++ {
		v := vals[i%len(vals)]
		w.add(batch(uint64(i+1), put(fmt.Sprintf("app_app-20261128051446-%06d", i), string(v))))
		total += int64(len(v))
	}
	write(b, filepath.Join(dir, "000004.log"), w.buf)
	return dir, total
}

func BenchmarkScan(b *testing.B) {
	ctx := context.Background()
	logDir, logBytes := benchLogDB(b, 5000)
	for _, c := range []struct {
		name string
		dir  string
	}{
		{"log-5000x9KiB", logDir},
		{"jvm-sst-zstd-lz4", filepath.Join("testdata", "jvm", "spark-options", "db")},
	} {
		b.Run(c.name, func(b *testing.B) {
			var n int
			var bytes int64
			for i := 0; i < b.N; i++ {
				s, err := Open(c.dir)
				if err != nil {
					b.Fatal(err)
				}
				n, bytes = 0, 0
				err = s.Scan(ctx, store.ScanRequest{}, func(r store.Record, err error) error {
					if err != nil {
						return err
					}
					n++
					bytes += int64(len(r.Data))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(bytes)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
	_ = logBytes
}
