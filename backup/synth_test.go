package backup

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// synthRecord builds bytes shaped like a Java-serialized ApplicationInfo:
// class descriptors and field names repeat between records, ids, hosts and
// timestamps vary, and a small part is noise. Real captures are used
// instead when present (see realRecords).
func synthRecord(name string, size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var b strings.Builder
	b.WriteString("\xac\xed\x00\x05sr\x00.org.apache.spark.deploy.master.ApplicationInfo")
	fields := []string{"startTime", "submitDate", "endTime", "coresGranted", "state", "executorLimit",
		"org.apache.spark.deploy.ApplicationDescription", "spark.executor.memory", "spark.driver.host",
		"scala.collection.immutable.HashMap", "java.lang.String", "spark://master:7077"}
	for b.Len() < size {
		switch rng.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "t\x00%c%s", rune(10+rng.IntN(40)), fields[rng.IntN(len(fields))])
		case 1:
			fmt.Fprintf(&b, "%s 10.0.%d.%d:%d", name, rng.IntN(256), rng.IntN(256), 30000+rng.IntN(30000))
		case 2:
			fmt.Fprintf(&b, "J%016x", 1764300000000+rng.Int64N(1e9))
		default:
			for range 8 {
				b.WriteByte(byte(rng.Uint32()))
			}
		}
	}
	return []byte(b.String()[:size])
}

// realRecords returns the Spark record captures under testdata/spark, if
// another part of the project has produced them.
func realRecords() [][]byte {
	paths, _ := filepath.Glob("../testdata/spark/*/filesystem/records/*")
	var out [][]byte
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			out = append(out, b)
		}
	}
	return out
}
