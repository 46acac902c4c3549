package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/livemaster"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/zk"
)

// batchDelayEnv is a test hook: a Go duration slept after every write
// batch, so that tests can kill a restore halfway for real.
const batchDelayEnv = "RECOVERCTL_TEST_BATCH_DELAY"

func newRestoreCommand() *cobra.Command {
	var (
		sf         storeFlags
		dryRun     bool
		overwrite  bool
		force      bool
		master     string
		backupTo   string
		output     string
		batchBytes int
	)
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Write an archive's records back into a store",
		Long: `restore writes the records of an archive into the store named by the store
flags (either kind, whatever kind the archive came from). It:

  1. verifies the whole archive and refuses a damaged one (exit 5);
  2. refuses while a live Master holds the target (exit 6) unless --force:
     ZooKeeper: any Master in Spark's leader election; directory: a Master
     process on this host using it, or one answering at --master;
  3. plans each record: create, identical (skipped), differs (refused unless
     --overwrite, exit 6), overwrite; --dry-run prints the plan and stops;
  4. backs up the target first, unless it holds no records, to a
     timestamped archive in --backup-to (default: the archive's directory);
  5. writes in batches (one ZooKeeper multi each) and reads every record
     back to compare.

Records in the target that the archive does not hold are left alone.
Interrupted restores are resumed by running the same command again:
records already written are identical and skipped.`,
		Example: `  recoverctl restore backup.rctl.zst --zk zk1:2181 --dry-run
  recoverctl restore backup.rctl.zst --fs /var/spark/recovery --master master1:8080`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts := restoreOptions{archive: args[0], dryRun: dryRun, overwrite: overwrite, force: force,
				master: master, backupTo: backupTo, batchBytes: batchBytes}
			if d := os.Getenv(batchDelayEnv); d != "" {
				if opts.batchDelay, err = time.ParseDuration(d); err != nil {
					return usageError{fmt.Errorf("$%s: %w", batchDelayEnv, err)}
				}
			}
			return runRestore(ctx, &sf, opts, format, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	sf.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&dryRun, "dry-run", false, "print the plan and stop; write nothing")
	fl.BoolVar(&overwrite, "overwrite", false, "replace target records whose bytes differ from the archive")
	fl.BoolVar(&force, "force", false, "restore even while a live Master holds the target")
	fl.StringVar(&master, "master", "", "directory targets: also ask the Master at host:port (web UI /json) or spark://host:port (RPC port)")
	fl.StringVar(&backupTo, "backup-to", "", "directory for the backup of the target taken before writing (default: the archive's directory)")
	fl.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	fl.IntVar(&batchBytes, "batch-bytes", 0, "bytes per write batch (default 512 KiB; ZooKeeper is capped below its request limit)")
	_ = fl.MarkHidden("batch-bytes")
	return cmd
}

type restoreOptions struct {
	archive    string
	dryRun     bool
	overwrite  bool
	force      bool
	master     string
	backupTo   string
	batchBytes int
	batchDelay time.Duration
}

// restoreResult is the -o json contract of restore.
type restoreResult struct {
	Archive    string             `json:"archive"`
	Target     string             `json:"target"`
	DryRun     bool               `json:"dry_run"`
	LiveMaster *livemaster.Result `json:"live_master,omitempty"`
	Create     int                `json:"create"`
	Identical  int                `json:"identical"`
	Differs    int                `json:"differs"`
	Overwrite  int                `json:"overwrite"`
	Extra      int                `json:"extra"` // target records the archive does not hold, left alone
	Steps      []restoreStep      `json:"steps"`
	PreBackup  string             `json:"pre_restore_backup,omitempty"`
	Written    int                `json:"written"`
	Batches    int                `json:"batches"`
	Verified   int                `json:"verified"`
	Seconds    float64            `json:"seconds"`
}

type restoreStep struct {
	Name     string `json:"name"`
	Action   string `json:"action"`
	Size     int64  `json:"size"`
	DestSize int64  `json:"dest_size"` // -1: absent
}

func runRestore(ctx context.Context, sf *storeFlags, o restoreOptions, format outputFormat, stdout, stderr io.Writer) error {
	start := time.Now()
	a, err := backup.OpenFile(ctx, o.archive)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer a.Close()
	st, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.close()
	res := restoreResult{Archive: o.archive, Target: st.String(), DryRun: o.dryRun}

	live, err := checkLive(ctx, st, o.master)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if sf.verbose {
		for _, c := range live.Checked {
			fmt.Fprintf(stderr, "recoverctl: checked for a live Master: %s\n", termText(c))
		}
		for _, n := range live.Notes {
			fmt.Fprintf(stderr, "recoverctl: note: %s\n", termText(n))
		}
	}
	if live.Live() {
		res.LiveMaster = &live
	}
	if err := refuseLive(live, st, o.dryRun, o.force, stderr); err != nil {
		return fmt.Errorf("restore refused: %w", err)
	}
	unlock, err := lockForWriting(st, o.dryRun)
	if err != nil {
		return fmt.Errorf("restore into %s refused: %w", st, err)
	}
	defer unlock()

	bar := newProgressBar(stderr)
	plan, err := backup.PlanRestore(ctx, a, st.Store, backup.RestoreOptions{Overwrite: o.overwrite}, bar.report("plan"))
	bar.done()
	if err != nil {
		return err
	}
	res.Create, res.Identical = plan.Count(backup.Create), plan.Count(backup.Skip)
	res.Differs, res.Overwrite, res.Extra = plan.Count(backup.Refuse), plan.Count(backup.Overwrite), plan.Extra
	res.Steps = make([]restoreStep, len(plan.Steps))
	for i, s := range plan.Steps {
		res.Steps[i] = restoreStep{Name: s.Name, Action: s.Action.String(), Size: s.Size, DestSize: s.DestSize}
	}
	if format == outputTable {
		printPlan(stdout, o.archive, st.String(), plan)
	}
	finish := func(err error) error {
		res.Seconds = time.Since(start).Seconds()
		if format != outputTable {
			if werr := writeData(stdout, format, res); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	}
	if o.dryRun {
		if format == outputTable {
			fmt.Fprintln(stdout, "dry run: nothing written")
		}
		return finish(nil)
	}
	if n := len(plan.Refused()); n > 0 {
		return finish(fmt.Errorf("restore into %s refused: %d records exist with different bytes (listed as \"differs\"; --overwrite replaces them): %w",
			st, n, backup.ErrConflict))
	}

	toWrite := res.Create + res.Overwrite
	if toWrite > 0 {
		if res.PreBackup, err = backupTarget(ctx, st, o, stderr); err != nil {
			return finish(err)
		}
		if res.PreBackup != "" && format == outputTable {
			fmt.Fprintf(stdout, "target backed up to %s\n", termText(res.PreBackup))
		}
	}
	batch := o.batchBytes
	if batch <= 0 {
		batch = backup.DefaultBatchBytes
	}
	if st.zk != nil {
		batch = min(batch, zk.MaxBatchBytes*2/3)
	}
	var target backup.Target = st.Store
	if o.batchDelay > 0 {
		target = slowTarget{Target: st.Store, delay: o.batchDelay}
	}
	bar = newProgressBar(stderr)
	ar, err := plan.Apply(ctx, target, batch, bar.report("restore"))
	bar.done()
	res.Written, res.Batches, res.Verified = ar.Written, ar.Batches, ar.Verified
	if err != nil {
		return finish(fmt.Errorf("restore into %s: %w (running the same command again resumes: written records are skipped as identical)", st, err))
	}
	if format == outputTable {
		fmt.Fprintf(stdout, "restored %d records into %s in %d batches; %d records read back identical\n",
			ar.Written, termText(st.String()), ar.Batches, ar.Verified)
	}
	return finish(nil)
}

// checkLive runs the live-Master checks for the target's kind.
func checkLive(ctx context.Context, st *openedStore, master string) (livemaster.Result, error) {
	switch {
	case st.zk != nil:
		if master != "" {
			return livemaster.Result{}, usageError{errors.New("--master is for directory targets; ZooKeeper targets are checked through the leader election")}
		}
		return livemaster.CheckZK(ctx, st.zk)
	case st.fs != nil:
		return livemaster.CheckDir(ctx, st.fs.Dir(), livemaster.DirOptions{Master: master})
	}
	return livemaster.Result{}, nil
}

// backupTarget archives the target's records before they are changed; a
// target with no Spark records needs no backup ("").
func backupTarget(ctx context.Context, st *openedStore, o restoreOptions, stderr io.Writer) (string, error) {
	entries, err := st.Store.List(ctx)
	if err != nil {
		return "", fmt.Errorf("restore: list target: %w", err)
	}
	empty := true
	for _, e := range entries {
		if e.Kind != store.KindForeign {
			empty = false
			break
		}
	}
	if empty {
		return "", nil
	}
	dir := o.backupTo
	if dir == "" {
		dir = filepath.Dir(o.archive)
	}
	info := storeInfo(st)
	info.Time = time.Now()
	path, err := freeArchivePath(dir, info.StoreKind, info.Time)
	if err != nil {
		return "", err
	}
	bar := newProgressBar(stderr)
	_, err = backup.WriteFile(ctx, st.Store, path, info, bar.report("pre-restore backup"))
	bar.done()
	if err != nil {
		return "", fmt.Errorf("restore: back up the target before writing: %w", err)
	}
	return path, nil
}

func printPlan(w io.Writer, archive, target string, plan *backup.Plan) {
	m := plan.Manifest
	fmt.Fprintf(w, "archive %s: %d records from %s %s, created %s\n", termText(archive), m.Records, termText(m.StoreKind), termText(m.Address), m.Created.Format(time.RFC3339))
	fmt.Fprintf(w, "target  %s\n", termText(target))
	for _, s := range plan.Steps {
		label := s.Action.String()
		switch s.Action {
		case backup.Skip:
			label = "identical (skip)"
		case backup.Refuse:
			label = "differs (refused)"
		}
		fmt.Fprintf(w, "  %-18s %s (%d bytes)\n", label, termText(s.Name), s.Size)
	}
	fmt.Fprintf(w, "plan: %d create, %d identical, %d differ (refused), %d overwrite; %d target records not in the archive are left alone\n",
		plan.Count(backup.Create), plan.Count(backup.Skip), plan.Count(backup.Refuse), plan.Count(backup.Overwrite), plan.Extra)
}

// slowTarget sleeps after each batch: the batchDelayEnv test hook.
type slowTarget struct {
	backup.Target
	delay time.Duration
}

func (s slowTarget) WriteBatch(ctx context.Context, recs []store.Record) error {
	if err := s.Target.WriteBatch(ctx, recs); err != nil {
		return err
	}
	select {
	case <-time.After(s.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
