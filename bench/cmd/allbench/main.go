// Command allbench measures every bulk path of recoverctl beside its floor
// in one run, on one real ZooKeeper (internal/zktest, loopback) and one
// scratch directory, and prints one table: recoverctl's figure, the floor's,
// the ratio, the target, peak RSS, and as its last line `targets met: M/N`.
// Each floor is the unavoidable work done bare, here or by a shell tool
// (tar, zstd); the JVM decode floors come from bench/decode.sh's output of
// the same run (-decode). bench/all.sh builds the binary and runs it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gozk "github.com/go-zookeeper/zk"
	"golang.org/x/sync/errgroup"

	"github.com/recoverctl/recoverctl/bench/internal/benchutil"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/zk"
)

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// row is one line of the table. higher says whether a larger ratio is
// better (rates) or a smaller one (sizes, memory growth).
type row struct {
	path, ours, floor string
	ratio, target     float64
	higher            bool
	rss               string
}

func (r row) met() bool {
	if r.higher {
		return r.ratio >= r.target
	}
	return r.ratio <= r.target
}

var logf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, "allbench: "+format+"\n", a...) }

func main() {
	var (
		bin       = flag.String("bin", "", "recoverctl binary to time")
		n         = flag.Int("n", 100_000, "records")
		captures  = flag.String("captures", "testdata/spark/*/*/records", "glob of capture record directories (the ZooKeeper store and the archives)")
		lsVersion = flag.String("ls-version", "3.5.8-2.12", "capture version of the directory store ls --fs reads (its JVM decode rate is the floor)")
		decode    = flag.String("decode", "", "bench/decode.sh output of the same run (its markdown table)")
		work      = flag.String("work", "", "scratch directory (default: a new temporary one, removed after)")
	)
	flag.Parse()
	if err := run(*bin, *n, *captures, *lsVersion, *decode, *work); err != nil {
		fmt.Fprintln(os.Stderr, "allbench:", err)
		os.Exit(1)
	}
}

func rate(n int, seconds float64) float64 { return float64(n) / seconds }

func fmtRate(r float64) string { return fmt.Sprintf("%.0f rec/s", r) }

func fmtRSS(kb int64) string {
	if kb <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MB", float64(kb)/1024)
}

// named gives the records of pool n names of their kinds, numbered from 0
// so that a decimal prefix of the number selects a contiguous share.
func named(pool []store.Record, n int) []store.Record {
	recs := make([]store.Record, n)
	for i := range recs {
		src := pool[i%len(pool)]
		kind, _ := store.ParseName(src.Name)
		recs[i] = store.NewRecord(fmt.Sprintf("%s_%s-20261128043000-%06d", kind, kind, i), src.Data)
	}
	slices.SortFunc(recs, func(a, b store.Record) int { return strings.Compare(a.Name, b.Name) })
	return recs
}

func writeDir(dir string, recs []store.Record) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, r := range recs {
		if err := os.WriteFile(filepath.Join(dir, r.Name), r.Data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", r.Name, err)
		}
	}
	return nil
}

// prefixes are the decimal prefixes of six-digit numbers that cover
// exactly [0, m).
func prefixes(m int) []string {
	var out []string
	var cover func(p string, lo, span int)
	cover = func(p string, lo, span int) {
		if lo >= m {
			return
		}
		if lo+span <= m {
			out = append(out, p)
			return
		}
		for d := 0; d < 10; d++ {
			cover(p+strconv.Itoa(d), lo+d*span/10, span/10)
		}
	}
	cover("", 0, 1_000_000)
	return out
}

func run(bin string, n int, captureGlob, lsVersion, decodeOut, work string) error {
	if bin == "" {
		return fmt.Errorf("-bin is required")
	}
	ctx := context.Background()
	if work == "" {
		d, err := os.MkdirTemp("", "allbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	small := max(n/10, 1)
	var rows []row
	add := func(r row) {
		rows = append(rows, r)
		logf("%s: %s vs %s = %.2f (target %g)", r.path, r.ours, r.floor, r.ratio, r.target)
	}
	timed := func(name string, args ...string) (float64, int64, error) {
		return benchutil.Timed(name, args...)
	}
	var mem []memPair
	memRow := func(what string, bigKB int64, smallCmd ...string) error {
		_, kb, err := timed(bin, smallCmd...)
		if err != nil {
			return err
		}
		mem = append(mem, memPair{what, bigKB, kb})
		return nil
	}

	// Decode: the JVM and Go rates of decode.sh's run, per version.
	dec, err := parseDecode(decodeOut)
	if err != nil {
		return err
	}
	for _, d := range dec {
		add(row{path: "decode, one core, " + d.version, ours: fmtRate(d.goRPS), floor: fmtRate(d.jvmRPS) + " (JavaSerializer)",
			ratio: d.goRPS / d.jvmRPS, target: 3, higher: true, rss: "-"})
	}

	pool, err := benchutil.LoadCaptures(captureGlob, false)
	if err != nil {
		return err
	}
	recs := named(pool, n)
	rawDir, smallDir := filepath.Join(work, "raw"), filepath.Join(work, "small")
	if err := writeDir(rawDir, recs); err != nil {
		return err
	}
	if err := writeDir(smallDir, recs[:small]); err != nil {
		return err
	}

	// ls --fs: a directory store of one Spark version, as a Master writes.
	lsPool, err := benchutil.LoadCaptures("testdata/spark/"+lsVersion+"/*/records", true)
	if err != nil {
		return err
	}
	lsRecs := named(lsPool, n)
	lsDir, lsSmall := filepath.Join(work, "lsfs"), filepath.Join(work, "lsfs-small")
	if err := writeDir(lsDir, lsRecs); err != nil {
		return err
	}
	if err := writeDir(lsSmall, lsRecs[:small]); err != nil {
		return err
	}
	s, kb, err := timed(bin, "ls", "-o", "json", "--fs", lsDir)
	if err != nil {
		return err
	}
	var jvm float64
	for _, d := range dec {
		if d.version == lsVersion {
			jvm = d.jvmRPS
		}
	}
	if jvm > 0 {
		add(row{path: "ls -o json --fs (" + lsVersion + ")", ours: fmtRate(rate(n, s)), floor: fmtRate(jvm) + " (JVM decode alone)",
			ratio: rate(n, s) / jvm, target: 3, higher: true, rss: fmtRSS(kb)})
	} else {
		logf("no JVM decode rate for %s: ls --fs row left out", lsVersion)
	}
	if err := memRow("ls -o json --fs", kb, "ls", "-o", "json", "--fs", lsSmall); err != nil {
		return err
	}
	_, kb, err = timed(bin, "ls", "--fs", lsDir)
	if err != nil {
		return err
	}
	if err := memRow("ls --fs (table)", kb, "ls", "--fs", lsSmall); err != nil {
		return err
	}

	// ZooKeeper: the store every --zk row reads.
	srv, err := zktest.StartServer(filepath.Join(work, "zk"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	addr := srv.Addr()
	if err := loadZK(ctx, addr+"/src", recs); err != nil {
		return err
	}
	if err := loadZK(ctx, addr+"/small", recs[:small]); err != nil {
		return err
	}
	conn, _, err := gozk.Connect([]string{addr}, 30*time.Second, gozk.WithLogger(quiet{}), gozk.WithLogInfo(false),
		gozk.WithMaxBufferSize(64<<20))
	if err != nil {
		return err
	}
	defer conn.Close()
	const srcDir = "/src/spark/master_status"
	names := make([]string, len(recs))
	for i, r := range recs {
		names[i] = r.Name
	}

	// ls --zk against 256 getData in flight.
	t0 := time.Now()
	if err := pipelined(conn, srcDir, names, 256, false); err != nil {
		return err
	}
	floor := time.Since(t0).Seconds()
	s, kb, err = timed(bin, "ls", "-o", "json", "--zk", addr+"/src", "--timeout", "60s")
	if err != nil {
		return err
	}
	add(row{path: "ls -o json --zk", ours: fmtRate(rate(n, s)), floor: fmtRate(rate(n, floor)) + " (256 getData in flight)",
		ratio: floor / s, target: 1.2, higher: true, rss: fmtRSS(kb)})
	if err := memRow("ls -o json --zk", kb, "ls", "-o", "json", "--zk", addr+"/small", "--timeout", "60s"); err != nil {
		return err
	}

	// backup --zk against multiRead of every znode beside pipelined getACL.
	t0 = time.Now()
	if err := multiReadWithACL(ctx, conn, addr+"/src", srcDir, names); err != nil {
		return err
	}
	floor = time.Since(t0).Seconds()
	zkArchive := filepath.Join(work, "zk.rctl.zst")
	s, kb, err = timed(bin, "backup", "--zk", addr+"/src", "--to", zkArchive, "--timeout", "60s")
	if err != nil {
		return err
	}
	add(row{path: "backup --zk", ours: fmtRate(rate(n, s)), floor: fmtRate(rate(n, floor)) + " (multiRead + getACL in flight)",
		ratio: floor / s, target: 0.8, higher: true, rss: fmtRSS(kb)})
	if err := memRow("backup --zk", kb, "backup", "--zk", addr+"/small", "--to", filepath.Join(work, "small-zk.rctl.zst"), "--timeout", "60s"); err != nil {
		return err
	}

	// backup --fs against tar | zstd -3 -T0, and against tar czf.
	floor, _, err = timed("sh", "-c", fmt.Sprintf("tar -cf - -C %q raw | zstd -q -3 -T0 -o %q", work, filepath.Join(work, "raw.tar.zst")))
	if err != nil {
		return err
	}
	tgz, _, err := timed("tar", "czf", filepath.Join(work, "raw.tar.gz"), "-C", work, "raw")
	if err != nil {
		return err
	}
	fsArchive := filepath.Join(work, "fs.rctl.zst")
	s, kb, err = timed(bin, "backup", "--fs", rawDir, "--to", fsArchive)
	if err != nil {
		return err
	}
	add(row{path: "backup --fs", ours: fmtRate(rate(n, s)), floor: fmtRate(rate(n, floor)) + " (tar | zstd -3 -T0)",
		ratio: floor / s, target: 0.8, higher: true, rss: fmtRSS(kb)})
	add(row{path: "backup --fs vs tar czf", ours: fmtRate(rate(n, s)), floor: fmtRate(rate(n, tgz)) + " (tar czf)",
		ratio: tgz / s, target: 3, higher: true, rss: fmtRSS(kb)})
	smallArchive := filepath.Join(work, "small-fs.rctl.zst")
	if err := memRow("backup --fs", kb, "backup", "--fs", smallDir, "--to", smallArchive); err != nil {
		return err
	}

	// Writes into ZooKeeper: floor = bare multi creates then a multiRead
	// of them; the Spark way = one create per round trip.
	seqN := min(n, 20_000)
	t0 = time.Now()
	if err := sequentialCreate(conn, "/seq/spark/master_status", recs[:seqN]); err != nil {
		return err
	}
	seqRate := rate(seqN, time.Since(t0).Seconds())
	if err := benchutil.DeleteTree(conn, "/seq"); err != nil {
		return err
	}
	t0 = time.Now()
	if err := benchutil.FloorMulti(conn, "/floor/spark/master_status", recs); err != nil {
		return err
	}
	if err := scanAll(ctx, addr+"/floor", n); err != nil {
		return err
	}
	floor = time.Since(t0).Seconds()
	if err := benchutil.DeleteTree(conn, "/floor"); err != nil {
		return err
	}
	zkWrite := func(what string, args ...string) (float64, int64, error) {
		s, kb, err := timed(bin, args...)
		if err != nil {
			return 0, 0, err
		}
		add(row{path: what, ours: fmtRate(rate(n, s)), floor: fmtRate(rate(n, floor)) + " (multi creates + multiRead)",
			ratio: floor / s, target: 0.8, higher: true, rss: fmtRSS(kb)})
		add(row{path: what + " vs one create per round trip", ours: fmtRate(rate(n, s)), floor: fmtRate(seqRate) + fmt.Sprintf(" (%d sequential creates)", seqN),
			ratio: rate(n, s) / seqRate, target: 3, higher: true, rss: fmtRSS(kb)})
		return s, kb, nil
	}
	if _, kb, err = zkWrite("restore --zk", "restore", zkArchive, "--zk", addr+"/dst", "--yes", "--backup-dir", work, "--timeout", "60s"); err != nil {
		return err
	}
	if err := memRow("restore --zk", kb, "restore", smallArchive, "--zk", addr+"/dstsmall", "--yes", "--backup-dir", work, "--timeout", "60s"); err != nil {
		return err
	}
	if _, kb, err = zkWrite("migrate fs to zk", "migrate", "--from", "fs://"+rawDir, "--to", "zk://"+addr+"/mig?dir=/spark", "--yes",
		"--backup-dir", work, "--timeout", "60s"); err != nil {
		return err
	}
	if err := memRow("migrate fs to zk", kb, "migrate", "--from", "fs://"+smallDir, "--to", "zk://"+addr+"/migsmall?dir=/spark", "--yes",
		"--backup-dir", work, "--timeout", "60s"); err != nil {
		return err
	}
	for _, p := range []string{"/mig", "/migsmall", "/dstsmall"} {
		if err := benchutil.DeleteTree(conn, p); err != nil {
			return err
		}
	}

	// Writes into a directory: floor = the same files written with the
	// same fsync policy as store/fs.
	t0 = time.Now()
	if err := floorFS(filepath.Join(work, "floorfs"), recs); err != nil {
		return err
	}
	floor = time.Since(t0).Seconds()
	if err := os.RemoveAll(filepath.Join(work, "floorfs")); err != nil {
		return err
	}
	fsWrite := func(what, dst string, args ...string) (int64, error) {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return 0, err
		}
		s, kb, err := timed(bin, args...)
		if err != nil {
			return 0, err
		}
		add(row{path: what, ours: fmtRate(rate(n, s)), floor: fmtRate(rate(n, floor)) + " (fsynced writer)",
			ratio: floor / s, target: 0.8, higher: true, rss: fmtRSS(kb)})
		return kb, os.RemoveAll(dst)
	}
	if kb, err = fsWrite("restore --fs", filepath.Join(work, "rfs"), "restore", fsArchive, "--fs", filepath.Join(work, "rfs"), "--yes", "--backup-dir", work); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(work, "rfs-small"), 0o755); err != nil {
		return err
	}
	if err := memRow("restore --fs", kb, "restore", smallArchive, "--fs", filepath.Join(work, "rfs-small"), "--yes", "--backup-dir", work); err != nil {
		return err
	}
	if _, err = fsWrite("migrate zk to fs", filepath.Join(work, "mfs"), "migrate", "--from", "zk://"+addr+"/src?dir=/spark",
		"--to", "fs://"+filepath.Join(work, "mfs"), "--yes", "--backup-dir", work, "--timeout", "60s"); err != nil {
		return err
	}

	// prune of 10%: the first tenth by number of every kind, by id prefix;
	// the floor deletes the same znodes of the restored copy.
	var pruned []string
	for _, r := range recs {
		num, _ := strconv.Atoi(r.Name[len(r.Name)-6:])
		if num < n/10 {
			pruned = append(pruned, r.Name)
		}
	}
	idsBelow := func(m int) []string {
		var ids []string
		for _, k := range []string{"app", "driver", "worker"} {
			for _, p := range prefixes(m) {
				ids = append(ids, fmt.Sprintf("%s-20261128043000-%s", k, p))
			}
		}
		return ids
	}
	t0 = time.Now()
	if err := floorDelete(conn, "/dst/spark/master_status", pruned); err != nil {
		return err
	}
	floor = time.Since(t0).Seconds()
	pruneArgs := func(target string, m int) []string {
		a := []string{"prune", "--zk", target, "--yes", "--backup-dir", work, "--timeout", "60s"}
		for _, id := range idsBelow(m) {
			a = append(a, "--id", id)
		}
		return a
	}
	s, kb, err = timed(bin, pruneArgs(addr+"/src", n/10)...)
	if err != nil {
		return err
	}
	left, _, err := conn.Children(srcDir)
	if err != nil {
		return err
	}
	if len(left) != n-len(pruned) {
		return fmt.Errorf("prune left %d records, want %d", len(left), n-len(pruned))
	}
	add(row{path: fmt.Sprintf("prune of 10%% (%d records)", len(pruned)), ours: fmtRate(rate(len(pruned), s)),
		floor: fmtRate(rate(len(pruned), floor)) + " (multi deletes)", ratio: floor / s, target: 0.5, higher: true, rss: fmtRSS(kb)})
	if err := memRow("prune of 10%", kb, pruneArgs(addr+"/small", small/10)...); err != nil {
		return err
	}

	// Archive size of the distinct capture records against zstd -19.
	capDir := filepath.Join(work, "captures")
	if err := writeDir(capDir, named(pool, len(pool))); err != nil {
		return err
	}
	capArchive, capZst := filepath.Join(work, "captures.rctl.zst"), filepath.Join(work, "captures.tar.zst")
	if _, _, err := timed(bin, "backup", "--fs", capDir, "--to", capArchive); err != nil {
		return err
	}
	if _, _, err := timed("sh", "-c", fmt.Sprintf("tar -cf - -C %q captures | zstd -q -19 -o %q", work, capZst)); err != nil {
		return err
	}
	var capRaw int64
	for _, r := range pool {
		capRaw += int64(len(r.Data))
	}
	a, z := size(capArchive), size(capZst)
	add(row{path: fmt.Sprintf("archive size, %d distinct records", len(pool)), ours: fmt.Sprintf("%d B (%.3f of raw)", a, float64(a)/float64(capRaw)),
		floor: fmt.Sprintf("%d B (%.3f, zstd -19 of tar)", z, float64(z)/float64(capRaw)), ratio: float64(a) / float64(z), target: 1, rss: "-"})

	for _, m := range mem {
		add(row{path: "peak memory, " + m.what, ours: fmtRSS(m.bigKB) + fmt.Sprintf(" at %d", n), floor: fmtRSS(m.smallKB) + fmt.Sprintf(" at %d", small),
			ratio: float64(m.bigKB) / float64(m.smallKB), target: 2, rss: fmtRSS(m.bigKB)})
	}

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%d records built from %d capture records (%s; ls --fs: %d plain %s records); ZooKeeper %s (zktest, loopback, same cores); `x` ratio is recoverctl over the floor (rates), or recoverctl's figure over the floor's (size, memory: lower is better).\n\n",
		n, len(pool), captureGlob, len(lsPool), lsVersion, benchutil.ServerVersion(addr))
	fmt.Fprintln(w, "| path | recoverctl | floor | ratio | target | peak RSS | met |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	met := 0
	for _, r := range rows {
		t := fmt.Sprintf("≥ %gx", r.target)
		if !r.higher {
			t = fmt.Sprintf("≤ %gx", r.target)
		}
		verdict := "no"
		if r.met() {
			verdict = "yes"
			met++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %s | %s | %s |\n", r.path, r.ours, r.floor, r.ratio, t, r.rss, verdict)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "targets met: %d/%d\n", met, len(rows))
	return nil
}

type memPair struct {
	what           string
	bigKB, smallKB int64
}

type decodeRate struct {
	version       string
	goRPS, jvmRPS float64
}

// parseDecode reads the rows of decode.sh's table: "| VERSION | DECODER |
// RECORDS | RPS (MIN–MAX) | ...".
func parseDecode(path string) ([]decodeRate, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("decode output: %w", err)
	}
	byVersion := map[string]*decodeRate{}
	var order []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 6 {
			continue
		}
		v, dec := strings.TrimSpace(f[1]), strings.TrimSpace(f[2])
		rps, err := strconv.ParseFloat(strings.Fields(strings.TrimSpace(f[4]) + " x")[0], 64)
		if err != nil {
			continue
		}
		d := byVersion[v]
		if d == nil {
			d = &decodeRate{version: v}
			byVersion[v] = d
			order = append(order, v)
		}
		switch dec {
		case "JVM Spark JavaSerializer.deserialize":
			d.jvmRPS = rps
		case "recoverctl codec.Decode":
			d.goRPS = rps
		}
	}
	var out []decodeRate
	for _, v := range order {
		if d := byVersion[v]; d.goRPS > 0 && d.jvmRPS > 0 {
			out = append(out, *d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("decode output %s: no version with both JVM and Go rates", path)
	}
	return out, nil
}

func loadZK(ctx context.Context, servers string, recs []store.Record) error {
	s, err := zk.Open(ctx, zk.Options{Servers: servers, RequestTimeout: time.Minute})
	if err != nil {
		return err
	}
	defer s.Close()
	var batch []store.Op
	cost := 0
	for _, r := range recs {
		op := store.Op{Kind: store.OpCreate, Record: r}
		if c := s.Cost(op); cost+c > s.MaxBatch() && len(batch) > 0 {
			if err := s.Apply(ctx, batch); err != nil {
				return err
			}
			batch, cost = nil, 0
		}
		batch = append(batch, op)
		cost += s.Cost(op)
	}
	return s.Apply(ctx, batch)
}

// pipelined reads every name under dir with inflight requests on one
// connection: getData, or getACL with acl.
func pipelined(conn *gozk.Conn, dir string, names []string, inflight int, acl bool) error {
	var g errgroup.Group
	g.SetLimit(inflight)
	for _, name := range names {
		g.Go(func() error {
			var err error
			if acl {
				_, _, err = conn.GetACL(dir + "/" + name)
			} else {
				_, _, err = conn.Get(dir + "/" + name)
			}
			return err
		})
	}
	return g.Wait()
}

// scanAll reads every record under servers' Spark dir with store/zk's
// Scan (multiRead): the wire reader alone, no decoding, no archive.
func scanAll(ctx context.Context, servers string, want int) error {
	s, err := zk.Open(ctx, zk.Options{Servers: servers, RequestTimeout: time.Minute})
	if err != nil {
		return err
	}
	defer s.Close()
	got := 0
	if err := s.Scan(ctx, store.ScanRequest{}, func(_ store.Record, err error) error { got++; return err }); err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("scan: %d records, want %d", got, want)
	}
	return nil
}

// multiReadWithACL is the least a backup of ZooKeeper reads: every
// znode's bytes (multiRead) and every ACL (getACL, 256 in flight), at once.
func multiReadWithACL(ctx context.Context, conn *gozk.Conn, servers, dir string, names []string) error {
	var wg sync.WaitGroup
	var aclErr error
	wg.Add(1)
	go func() { defer wg.Done(); aclErr = pipelined(conn, dir, names, 256, true) }()
	err := scanAll(ctx, servers, len(names))
	wg.Wait()
	if err != nil {
		return err
	}
	return aclErr
}

func sequentialCreate(conn *gozk.Conn, dir string, recs []store.Record) error {
	if err := benchutil.Mkdirs(conn, dir); err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := conn.Create(dir+"/"+r.Name, r.Data, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
			return err
		}
	}
	return nil
}

// floorDelete deletes names under dir in multis of 1,000, one at a time.
func floorDelete(conn *gozk.Conn, dir string, names []string) error {
	for len(names) > 0 {
		k := min(len(names), 1000)
		ops := make([]any, k)
		for i, nm := range names[:k] {
			ops[i] = &gozk.DeleteRequest{Path: dir + "/" + nm, Version: -1}
		}
		if _, err := conn.Multi(ops...); err != nil {
			return err
		}
		names = names[k:]
	}
	return nil
}

// floorFS writes recs into dir with store/fs's durability: batches of
// about 8 MiB; a batch's temporary files written and fsynced 32 at a
// time, renamed onto their names, then the directory fsynced once.
func floorFS(dir string, recs []store.Record) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	for len(recs) > 0 {
		k, cost := 0, 0
		for k < len(recs) && (k == 0 || cost+len(recs[k].Data)+4096 <= 8<<20) {
			cost += len(recs[k].Data) + 4096
			k++
		}
		batch := recs[:k]
		recs = recs[k:]
		var g errgroup.Group
		g.SetLimit(32)
		for _, r := range batch {
			g.Go(func() error {
				f, err := os.OpenFile(filepath.Join(dir, ".tmp-"+r.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					return err
				}
				if _, err := f.Write(r.Data); err != nil {
					f.Close()
					return err
				}
				if err := f.Sync(); err != nil {
					f.Close()
					return err
				}
				return f.Close()
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, r := range batch {
			if err := os.Rename(filepath.Join(dir, ".tmp-"+r.Name), filepath.Join(dir, r.Name)); err != nil {
				return err
			}
		}
		if err := d.Sync(); err != nil {
			return err
		}
	}
	return nil
}

func size(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return fi.Size()
}
