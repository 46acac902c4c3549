package javaser

import (
	"os"
	"testing"
)

// The Spark-shaped records ScalaGen writes (ApplicationInfo layout with
// Scala collections): the realistic size and shape for this decoder.
var benchRecords = []string{"scala212_app", "scala213_app"}

func BenchmarkDecode(b *testing.B) {
	for _, name := range benchRecords {
		data, err := os.ReadFile("testdata/gen/" + name + ".ser")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Decode(data, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
