package envelope

import (
	"os"
	"testing"
)

func BenchmarkOpen(b *testing.B) {
	for _, name := range []string{"large", "lz4-large", "lzf-large", "snappy-large", "zstd-large", "lz4-small", "zstd-small"} {
		data, err := os.ReadFile("testdata/samples/4.3.0/" + name + ".bin")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			u, err := Open(data, Limits{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(u.Payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Open(data, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
