// Command decodebench measures codec.Decode on real Spark Master recovery
// records with the same scheme as bench/jvm/DecodeBench.java, the warmed-JVM
// reference it is compared with: every file named in the list is read into
// memory, the whole set is decoded over and over for a warm-up, then for
// several timed iterations of whole passes. With -stdin it runs one
// iteration per line read from standard input, until a line "end" or the
// end of input, so that bench/decode.sh can interleave its iterations with
// the JVM's and a changing machine load falls on both. It prints a "warmup" line when warm,
// one "iter" line per iteration and a "result" line of key=value pairs (the
// median iteration) that bench/decode.sh turns into a Markdown table.
//
//	decodebench -list FILE [-warmup 20s] [-warmup-records 200000] [-iterations 5 | -stdin] [-seconds 5s]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/recoverctl/recoverctl/codec"
)

type record struct {
	name string
	data []byte
}

type iteration struct {
	records, bytes      int64
	elapsed, cpu        time.Duration
	mallocs, allocBytes uint64
	recordsPerSec, mbps float64
	usPerRecord, cpuUs  float64
	allocsPer, bytesPer float64
}

func (it iteration) String() string {
	return fmt.Sprintf("records=%d seconds=%.3f rps=%.0f mbps=%.2f us=%.3f cpu_us=%.3f allocs=%.1f bpr=%.0f",
		it.records, it.elapsed.Seconds(), it.recordsPerSec, it.mbps, it.usPerRecord, it.cpuUs, it.allocsPer, it.bytesPer)
}

func main() {
	list := flag.String("list", "", "file naming one record file a line")
	warmup := flag.Duration("warmup", 20*time.Second, "warm-up time")
	warmupRecords := flag.Int64("warmup-records", 200000, "warm up for at least this many records")
	iterations := flag.Int("iterations", 5, "timed iterations")
	seconds := flag.Duration("seconds", 5*time.Second, "minimum length of one timed iteration")
	driven := flag.Bool("stdin", false, "run one timed iteration per line of standard input, until \"end\" or its end")
	flag.Parse()
	if *list == "" || *iterations < 1 {
		log.Fatal("decodebench: -list is required and -iterations must be at least 1")
	}
	records, setBytes, err := load(*list)
	if err != nil {
		log.Fatalf("decodebench: %v", err)
	}
	// Every record must decode, as the JVM side checks its classes.
	for _, r := range records {
		if _, err := codec.Decode(r.name, r.data, codec.Options{}); err != nil {
			log.Fatalf("decodebench: %v", err)
		}
	}

	start, warmed := time.Now(), int64(0)
	for time.Since(start) < *warmup || warmed < *warmupRecords {
		pass(records)
		warmed += int64(len(records))
	}
	fmt.Printf("warmup records=%d seconds=%.1f\n", warmed, time.Since(start).Seconds())

	control := bufio.NewScanner(os.Stdin)
	var its []iteration
	for i := 0; *driven || i < *iterations; i++ {
		if *driven && (!control.Scan() || control.Text() == "end") {
			break
		}
		its = append(its, timed(records, setBytes, *seconds))
		fmt.Printf("iter %d %s\n", i+1, its[i])
	}
	if len(its) == 0 {
		log.Fatal("decodebench: no timed iteration")
	}
	byRate := append([]iteration(nil), its...)
	sort.Slice(byRate, func(a, b int) bool { return byRate[a].recordsPerSec < byRate[b].recordsPerSec })
	fmt.Printf("result files=%d setbytes=%d min_rps=%.0f max_rps=%.0f %s\n", len(records), setBytes,
		byRate[0].recordsPerSec, byRate[len(byRate)-1].recordsPerSec, byRate[len(byRate)/2])
	if sink == 42 {
		fmt.Println()
	}
}

func load(list string) ([]record, int64, error) {
	f, err := os.Open(list)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var out []record
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		path := strings.TrimSpace(sc.Text())
		if path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, record{filepath.Base(path), b})
		total += int64(len(b))
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) == 0 {
		return nil, 0, fmt.Errorf("%s names no record", list)
	}
	return out, total, nil
}

// sink keeps the decoded records observable so that no pass is optimised away.
var sink int

func pass(records []record) {
	for _, r := range records {
		rec, err := codec.Decode(r.name, r.data, codec.Options{})
		if err != nil {
			log.Fatalf("decodebench: %v", err)
		}
		sink += rec.Size
	}
}

func timed(records []record, setBytes int64, minimum time.Duration) iteration {
	var it iteration
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := processCPU()
	start := time.Now()
	for {
		pass(records)
		it.records += int64(len(records))
		it.bytes += setBytes
		if it.elapsed = time.Since(start); it.elapsed >= minimum {
			break
		}
	}
	it.cpu = processCPU() - cpu0
	runtime.ReadMemStats(&m1)
	n := float64(it.records)
	it.mallocs, it.allocBytes = m1.Mallocs-m0.Mallocs, m1.TotalAlloc-m0.TotalAlloc
	it.recordsPerSec = n / it.elapsed.Seconds()
	it.mbps = float64(it.bytes) / it.elapsed.Seconds() / 1e6
	it.usPerRecord = float64(it.elapsed.Microseconds()) / n
	it.cpuUs = float64(it.cpu.Microseconds()) / n
	it.allocsPer = float64(it.mallocs) / n
	it.bytesPer = float64(it.allocBytes) / n
	return it
}

// processCPU is user+system time of the whole process, GC workers included,
// as the JVM side's OperatingSystemMXBean.getProcessCpuTime.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
