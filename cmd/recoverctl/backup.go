package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/backup"
)

func newBackupCommand() *cobra.Command {
	var (
		sf          storeFlags
		to          string
		keep        int
		output      string
		metricsFile string
		skip        bool
	)
	cmd := &cobra.Command{
		Use:   "backup --to FILE|DIR",
		Short: "Write a verified archive of a store's records",
		Long: `backup copies every Spark record of a store (named like ls names it) into one
archive: zstd-compressed tar with a SHA-256 per record and over the whole
file (see backup/FORMAT.md). The archive is written under a temporary name
(mode 0600), read back and verified, then linked into place.

--to DIR writes recoverctl-<fs|zk|rocksdb>-<UTC time>.rctl.zst inside DIR (with -1,
-2, ... before .rctl.zst when that name is taken; an existing file is never
replaced). --keep N then keeps the newest N archives of this store there,
this run's always among them: only files that verify as archives of the
same store count, ranked by the creation time in their manifest; files
named like archives that do not verify are reported and left alone.
--metrics-file writes a Prometheus textfile for node_exporter after a success.`,
		Example: `  recoverctl backup --zk zk1:2181 --to /var/backups/spark --keep 48 --metrics-file /var/lib/node_exporter/recoverctl.prom
  recoverctl backup --fs /var/spark/recovery --to /tmp/before-upgrade.rctl.zst -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			if to == "" {
				return usageError{errors.New("--to FILE or --to DIR is required")}
			}
			if keep < 0 {
				return usageError{fmt.Errorf("--keep %d: must be at least 1 (or 0: keep everything)", keep)}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			st, err := sf.open(ctx, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer st.close()
			res, err := runBackup(ctx, st, to, keep, metricsFile, skip, newProgressBar(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			if format != outputTable {
				return writeData(cmd.OutOrStdout(), format, res)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: %d records, %s in, %s archive, %.2fs\n", termText(res.Archive), res.Records,
				humanBytes(res.BytesIn), humanBytes(res.BytesOut), res.Seconds)
			for _, n := range res.Foreign {
				fmt.Fprintf(w, "not archived (not a Spark record): %s\n", termText(n))
			}
			for _, sk := range res.Skipped {
				fmt.Fprintf(w, "not archived (cannot be read, --skip-unreadable): %s: %s\n", termText(sk.Name), termText(sk.Reason))
			}
			for _, n := range res.Vanished {
				fmt.Fprintf(w, "not archived (deleted while the backup ran): %s\n", termText(n))
			}
			if res.Rotation == nil {
				return nil
			}
			for _, r := range res.Rotation.Removed {
				fmt.Fprintf(w, "removed old archive %s (created %s)\n", termText(r.Path), r.Created.Format(time.RFC3339))
			}
			for _, sk := range res.Rotation.Skipped {
				fmt.Fprintf(w, "left alone by --keep (not an intact archive of this store): %s: %s\n", termText(sk.Path), termText(sk.Reason))
			}
			if n := res.Rotation.Other; n > 0 {
				fmt.Fprintf(w, "left alone by --keep: %d archives of other stores\n", n)
			}
			return nil
		},
	}
	sf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&to, "to", "", "archive file to write, or an existing directory (or one ending in /) to write a timestamped archive into")
	fl.IntVar(&keep, "keep", 0, "after a successful backup, keep only the newest N archives of this store kind in the archive's directory (0: keep all)")
	fl.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	fl.StringVar(&metricsFile, "metrics-file", "", "write a Prometheus textfile (node_exporter textfile collector) here after a success")
	fl.BoolVar(&skip, "skip-unreadable", false, "leave out records that cannot be read (named, with the reason, in the summary and the archive's manifest) instead of failing")
	return cmd
}

// backupResult is the -o json contract of backup.
type backupResult struct {
	Archive  string   `json:"archive"`
	Store    string   `json:"store"`
	Records  int      `json:"records"`
	BytesIn  int64    `json:"bytes_in"`  // record bytes read from the store
	BytesOut int64    `json:"bytes_out"` // archive size
	Seconds  float64  `json:"seconds"`
	SHA256   string   `json:"sha256"`
	Foreign  []string `json:"foreign,omitempty"`
	Vanished []string `json:"vanished,omitempty"`
	// Skipped are records that could not be read, left out
	// (--skip-unreadable).
	Skipped []backup.Skipped `json:"skipped,omitempty"`
	// Rotated are the archives --keep removed; Rotation says what it
	// kept, removed and left alone, and why.
	Rotated  []string         `json:"rotated,omitempty"`
	Rotation *backup.Rotation `json:"rotation,omitempty"`
}

func runBackup(ctx context.Context, st *openedStore, to string, keep int, metricsFile string, skip bool, bar *progressBar) (backupResult, error) {
	info := storeInfo(st)
	info.Time = time.Now()
	info.SkipUnreadable = skip
	isDir, err := archiveDir(to)
	if err != nil {
		return backupResult{}, err
	}
	var sum backup.Summary
	path := to
	if isDir {
		path, sum, err = backup.WriteDir(ctx, st.Reader, to, info, bar.report("backup"))
	} else {
		sum, err = backup.WriteFile(ctx, st.Reader, to, info, bar.report("backup"))
	}
	bar.done()
	if err != nil {
		return backupResult{}, fmt.Errorf("backup %s to %s: %w", st, to, err)
	}
	res := backupResult{
		Archive: path, Store: st.String(), Records: sum.Records, BytesIn: sum.Bytes, BytesOut: sum.ArchiveBytes,
		Seconds: sum.Duration.Seconds(), SHA256: fmt.Sprintf("%x", sum.SHA256), Foreign: sum.Foreign, Vanished: sum.Vanished,
		Skipped: sum.Skipped,
	}
	if keep > 0 {
		rot, err := backup.Rotate(ctx, filepath.Dir(path), backup.RotateOptions{Keep: keep, Current: path,
			StoreKind: info.StoreKind, Address: info.Address, Dir: info.Dir})
		res.Rotation = &rot
		for _, r := range rot.Removed {
			res.Rotated = append(res.Rotated, r.Path)
		}
		if err != nil {
			return res, fmt.Errorf("backup written to %s, but: %w", path, err)
		}
	}
	if metricsFile != "" {
		if err := backup.WriteMetrics(metricsFile, info, sum, time.Now()); err != nil {
			return res, fmt.Errorf("backup written to %s, but: %w", path, err)
		}
	}
	return res, nil
}

// storeInfo describes an opened store for an archive's manifest.
func storeInfo(st *openedStore) backup.Info {
	info := backup.Info{Address: st.String(), Version: buildVersion(), Settings: map[string]string{}}
	switch {
	case st.zk != nil:
		info.StoreKind = "zk"
		info.Dir = strings.TrimSuffix(st.zk.Path(), "/master_status")
		info.Settings["spark.deploy.recoveryMode"] = "ZOOKEEPER"
		info.Settings["spark.deploy.zookeeper.dir"] = info.Dir
	case st.fs != nil:
		info.StoreKind = "fs"
		info.Dir = st.fs.Dir()
		info.Settings["spark.deploy.recoveryMode"] = "FILESYSTEM"
		info.Settings["spark.deploy.recoveryDirectory"] = info.Dir
		if st.codec != "" {
			info.Settings["spark.deploy.recoveryCompressionCodec"] = st.codec
		}
	case st.rdb != nil, st.rdbTarget != nil:
		info.StoreKind = "rocksdb"
		if st.rdb != nil {
			info.Dir = st.rdb.Info().Dir
		} else {
			info.Dir = st.rdbTarget.Dir()
		}
		info.Settings["spark.deploy.recoveryMode"] = "ROCKSDB"
		info.Settings["spark.deploy.recoveryDirectory"] = info.Dir
	}
	return info
}

// archiveDir says whether --to names a directory (an existing one, or a
// path ending in a separator, which is created) to write a named archive
// into.
func archiveDir(to string) (bool, error) {
	isDir := strings.HasSuffix(to, string(filepath.Separator))
	if fi, err := os.Stat(to); err == nil && fi.IsDir() {
		isDir = true
	}
	if !isDir {
		return false, nil
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		return false, fmt.Errorf("backup: %w", err)
	}
	return true, nil
}

// freeArchivePath proposes a name for an archive of t in dir
// (backup.FreeArchivePath): a taken name gets -1, -2, ... before the
// suffix, never another time. backup.WriteFile claims the name with a hard
// link, so a file that takes it meanwhile makes the write fail and is never
// replaced.
func freeArchivePath(dir, kind string, t time.Time) (string, error) {
	return backup.FreeArchivePath(dir, kind, t)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// progressBar draws one self-overwriting line on stderr when, and only
// when, stderr is a terminal; on a pipe or file it is silent, so logs and
// cron mails stay clean. The packages hand it events; it never blocks them
// for long (redraws at most ten times a second).
type progressBar struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
	drew bool
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	return &progressBar{w: w}
}

// report returns the callback for one phase; a nil bar gives nil, which the
// packages accept.
func (b *progressBar) report(label string) backup.Progress {
	if b == nil {
		return nil
	}
	return func(e backup.Event) {
		b.mu.Lock()
		defer b.mu.Unlock()
		now := time.Now()
		if now.Sub(b.last) < 100*time.Millisecond && (e.Total == 0 || e.Done < e.Total) {
			return
		}
		b.last = now
		const width = 30
		line := fmt.Sprintf("%-9s %s", string(e.Phase), label)
		if e.Total > 0 {
			filled := width * e.Done / e.Total
			line = fmt.Sprintf("%-9s [%s%s] %d/%d", e.Phase, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), e.Done, e.Total)
		} else {
			line += fmt.Sprintf(" %d", e.Done)
		}
		if e.Bytes > 0 {
			line += " " + humanBytes(e.Bytes)
		}
		fmt.Fprintf(b.w, "\r\x1b[K%s", line)
		b.drew = true
	}
}

// done ends the bar's line.
func (b *progressBar) done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drew {
		fmt.Fprint(b.w, "\r\x1b[K")
		b.drew = false
	}
}
