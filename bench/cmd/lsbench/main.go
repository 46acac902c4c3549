// Command lsbench measures `recoverctl ls -o json` over a ZooKeeper store of
// many records built from the real-Spark captures, side by side in one run
// with the floors it is judged against: a sequential one-getData-at-a-time
// loop (what a recovering Master does), a bare go-zookeeper reader with many
// getData requests in flight that decodes nothing, and ZooKeeper's own
// zkCli.sh; and with recoverctl's own reader (multiRead, and getData only as
// on ZooKeeper before 3.6) without decoding. It prints a Markdown table;
// bench/ls.sh puts it into bench/README.md.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/bench/internal/benchutil"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	zkstore "github.com/recoverctl/recoverctl/store/zk"
)

type silent struct{}

func (silent) Printf(string, ...any) {}

func main() {
	bin := flag.String("bin", "", "recoverctl binary")
	n := flag.Int("n", 100000, "records in the store")
	zkcliN := flag.Int("zkcli", 2000, "records read with zkCli.sh (it starts a JVM and prints each; its rate is measured on this many)")
	captures := flag.String("captures", "testdata/spark", "capture root")
	work := flag.String("work", "", "scratch directory")
	rounds := flag.Int("rounds", 3, "runs of each compared reader; the median is reported")
	serve := flag.Bool("serve", false, "load the store, print its address and keep the server up until interrupted (for profiling by hand)")
	flag.Parse()
	if *bin == "" || *work == "" {
		log.Fatal("lsbench: -bin and -work are required")
	}
	records := loadCaptures(*captures)
	if len(records) == 0 {
		log.Fatalf("lsbench: no Java-serialized records under %s", *captures)
	}
	srv, err := zktest.StartServer(filepath.Join(*work, "zk"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	conn, _, err := gozk.Connect([]string{srv.Addr()}, 30*time.Second, gozk.WithLogger(silent{}), gozk.WithMaxBufferSize(64<<20))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	const dir = "/bench/spark"
	root := dir + "/master_status"
	if err := benchutil.Mkdirs(conn, root); err != nil {
		log.Fatal(err)
	}

	var rows []string
	add := func(what string, count int, d time.Duration, rss int64, note string) {
		rate := float64(count) / d.Seconds()
		rssText := "-"
		if rss > 0 {
			rssText = fmt.Sprintf("%.0f MiB", float64(rss)/1024)
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %.2f s | %.0f | %s | %s |", what, count, d.Seconds(), rate, rssText, note))
	}
	// CPU accounting: on 2 cores shared by client and server, a reader's
	// rate is bounded by the CPU both spend per record.
	var cpuRows []string
	type cpuUse struct{ total, busy float64 } // µs per record, cores
	cpuOf := map[string]cpuUse{}
	cpuRow := func(what string, count int, d time.Duration, client, server time.Duration) {
		per := func(t time.Duration) float64 { return float64(t.Microseconds()) / float64(count) }
		busy := (client + server).Seconds() / d.Seconds()
		cpuRows = append(cpuRows, fmt.Sprintf("| %s | %.1f | %.1f | %.1f | %.2f |", what, per(client), per(server),
			per(client)+per(server), busy))
		cpuOf[what] = cpuUse{per(client) + per(server), busy}
	}
	measured := func(f func() time.Duration) (d, client, server time.Duration) {
		c0, s0 := selfCPU(), procCPU(srv.Pid())
		start := time.Now()
		childCPU := f()
		d = time.Since(start)
		client = selfCPU() - c0 + childCPU
		server = procCPU(srv.Pid()) - s0
		return d, client, server
	}

	total, bytesTotal := 0, 0
	loadStart := time.Now()
	for _, target := range []int{*n / 10, *n} {
		b := load(conn, root, records, total, target)
		bytesTotal += b
		total = target
		if target == *n/10 {
			d, rss := runLs(*bin, srv.Addr(), dir)
			add("recoverctl ls -o json (1/10 of the store)", target, d, rss, "for memory growth")
		}
	}
	add("bare multi create (loading the store)", total, time.Since(loadStart), 0, fmt.Sprintf("%.1f KB per record", float64(bytesTotal)/float64(total)/1024))
	if *serve {
		fmt.Printf("serving %d records: recoverctl ls --zk %s --zk-dir %s\n", total, srv.Addr(), dir)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		return
	}

	names, _, err := conn.Children(root)
	if err != nil {
		log.Fatal(err)
	}
	d, cc, sc := measured(func() time.Duration { sequential(conn, root, names); return 0 })
	seqRate := float64(len(names)) / d.Seconds()
	add("sequential getData, one at a time", len(names), d, 0, "what a recovering Master does")
	cpuRow("sequential getData", len(names), d, cc, sc)

	// The readers that are compared run in turns, *rounds times, and each
	// row reports its median run: on this shared machine one run can be
	// 30% off the next.
	type reader struct {
		what, cpuWhat, note string
		run                 func() (time.Duration, int64) // child CPU, peak RSS
	}
	readers := []reader{
		{"bare go-zookeeper reader, 256 getData in flight, no decoding", "bare go-zookeeper reader", "the floor",
			func() (time.Duration, int64) { pipelined(conn, root, names, 256); return 0, 0 }},
		{"store/zk EachRecord, multiRead, no decoding", "store/zk EachRecord (multiRead)", "recoverctl's reader alone",
			func() (time.Duration, int64) { eachRecord(srv.Addr(), dir, false); return 0, 0 }},
		{"store/zk EachRecord, getData only, no decoding", "store/zk EachRecord (getData)", "its fallback for ZooKeeper < 3.6",
			func() (time.Duration, int64) { eachRecord(srv.Addr(), dir, true); return 0, 0 }},
		{"recoverctl ls -o json", "recoverctl ls -o json (the process)", "decodes every record, prints JSON",
			func() (time.Duration, int64) { _, rss, cpu := runLsCPU(*bin, srv.Addr(), dir); return cpu, rss }},
		{"recoverctl ls -o json --zk-multiread=false", "ls --zk-multiread=false (the process)", "the same with getData only",
			func() (time.Duration, int64) {
				_, rss, cpu := runLsCPU(*bin, srv.Addr(), dir, "--zk-multiread=false")
				return cpu, rss
			}},
	}
	type run struct {
		d, client, server time.Duration
		rss               int64
	}
	runs := make([][]run, len(readers))
	for range *rounds {
		for i, r := range readers {
			var rss int64
			d, cc, sc := measured(func() time.Duration {
				cpu, m := r.run()
				rss = m
				return cpu
			})
			runs[i] = append(runs[i], run{d, cc, sc, rss})
		}
	}
	rate := map[string]float64{}
	for i, r := range readers {
		sort.Slice(runs[i], func(a, b int) bool { return runs[i][a].d < runs[i][b].d })
		m := runs[i][len(runs[i])/2]
		note := r.note
		if len(runs[i]) > 1 {
			note += fmt.Sprintf("; median of %d, range %.0f-%.0f/s", len(runs[i]),
				float64(len(names))/runs[i][len(runs[i])-1].d.Seconds(), float64(len(names))/runs[i][0].d.Seconds())
		}
		add(r.what, len(names), m.d, m.rss, note)
		cpuRow(r.cpuWhat, len(names), m.d, m.client, m.server)
		rate[r.cpuWhat] = float64(len(names)) / m.d.Seconds()
	}
	if cli := "/usr/share/zookeeper/bin/zkCli.sh"; fileExists(cli) {
		m := min(*zkcliN, len(names))
		d := zkCli(cli, srv.Addr(), root, names[:m])
		add("zkCli.sh get", m, d, 0, "one JVM, commands on stdin")
	}

	fmt.Printf("Store: %d records on a real ZooKeeper %s on loopback (same 2-core machine), built from the real-Spark captures.\n\n",
		len(names), benchutil.ServerVersion(srv.Addr()))
	fmt.Println("| reader | records | time | records/s | peak RSS | note |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
	bareRate := rate["bare go-zookeeper reader"]
	for _, ls := range []struct{ what, key string }{
		{"ls", "recoverctl ls -o json (the process)"},
		{"ls --zk-multiread=false", "ls --zk-multiread=false (the process)"},
	} {
		fmt.Printf("\nRatios: %s / bare reader = %.2f (target >= 0.8); %s / sequential loop = %.2f (target >= 2.5).",
			ls.what, rate[ls.key]/bareRate, ls.what, rate[ls.key]/seqRate)
	}
	fmt.Println()
	fmt.Println("\nCPU time per record, same runs (client: the reading process, user+system; server: the ZooKeeper JVM, from /proc), and cores busy on average (of 2):")
	fmt.Println()
	fmt.Println("| reader | client µs/record | server µs/record | total µs/record | cores busy |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, r := range cpuRows {
		fmt.Println(r)
	}
	// What decoding and encoding cost ls: its CPU beyond its reader's.
	for _, p := range [][2]string{
		{"recoverctl ls -o json (the process)", "store/zk EachRecord (multiRead)"},
		{"ls --zk-multiread=false (the process)", "store/zk EachRecord (getData)"},
	} {
		ls, each := cpuOf[p[0]], cpuOf[p[1]]
		fmt.Printf("\n%s: %.0f µs of CPU per record in all, of which its reader and the server %.0f: decoding and encoding cost %.0f.",
			p[0], ls.total, each.total, ls.total-each.total)
	}
	fmt.Println()
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is a process's user+system CPU time from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clkTck
}

type record struct {
	kind string
	data []byte
}

// loadCaptures takes every plain Java-serialized record of the captures.
func loadCaptures(root string) []record {
	var out []record
	paths, _ := filepath.Glob(filepath.Join(root, "*", "*", "records", "*"))
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte{0xac, 0xed, 0x00, 0x05}) {
			continue
		}
		kind, _, _ := strings.Cut(filepath.Base(p), "_")
		out = append(out, record{kind, b})
	}
	return out
}

// load creates records [from, to) in multi batches of about 512 KB.
func load(conn *gozk.Conn, root string, recs []record, from, to int) int {
	var ops []any
	size, total := 0, 0
	flush := func() {
		if len(ops) == 0 {
			return
		}
		if _, err := conn.Multi(ops...); err != nil {
			log.Fatalf("multi: %v", err)
		}
		ops, size = ops[:0], 0
	}
	for i := from; i < to; i++ {
		r := recs[i%len(recs)]
		name := fmt.Sprintf("%s_%s-bench-%07d", r.kind, r.kind, i)
		ops = append(ops, &gozk.CreateRequest{Path: root + "/" + name, Data: r.data, Acl: gozk.WorldACL(gozk.PermAll)})
		size += len(r.data) + len(name) + 64
		total += len(r.data)
		if size > 512<<10 {
			flush()
		}
	}
	flush()
	return total
}

func sequential(conn *gozk.Conn, root string, names []string) {
	for _, n := range names {
		if _, _, err := conn.Get(root + "/" + n); err != nil {
			log.Fatal(err)
		}
	}
}

func pipelined(conn *gozk.Conn, root string, names []string, inflight int) {
	var wg sync.WaitGroup
	next := make(chan string)
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				if _, _, err := conn.Get(root + "/" + n); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	for _, n := range names {
		next <- n
	}
	close(next)
	wg.Wait()
}

func eachRecord(addr, dir string, getDataOnly bool) {
	ctx := context.Background()
	s, err := zkstore.Open(ctx, zkstore.Options{Servers: addr, SparkDir: dir, NoMultiRead: getDataOnly})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.EachRecord(ctx, func(_ store.Record, err error) error { return err }); err != nil {
		log.Fatal(err)
	}
}

// runLs runs the binary as an operator would and returns its wall time and
// peak resident memory (KiB).
func runLs(bin, addr, dir string) (time.Duration, int64) {
	d, rss, _ := runLsCPU(bin, addr, dir)
	return d, rss
}

// runLsCPU is runLs, with the child's CPU time (user+system).
func runLsCPU(bin, addr, dir string, flags ...string) (time.Duration, int64, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append([]string{"ls", "-o", "json", "--zk", addr, "--zk-dir", dir, "--timeout", "60s"}, flags...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout = io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("recoverctl ls: %v: %s", err, stderr.String())
	}
	d := time.Since(start)
	return d, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func zkCli(cli, addr, root string, names []string) time.Duration {
	var in strings.Builder
	for _, n := range names {
		fmt.Fprintf(&in, "get %s/%s\n", root, n)
	}
	in.WriteString("quit\n")
	cmd := exec.Command(cli, "-server", addr)
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Stdout = io.Discard
	cmd.Stderr = io.Discard
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Printf("zkCli.sh: %v", err)
	}
	return time.Since(start)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
