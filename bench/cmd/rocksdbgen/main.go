// Command rocksdbgen writes a RocksDB recovery store of N records for
// bench/rocksdb.sh: the records of a real ROCKSDB capture (their bytes, the
// engine's zero padding included), repeated under new names, written with
// store/rocksdb's writer as a Master's database after a flush would hold
// them (RocksDB recovers the log on open).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/recoverctl/recoverctl/store/rocksdb"
)

func main() {
	records := flag.String("records", "testdata/spark/4.0.5-2.13/rocksdb/records", "the capture's records (name = key, content = value)")
	n := flag.Int("n", 100000, "records to write")
	out := flag.String("out", "", "database directory to create (must not exist)")
	flag.Parse()
	if *out == "" {
		log.Fatal("rocksdbgen: -out is required")
	}
	entries, err := os.ReadDir(*records)
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) == 0 {
		log.Fatalf("rocksdbgen: no records in %s", *records)
	}
	values := make([][]byte, len(names))
	for i, n := range names {
		if values[i], err = os.ReadFile(filepath.Join(*records, n)); err != nil {
			log.Fatal(err)
		}
	}
	pairs := make(map[string][]byte, *n)
	for i := range *n {
		k := i % len(names)
		prefix, _, _ := strings.Cut(names[k], "_")
		pairs[fmt.Sprintf("%s_%s-bench-%07d", prefix, prefix, i)] = values[k]
	}
	if err := rocksdb.Create(*out, pairs); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("rocksdbgen: %d records in %s\n", *n, *out)
}
