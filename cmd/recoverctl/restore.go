package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/livemaster"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/plan"
)

func newRestoreCommand() *cobra.Command {
	var (
		sf       storeFlags
		w        writeFlags
		output   string
		backupTo string
		maxBytes int64
	)
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Write an archive's records back into a store",
		Long: `restore writes the records of an archive into the store named by the store
flags (either kind, whatever kind the archive came from): a migration whose
source is the archive. It:

  1. verifies the whole archive and refuses a damaged one (exit 5);
  2. refuses while a live Master holds the target (exit 6) unless --force:
     ZooKeeper: any Master in Spark's leader election; directory: a Master
     process on this host using it, or one answering at --master; and
     while another recoverctl writes to it (exit 6, whatever --force);
  3. plans each record: create, identical (skipped), differs (refused unless
     --overwrite, exit 6), overwrite, too large; --dry-run prints the plan
     and stops;
  4. asks (on a terminal; --yes otherwise), then archives the target into
     --backup-dir before the first write;
  5. writes in batches (one ZooKeeper multi each; a create never
     overwrites) and reads every record back to compare.

Records in the target that the archive does not hold are left alone.
Interrupted restores are resumed by running the same command again:
records already written are identical and skipped.`,
		Example: `  recoverctl restore backup.rctl.zst --zk zk1:2181 --dry-run
  recoverctl restore backup.rctl.zst --fs /var/spark/recovery --master master1:8080 --yes`,
		Args: exactArgs(1, "restore needs the archive to restore: recoverctl restore FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			if backupTo != "" && w.backupDir == "" {
				w.backupDir = backupTo
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runRestore(ctx, &sf, &w, args[0], maxBytes, format, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	sf.register(cmd)
	w.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&backupTo, "backup-to", "", "the same as --backup-dir (its name before all writers shared the flag)")
	_ = fl.MarkHidden("backup-to")
	fl.Int64Var(&maxBytes, "max-bytes", migrate.DefaultMaxRestoreBytes, "refuse an archive whose records add up to more bytes than this (a hostile archive can expand a thousandfold)")
	fl.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
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
	TooLarge   int                `json:"too_large"`
	Extra      int                `json:"extra"` // target records the archive does not hold, left alone
	Steps      []plan.Step        `json:"steps"`
	PreBackup  string             `json:"pre_restore_backup,omitempty"`
	Written    int                `json:"written"`
	Batches    int                `json:"batches"`
	Verified   int                `json:"verified"`
	Seconds    float64            `json:"seconds"`
}

func runRestore(ctx context.Context, sf *storeFlags, w *writeFlags, archive string, maxBytes int64, format outputFormat, stdin io.Reader, stdout, stderr io.Writer) error {
	start := time.Now()
	a, err := backup.OpenFile(ctx, archive)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer a.Close()
	st, err := sf.openTarget(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.close()
	res := restoreResult{Archive: archive, Target: st.String(), DryRun: w.dryRun}
	c := &change{
		target: st, guarded: []*openedStore{st}, holder: "recoverctl restore " + archive, verb: "Restore",
		plan: func(ctx context.Context, progress plan.Progress) (*plan.Plan, plan.Source, error) {
			p, src, err := migrate.PlanRestore(ctx, a, st.Store, migrate.RestoreOptions{Overwrite: w.overwrite, MaxBytes: maxBytes}, progress)
			if err != nil {
				return nil, nil, err
			}
			return p, src, nil
		},
		show: func(p *plan.Plan) {
			res.Create, res.Identical, res.Differs = p.Count(plan.Create), p.Count(plan.Identical), p.Count(plan.Differs)
			res.Overwrite, res.TooLarge, res.Extra, res.Steps = p.Count(plan.Overwrite), p.Count(plan.TooLarge), p.Extra, p.Steps
			if format == outputTable {
				m := a.Manifest()
				fmt.Fprintf(stdout, "archive %s: %d records from %s (%s), created %s\n", termText(archive), m.Records, termText(m.Address), termText(m.StoreKind), m.Created.Format(time.RFC3339))
				fmt.Fprintf(stdout, "target  %s\n", termText(st.String()))
				printSteps(stdout, p)
				if w.dryRun {
					fmt.Fprintln(stdout, "dry run: nothing written")
				}
			}
		},
	}
	p, r, err := w.run(ctx, c, sf.verbose, stdin, stderr)
	if len(c.live) > 0 {
		res.LiveMaster = &c.live[0]
	}
	res.PreBackup, res.Written, res.Batches, res.Verified = r.Backup, r.Written, r.Batches, r.Verified
	res.Seconds = time.Since(start).Seconds()
	if err == nil && p != nil && !w.dryRun && format == outputTable {
		if r.Backup != "" {
			fmt.Fprintf(stdout, "target backed up to %s\n", termText(r.Backup))
		}
		fmt.Fprintf(stdout, "restored %d records into %s in %d batches; %d records read back identical\n",
			r.Written, termText(st.String()), r.Batches, r.Verified)
	}
	if p != nil && format != outputTable {
		if werr := writeData(stdout, format, res); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return fmt.Errorf("restore into %s: %w", st, err)
	}
	return nil
}
