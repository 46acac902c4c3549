// Command migratebench measures `recoverctl migrate` from a FILESYSTEM
// recovery directory into a real ZooKeeper (started with internal/zktest),
// next to what other loaders reach in the same run on the same records:
// one create per round trip (what Spark's ZooKeeperPersistenceEngine does,
// one Curator create per record) and a bare go-zookeeper multi loader in
// batches of about 512 KiB. It also times migrate's phases in-process
// (plan, backup, write, read-back) to explain the ratio, and the peak RSS
// of the binary at two sizes. It is run by bench/migrate.sh, which builds
// the recoverctl binary it times.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/bench/internal/benchutil"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/zk"
)

type quiet struct{}

func (quiet) Printf(string, ...any) {}

func main() {
	var (
		bin      = flag.String("bin", "", "recoverctl binary to time")
		n        = flag.Int("n", 100_000, "records")
		small    = flag.Int("small", 10_000, "records of the second size for peak RSS")
		captures = flag.String("captures", "testdata/spark/*/*/records", "glob of capture record directories")
		work     = flag.String("work", "", "scratch directory (default: a new temporary one, removed after)")
	)
	flag.Parse()
	if err := run(*bin, *n, *small, *captures, *work); err != nil {
		fmt.Fprintln(os.Stderr, "migratebench:", err)
		os.Exit(1)
	}
}

type row struct {
	what    string
	records int
	seconds float64
	rssKB   int64 // 0: not measured
	note    string
}

func (r row) rate() float64 { return float64(r.records) / r.seconds }

func run(bin string, n, small int, captureGlob, work string) error {
	if bin == "" {
		return fmt.Errorf("-bin is required")
	}
	ctx := context.Background()
	if work == "" {
		d, err := os.MkdirTemp("", "migratebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	pool, err := benchutil.LoadCaptures(captureGlob, true)
	if err != nil {
		return err
	}
	bigDir, raw, err := writeDir(filepath.Join(work, "big"), pool, n)
	if err != nil {
		return err
	}
	smallDir, _, err := writeDir(filepath.Join(work, "small"), pool, small)
	if err != nil {
		return err
	}
	logf("%d records, %.1f MB raw, from %d capture records", n, float64(raw)/1e6, len(pool))

	srv, err := zktest.StartServer(filepath.Join(work, "zk"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	addr := srv.Addr()
	conn, _, err := gozk.Connect([]string{addr}, 30*time.Second, gozk.WithLogger(quiet{}), gozk.WithLogInfo(false),
		gozk.WithMaxBufferSize(64<<20))
	if err != nil {
		return err
	}
	defer conn.Close()

	// Every loader writes into its own empty chroot, removed afterwards so
	// that each one meets a server holding the same amount of data.
	var rows []row
	clean := func(root string) error {
		t0 := time.Now()
		err := benchutil.DeleteTree(conn, root)
		logf("removed %s in %s", root, time.Since(t0).Round(time.Millisecond))
		return err
	}

	// Warm-up: the server's JIT and the page cache, not measured.
	if _, err := bareMulti(conn, "/warm", smallDir); err != nil {
		return err
	}
	if err := clean("/warm"); err != nil {
		return err
	}

	t0 := time.Now()
	if err := oneByOne(conn, "/one", bigDir); err != nil {
		return err
	}
	one := row{what: "one create per round trip (Spark's engine: a Curator create per record)", records: n, seconds: time.Since(t0).Seconds(),
		note: "reads each file, then one create"}
	rows = append(rows, one)
	logf("one by one: %.2f s", one.seconds)
	if err := clean("/one"); err != nil {
		return err
	}

	t0 = time.Now()
	batches, err := bareMulti(conn, "/bare", bigDir)
	if err != nil {
		return err
	}
	bare := row{what: "bare go-zookeeper multi loader, 512 KiB batches", records: n, seconds: time.Since(t0).Seconds(),
		note: fmt.Sprintf("%d multis, one at a time; no backup, no read-back", batches)}
	rows = append(rows, bare)
	logf("bare multi: %.2f s", bare.seconds)
	if err := clean("/bare"); err != nil {
		return err
	}

	mig, err := timed(bin, "migrate", "--from", "fs://"+bigDir, "--to", "zk://"+addr+"/mig?dir=/spark", "--yes",
		"--backup-dir", work, "--timeout", "60s")
	if err != nil {
		return err
	}
	mig.what, mig.records, mig.note = "recoverctl migrate --yes (plan, backup, write, read-back)", n, "the binary, as an operator runs it"
	rows = append(rows, mig)
	logf("migrate: %.2f s, %d KB", mig.seconds, mig.rssKB)
	if err := clean("/mig"); err != nil {
		return err
	}

	migSmall, err := timed(bin, "migrate", "--from", "fs://"+smallDir, "--to", "zk://"+addr+"/migsmall?dir=/spark", "--yes",
		"--backup-dir", work, "--timeout", "60s")
	if err != nil {
		return err
	}
	migSmall.what, migSmall.records, migSmall.note = "recoverctl migrate --yes", small, "for memory growth"
	rows = append(rows, migSmall)
	if err := clean("/migsmall"); err != nil {
		return err
	}

	phases, err := phased(ctx, addr+"/phase", bigDir, work)
	if err != nil {
		return err
	}
	if err := clean("/phase"); err != nil {
		return err
	}

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%d records built from the %d uncompressed Spark capture records (%s), %.1f MB raw, in one directory; "+
		"ZooKeeper %s (zktest, loopback, forceSync=no), every loader into an empty chroot.\n\n",
		n, len(pool), captureGlob, float64(raw)/1e6, benchutil.ServerVersion(addr))
	fmt.Fprintln(w, "| loader | records | seconds | records/s | peak RSS | note |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
	for _, r := range rows {
		rss := "-"
		if r.rssKB > 0 {
			rss = fmt.Sprintf("%.0f MiB", float64(r.rssKB)/1024)
		}
		fmt.Fprintf(w, "| %s | %d | %.2f | %.0f | %s | %s |\n", r.what, r.records, r.seconds, r.rate(), rss, r.note)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Phases of the same migration run in-process (migrate.PlanMigration and Plan.Apply on the same stores, %d records):\n\n", n)
	fmt.Fprintln(w, "| phase | seconds | share |")
	fmt.Fprintln(w, "|---|---:|---:|")
	total := 0.0
	for _, p := range phases {
		total += p.seconds
	}
	for _, p := range phases {
		fmt.Fprintf(w, "| %s | %.2f | %.0f%% |\n", p.what, p.seconds, 100*p.seconds/total)
	}
	fmt.Fprintf(w, "| total | %.2f | |\n", total)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Ratios: migrate / one-by-one = %.1f (target >= 5); migrate / bare multi loader = %.2f (target >= 0.8); "+
		"peak RSS %.0f MiB at %d records, %.0f MiB at %d (%.2f×).\n",
		mig.rate()/one.rate(), mig.rate()/bare.rate(),
		float64(migSmall.rssKB)/1024, small, float64(mig.rssKB)/1024, n, float64(mig.rssKB)/float64(migSmall.rssKB))
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "migratebench: "+format+"\n", args...)
}

// writeDir fills dir with n records: each capture record's bytes under a
// new name of its kind.
func writeDir(dir string, pool []store.Record, n int) (string, int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	var raw int64
	for i := range n {
		src := pool[i%len(pool)]
		kind, _ := store.ParseName(src.Name)
		name := fmt.Sprintf("%s_%s-20261128043000-%06d", kind, kind, i)
		if err := os.WriteFile(filepath.Join(dir, name), src.Data, 0o644); err != nil {
			return "", 0, err
		}
		raw += int64(len(src.Data))
	}
	return dir, raw, nil
}

func sortedFiles(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(des))
	for _, de := range des {
		names = append(names, de.Name())
	}
	slices.Sort(names)
	return names, nil
}

// oneByOne copies the directory with one synchronous create per record,
// as Spark's ZooKeeperPersistenceEngine persists each object.
func oneByOne(conn *gozk.Conn, root, dir string) error {
	p := root + "/spark/master_status"
	if err := benchutil.Mkdirs(conn, p); err != nil {
		return err
	}
	names, err := sortedFiles(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if _, err := conn.Create(p+"/"+name, b, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
	}
	return nil
}

// bareMulti copies the directory in multi creates of about 512 KiB, one
// multi at a time, reading the files as it goes: the floor a loader with
// no plan, backup or read-back reaches.
func bareMulti(conn *gozk.Conn, root, dir string) (int, error) {
	p := root + "/spark/master_status"
	if err := benchutil.Mkdirs(conn, p); err != nil {
		return 0, err
	}
	names, err := sortedFiles(dir)
	if err != nil {
		return 0, err
	}
	var ops []any
	cost, batches := 0, 0
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		batches++
		_, err := conn.Multi(ops...)
		ops, cost = nil, 0
		return err
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 0, err
		}
		c := len(b) + len(p) + len(name) + 256
		if cost+c > 512<<10 && len(ops) > 0 {
			if err := flush(); err != nil {
				return 0, err
			}
		}
		ops = append(ops, &gozk.CreateRequest{Path: p + "/" + name, Data: b, Acl: gozk.WorldACL(gozk.PermAll)})
		cost += c
	}
	return batches, flush()
}

// phased runs the migration in-process with the same stores the command
// opens and times each phase from migrate's progress events.
func phased(ctx context.Context, zkAddr, dir, work string) ([]row, error) {
	src, err := fs.Open(dir)
	if err != nil {
		return nil, err
	}
	dst, err := zk.Open(ctx, zk.Options{Servers: zkAddr, SparkDir: "/spark", RequestTimeout: time.Minute})
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	t0 := time.Now()
	p, msrc, err := migrate.Plan(ctx, src, dst, migrate.Options{}, nil)
	if err != nil {
		return nil, err
	}
	tPlan := time.Now()
	var tBackup, tWrite time.Time
	res, err := plan.Apply(ctx, p, dst, msrc, plan.Options{
		ArchivePath: filepath.Join(work, "phase.rctl.zst"),
		ArchiveInfo: backup.Info{StoreKind: "zk", Address: dst.String(), Dir: "/spark", Time: time.Now()},
		Progress: func(e plan.Event) {
			switch e.Phase {
			case plan.PhaseWrite:
				if tBackup.IsZero() {
					tBackup = time.Now()
				}
				tWrite = time.Now()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	tEnd := time.Now()
	logf("phased: %d written in %d batches, %d verified", res.Written, res.Batches, res.Verified)
	return []row{
		{what: "plan: list both stores, read and hash every source file", seconds: tPlan.Sub(t0).Seconds()},
		{what: "backup of the empty target, up to the first batch written", seconds: tBackup.Sub(tPlan).Seconds()},
		{what: "write: read the source again, convert, check the hash, multi batches; written records are read back meanwhile", seconds: tWrite.Sub(tBackup).Seconds()},
		{what: "read-back left after the last batch", seconds: tEnd.Sub(tWrite).Seconds()},
	}, nil
}

// timed runs a command (benchutil.Timed) as one row of the table.
func timed(name string, args ...string) (row, error) {
	seconds, rss, err := benchutil.Timed(name, args...)
	return row{seconds: seconds, rssKB: rss}, err
}
