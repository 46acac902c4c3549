package inventory

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/recoverctl/recoverctl/store"
)

// BenchmarkDecodeEncode is the per-record work of `ls -o json` after the
// read: decode every plain record of the captures and encode its view.
func BenchmarkDecodeEncode(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "spark", "*", "*", "records", "*"))
	type rec struct {
		e    store.Entry
		data []byte
	}
	var recs []rec
	var size int64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(data, []byte{0xac, 0xed, 0, 5}) {
			continue
		}
		name := filepath.Base(p)
		kind, id := store.ParseName(name)
		recs = append(recs, rec{store.Entry{Name: name, Kind: kind, ID: id}, data})
		size += int64(len(data))
	}
	if len(recs) == 0 {
		b.Fatal("no plain capture records")
	}
	b.SetBytes(size)
	b.ReportAllocs()
	sp, err := newSpool()
	if err != nil {
		b.Fatal(err)
	}
	defer sp.close()
	dec := newDecoder(Options{Encode: true, EncodePrefix: "    ", EncodeIndent: "  "}, sp)
	for b.Loop() {
		for _, r := range recs {
			if it := dec(r.e, r.data); !it.Decoded() || it.encoded.n == 0 {
				b.Fatalf("%s: %v", r.e.Name, it.Err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs))/1e3, "µs/record")
}
