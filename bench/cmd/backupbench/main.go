// Command backupbench measures recoverctl backup and restore against a real
// ZooKeeper (started with internal/zktest) and a directory, next to the
// floors a bare go-zookeeper client reaches in the same run: a pipelined
// read of every znode and byte-sized multi creates. It is run by
// bench/backup.sh, which builds the recoverctl binary it times.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

func main() {
	var (
		bin      = flag.String("bin", "", "recoverctl binary to time")
		n        = flag.Int("n", 100_000, "records")
		captures = flag.String("captures", "testdata/spark/*/*/records", "glob of capture record directories")
		work     = flag.String("work", "", "scratch directory (default: a new temporary one, removed after)")
	)
	flag.Parse()
	if err := run(*bin, *n, *captures, *work); err != nil {
		fmt.Fprintln(os.Stderr, "backupbench:", err)
		os.Exit(1)
	}
}

type row struct {
	what    string
	seconds float64
	rssKB   int64 // 0: not measured
}

func run(bin string, n int, captureGlob, work string) error {
	if bin == "" {
		return fmt.Errorf("-bin is required")
	}
	ctx := context.Background()
	if work == "" {
		d, err := os.MkdirTemp("", "backupbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	pool, err := benchutil.LoadCaptures(captureGlob, false)
	if err != nil {
		return err
	}
	// 100,000 records built from the captures: each capture record's bytes
	// under a new name of its kind.
	recs := make([]store.Record, n)
	var raw int64
	for i := range recs {
		src := pool[i%len(pool)]
		kind, _ := store.ParseName(src.Name)
		name := fmt.Sprintf("%s_%s-20261128043000-%06d", kind, kind, i)
		recs[i] = store.NewRecord(name, src.Data)
		raw += int64(len(src.Data))
	}
	slices.SortFunc(recs, func(a, b store.Record) int { return strings.Compare(a.Name, b.Name) })
	rawDir := filepath.Join(work, "raw")
	if err := os.MkdirAll(rawDir, 0o755); err != nil {
		return err
	}
	for _, r := range recs {
		if err := os.WriteFile(filepath.Join(rawDir, r.Name), r.Data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%d records, %.1f MB raw, from %d capture records\n", n, float64(raw)/1e6, len(pool))

	// The captures alone, once each: distinct records, for an honest
	// compression ratio (the 100,000 repeat them).
	capDir := filepath.Join(work, "captures")
	if err := os.MkdirAll(capDir, 0o755); err != nil {
		return err
	}
	var capRaw int64
	for i, r := range pool {
		kind, _ := store.ParseName(r.Name)
		if err := os.WriteFile(filepath.Join(capDir, fmt.Sprintf("%s_%s-20261128043000-%06d", kind, kind, i)), r.Data, 0o644); err != nil {
			return err
		}
		capRaw += int64(len(r.Data))
	}
	// The first tenth of the records (at most 10,000), for peak memory at
	// a smaller count.
	small := min(n/10, 10_000)
	smallDir := filepath.Join(work, "small")
	if err := os.MkdirAll(smallDir, 0o755); err != nil {
		return err
	}
	for _, r := range recs[:small] {
		if err := os.WriteFile(filepath.Join(smallDir, r.Name), r.Data, 0o644); err != nil {
			return err
		}
	}

	srv, err := zktest.StartServer(filepath.Join(work, "zk"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	addr := srv.Addr()
	src, err := zk.Open(ctx, zk.Options{Servers: addr + "/src", RequestTimeout: time.Minute})
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := loadZK(ctx, src, recs); err != nil {
		return err
	}
	src.Close()
	fmt.Fprintf(os.Stderr, "loaded ZooKeeper in %s\n", time.Since(t0).Round(time.Millisecond))

	conn, _, err := gozk.Connect([]string{addr}, 30*time.Second, gozk.WithLogger(quiet{}), gozk.WithLogInfo(false),
		gozk.WithMaxBufferSize(64<<20))
	if err != nil {
		return err
	}
	defer conn.Close()

	var rows []row
	// Floor 1: a bare pipelined read of every znode (getChildren, then 64
	// getData in flight on one connection), data only, nothing written.
	t0 = time.Now()
	if err := floorRead(conn, "/src/spark/master_status", n, false); err != nil {
		return err
	}
	floorReadS := time.Since(t0).Seconds()
	rows = append(rows, row{what: "floor: go-zookeeper pipelined getData of every znode", seconds: floorReadS})
	// The same with the getACL a backup needs for each record's ACL: what
	// reading the ACLs costs whatever does it.
	t0 = time.Now()
	if err := floorRead(conn, "/src/spark/master_status", n, true); err != nil {
		return err
	}
	floorACLS := time.Since(t0).Seconds()
	rows = append(rows, row{what: "floor with ACLs: go-zookeeper pipelined getData and getACL of every znode", seconds: floorACLS})

	zkArchive := filepath.Join(work, "zk.rctl.zst")
	r, err := timed(bin, "backup", "--zk", addr+"/src", "--to", zkArchive, "--timeout", "60s")
	if err != nil {
		return err
	}
	r.what = "recoverctl backup --zk"
	rows = append(rows, r)
	backupZK := r.seconds

	fsArchive := filepath.Join(work, "fs.rctl.zst")
	if r, err = timed(bin, "backup", "--fs", rawDir, "--to", fsArchive); err != nil {
		return err
	}
	r.what = "recoverctl backup --fs"
	rows = append(rows, r)
	backupFS := r.seconds

	tarFile := filepath.Join(work, "raw.tar.gz")
	if r, err = timed("tar", "czf", tarFile, "-C", work, "raw"); err != nil {
		return err
	}
	r.what = "tar czf of the same directory"
	rows = append(rows, r)

	// Floor 2: bare multi creates of the same records in ~512 KiB batches.
	t0 = time.Now()
	if err := benchutil.FloorMulti(conn, "/floor/spark/master_status", recs); err != nil {
		return err
	}
	floorMultiS := time.Since(t0).Seconds()
	rows = append(rows, row{what: "floor: go-zookeeper multi create, 512 KiB batches", seconds: floorMultiS})
	if err := benchutil.DeleteTree(conn, "/floor"); err != nil {
		return err
	}

	if r, err = timed(bin, "restore", zkArchive, "--zk", addr+"/dst", "--timeout", "60s"); err != nil {
		return err
	}
	r.what = "recoverctl restore --zk (verify, plan, multi writes, read-back)"
	rows = append(rows, r)
	restoreZK := r.seconds

	dstDir := filepath.Join(work, "dst")
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return err
	}
	if r, err = timed(bin, "restore", fsArchive, "--fs", dstDir); err != nil {
		return err
	}
	r.what = "recoverctl restore --fs (verify, plan, fsynced files, read-back)"
	rows = append(rows, r)

	if r, err = timed(bin, "verify", zkArchive); err != nil {
		return err
	}
	r.what = "recoverctl verify"
	rows = append(rows, r)

	// Distinct records: the captures once each.
	capArchive, capTar := filepath.Join(work, "captures.rctl.zst"), filepath.Join(work, "captures.tar.gz")
	if _, err := timed(bin, "backup", "--fs", capDir, "--to", capArchive); err != nil {
		return err
	}
	if _, err := timed("tar", "czf", capTar, "-C", work, "captures"); err != nil {
		return err
	}

	// Peak memory at a tenth of the count, same commands.
	var smallRows []row
	smallFS := filepath.Join(work, "small-fs.rctl.zst")
	if r, err = timed(bin, "backup", "--fs", smallDir, "--to", smallFS); err != nil {
		return err
	}
	r.what = "recoverctl backup --fs"
	smallRows = append(smallRows, r)
	if r, err = timed(bin, "restore", smallFS, "--zk", addr+"/small", "--timeout", "60s"); err != nil {
		return err
	}
	r.what = "recoverctl restore --zk"
	smallRows = append(smallRows, r)
	if r, err = timed(bin, "backup", "--zk", addr+"/small", "--to", filepath.Join(work, "small-zk.rctl.zst"), "--timeout", "60s"); err != nil {
		return err
	}
	r.what = "recoverctl backup --zk"
	smallRows = append(smallRows, r)

	zkSize, fsSize, tarSize := size(zkArchive), size(fsArchive), size(tarFile)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%d records built from %d Spark capture records (%s), %.1f MB raw; ZooKeeper %s (zktest, loopback).\n\n",
		n, len(pool), captureGlob, float64(raw)/1e6, benchutil.ServerVersion(addr))
	fmt.Fprintln(w, "| step | seconds | records/s | peak RSS |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, r := range rows {
		rss := "-"
		if r.rssKB > 0 {
			rss = fmt.Sprintf("%.0f MB", float64(r.rssKB)/1024)
		}
		fmt.Fprintf(w, "| %s | %.2f | %.0f | %s |\n", r.what, r.seconds, float64(n)/r.seconds, rss)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| size | bytes | vs raw |")
	fmt.Fprintln(w, "|---|---:|---:|")
	fmt.Fprintf(w, "| raw record bytes | %d | 1.00 |\n", raw)
	fmt.Fprintf(w, "| archive from ZooKeeper | %d | %.3f |\n", zkSize, float64(zkSize)/float64(raw))
	fmt.Fprintf(w, "| archive from the directory | %d | %.3f |\n", fsSize, float64(fsSize)/float64(raw))
	fmt.Fprintf(w, "| tar czf of the directory | %d | %.3f |\n", tarSize, float64(tarSize)/float64(raw))
	capSize, capTarSize := size(capArchive), size(capTar)
	fmt.Fprintf(w, "| %d distinct capture records, raw | %d | 1.00 |\n", len(pool), capRaw)
	fmt.Fprintf(w, "| archive of the distinct records | %d | %.3f |\n", capSize, float64(capSize)/float64(capRaw))
	fmt.Fprintf(w, "| tar czf of the distinct records | %d | %.3f |\n", capTarSize, float64(capTarSize)/float64(capRaw))
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Peak RSS at %d and %d records (the %d are the first of the %d):\n\n", small, n, small, n)
	fmt.Fprintf(w, "| command | peak RSS, %d | peak RSS, %d |\n", small, n)
	fmt.Fprintln(w, "|---|---:|---:|")
	for _, sr := range smallRows {
		var big int64
		for _, r := range rows {
			if strings.HasPrefix(r.what, sr.what) {
				big = r.rssKB
				break
			}
		}
		fmt.Fprintf(w, "| %s | %.0f MB | %.0f MB |\n", sr.what, float64(sr.rssKB)/1024, float64(big)/1024)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The 100,000 records repeat the capture records under new names, so their archives compress far better "+
		"than real state would (zstd's window spans many records, gzip's 32 KiB barely one); the distinct capture records "+
		"give the honest ratio. backup --zk sends two requests per record (getACL while listing: the ACLs are archived; "+
		"getData while reading) where the floor sends one. restore --zk creates optimistically (no exists per record), keeps "+
		"two multis in flight, checks an archive OpenFile verified by size, mtime and footer instead of verifying it again, "+
		"and reads back with getData only, while later batches are written. restore --fs fsyncs each batch's files "+
		"concurrently and the directory once per batch. backup checks its archive while writing it (a second goroutine "+
		"verifies a copy of the bytes written, then the fsynced file's hash is read back) and reads a directory with a "+
		"pool of 16 readers that also hash; the peak RSS that grows with the count is the entry list (names, sizes, "+
		"times, ACLs) a backup takes before it reads a record.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Ratios (rate over floor rate, same run): backup --zk %.2f (target 0.8); restore --zk %.2f (target 0.8); "+
		"backup --fs %.0f records/s (target 50,000); distinct-record archive %.3f of raw (target 0.125), %.2f× tar czf.\n",
		floorReadS/backupZK, floorMultiS/restoreZK, float64(n)/backupFS, float64(capSize)/float64(capRaw), float64(capSize)/float64(capTarSize))
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Bounds from the floors of the same run: reading the ACLs at all (getData and getACL, nothing else) runs at %.2f of the "+
		"getData floor, and backup --zk at %.2f of that; a restore must read back every record it writes, and a bare pipelined "+
		"read of %d records alone takes %.2f s, where 0.8 of the multi floor's rate leaves %.2f s for the whole restore.\n",
		floorReadS/floorACLS, floorACLS/backupZK, n, floorReadS, floorMultiS/0.8)
	return nil
}

func loadZK(ctx context.Context, s *zk.Store, recs []store.Record) error {
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

// floorRead reads every znode under dir with 64 requests in flight: its
// data, and with withACL its ACL too.
func floorRead(conn *gozk.Conn, dir string, want int, withACL bool) error {
	names, _, err := conn.Children(dir)
	if err != nil {
		return err
	}
	if len(names) != want {
		return fmt.Errorf("floor read: %d children, want %d", len(names), want)
	}
	var g errgroup.Group
	g.SetLimit(64)
	for _, name := range names {
		g.Go(func() error {
			if withACL {
				if _, _, err := conn.GetACL(dir + "/" + name); err != nil {
					return err
				}
			}
			_, _, err := conn.Get(dir + "/" + name)
			return err
		})
	}
	return g.Wait()
}

func size(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// timed runs a command (benchutil.Timed) as one row of the table.
func timed(name string, args ...string) (row, error) {
	seconds, rss, err := benchutil.Timed(name, args...)
	return row{seconds: seconds, rssKB: rss}, err
}
