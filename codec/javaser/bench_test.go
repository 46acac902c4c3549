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

// TestRecordAllocs guards the allocation count of one realistic record, so a
// change that boxes or copies per field shows up.
func TestRecordAllocs(t *testing.T) {
	for _, name := range benchRecords {
		data, err := os.ReadFile("testdata/gen/" + name + ".ser")
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if _, _, err := Decode(data, Options{}); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %d bytes, %.0f allocations", name, len(data), allocs)
		if limit := 40.0; allocs > limit {
			t.Errorf("%s: %.0f allocations, want at most %.0f", name, allocs, limit)
		}
	}
}
