package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/audit"
	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/codec/classes"
	"github.com/recoverctl/recoverctl/livemaster"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
)

// writeFlags are the flags of every command that changes a store
// (restore, migrate, prune): each means the same thing in all of them.
type writeFlags struct {
	dryRun, yes, force, overwrite bool
	backupDir, master             string
	targetSpark                   string // --target-spark: the release whose Master will read what is written
	retries, batchBytes           int
	stdinTerminal                 *bool // tests: overrides the terminal check
}

// register adds the flags; overwrite is only for commands that write
// records (prune only deletes).
func (w *writeFlags) register(cmd *cobra.Command, overwrite bool) {
	fl := cmd.Flags()
	fl.BoolVar(&w.dryRun, "dry-run", false, "print the plan and stop; change nothing")
	fl.BoolVar(&w.yes, "yes", false, "do not ask for confirmation (required when stdin is not a terminal)")
	if overwrite {
		fl.BoolVar(&w.force, "force", false, "change the store even while a live Master holds it, or when --target-spark predicts its Master drops or fails on records (never overrides another recoverctl's lock)")
		fl.BoolVar(&w.overwrite, "overwrite", false, "replace target records that differ")
		fl.StringVar(&w.targetSpark, "target-spark", "", "refuse (exit 7) to write records a Master of this Spark release (X.Y.Z[-scala], as audit takes it) would delete, quarantine or stop on, unless --force")
	} else {
		fl.BoolVar(&w.force, "force", false, "change the store even while a live Master holds it (never overrides another recoverctl's lock)")
	}
	fl.StringVar(&w.backupDir, "backup-dir", "", "directory for the archive of the target taken before the first change (default "+defaultBackupDirHelp+")")
	fl.StringVar(&w.master, "master", "", "a directory store's Master to ask too: host:port (web UI /json), http://..., or spark://host:port")
	fl.IntVar(&w.retries, "retries", 5, "retry a batch this often while the store is unavailable (ZooKeeper restarting)")
	fl.IntVar(&w.batchBytes, "batch-bytes", 0, "bytes per write batch (default: as much as the store takes in one request)")
	_ = fl.MarkHidden("batch-bytes")
}

const defaultBackupDirHelp = "$XDG_STATE_HOME/recoverctl/backups, else ~/.local/state/recoverctl/backups"

// backupDirectory is --backup-dir, or the state directory every writer
// archives into by default (mode 0700: archives hold every record).
func (w *writeFlags) backupDirectory() (string, error) {
	if w.backupDir != "" {
		return w.backupDir, nil
	}
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no --backup-dir and no home directory for the default: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "recoverctl", "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup directory %s: %w", dir, err)
	}
	return dir, nil
}

// change is what a writing command hands the engine besides its plan.
type change struct {
	target  *openedStore
	guarded []*openedStore // stores a live Master must not hold (the target, and a migration's source)
	holder  string         // names the run in the writer lock
	verb    string         // "write 4 records into", for the prompt
	plan    func(ctx context.Context, progress plan.Progress) (*plan.Plan, plan.Source, error)
	show    func(*plan.Plan)
	delay   time.Duration
	live    []livemaster.Result // filled by the guard
	archive string              // the archive path, once chosen
}

// run is the one guard, lock, plan, show, confirm, archive, apply and
// read-back sequence of every command that changes a store.
// batchDelayEnv is a test hook: a Go duration slept after every write
// batch, so that tests can kill a writer halfway for real.
const batchDelayEnv = "RECOVERCTL_TEST_BATCH_DELAY"

func (w *writeFlags) run(ctx context.Context, c *change, verbose bool, stdin io.Reader, stderr io.Writer) (*plan.Plan, plan.Result, error) {
	if d := os.Getenv(batchDelayEnv); d != "" {
		delay, err := time.ParseDuration(d)
		if err != nil {
			return nil, plan.Result{}, usageError{fmt.Errorf("$%s: %w", batchDelayEnv, err)}
		}
		c.delay = delay
	}
	var target *classes.Table
	if w.targetSpark != "" {
		t, note, err := classes.TableFor(w.targetSpark)
		if err != nil {
			return nil, plan.Result{}, usageError{fmt.Errorf("--target-spark: %w", err)}
		}
		if note != "" {
			fmt.Fprintln(stderr, "recoverctl:", termText(note))
		}
		target = t
	}
	var planned plan.Source
	bar := newProgressBar(stderr)
	defer bar.done()
	opts := plan.Options{Overwrite: w.overwrite, Retries: w.retries, BatchBytes: w.batchBytes, RetryWait: time.Second, BatchDelay: c.delay, Progress: engineProgress(bar)}
	r := &plan.Run{
		Target: c.target.Store,
		Holder: c.holder,
		DryRun: w.dryRun,
		Guard: func(ctx context.Context) error {
			for _, st := range c.guarded {
				master := ""
				if st.fs != nil || st.rdb != nil {
					master = w.master
				}
				live, err := checkLive(ctx, st, master)
				if err != nil {
					return err
				}
				if verbose {
					for _, n := range live.Checked {
						fmt.Fprintf(stderr, "recoverctl: checked for a live Master: %s\n", termText(n))
					}
				}
				if !live.Live() {
					continue
				}
				c.live = append(c.live, live)
				switch {
				case w.dryRun:
					fmt.Fprintf(stderr, "recoverctl: warning: %s: %s (without --dry-run this would be refused unless --force)\n", termText(st.String()), termText(live.Err().Error()))
				case w.force:
					fmt.Fprintf(stderr, "recoverctl: warning: --force: changing %s although %s\n", termText(st.String()), termText(live.Err().Error()))
				default:
					return fmt.Errorf("%s refused: %s: %w (stop the Masters first, or pass --force)", c.holder, st, live.Err())
				}
			}
			return nil
		},
		Plan: func(ctx context.Context) (*plan.Plan, plan.Source, error) {
			p, src, err := c.plan(ctx, opts.Progress)
			bar.done()
			if err == nil && target != nil && w.dryRun {
				// A dry run shows what a real run would refuse, and goes on.
				if err := checkTarget(ctx, target, c.target, p, src, true, stderr); err != nil {
					return nil, nil, err
				}
			}
			planned = src
			return p, src, err
		},
		Show:    c.show,
		Options: opts,
	}
	r.Confirm = func(p *plan.Plan) error {
		if target != nil {
			if err := checkTarget(ctx, target, c.target, p, planned, w.force, stderr); err != nil {
				return err
			}
		}
		dir, err := w.backupDirectory()
		if err != nil {
			return err
		}
		info := storeInfo(c.target)
		info.Time = time.Now()
		path, err := freeArchivePath(dir, info.StoreKind, info.Time)
		if err != nil {
			return err
		}
		r.Options.ArchivePath, r.Options.ArchiveInfo, c.archive = path, info, path
		prompt := fmt.Sprintf("%s %s %s (what it holds archived first to %s)?", c.verb, changeCount(p), c.target, path)
		return confirm(w.yes, w.stdinTerminal, prompt, stdin, stderr)
	}
	if fs := c.target.fs; fs != nil && fs.Missing() {
		verb := "is created, parents included, as Spark's engine creates it"
		if w.dryRun {
			verb = "would be created, parents included, as Spark's engine creates it"
		}
		fmt.Fprintf(stderr, "recoverctl: %s does not exist: it %s\n", termText(fs.Dir()), verb)
	}
	p, res, err := r.Do(ctx)
	if fs := c.target.fs; fs != nil {
		if fs.Created() {
			fmt.Fprintf(stderr, "recoverctl: created %s\n", termText(fs.Dir()))
		}
		if left := fs.Leftovers(); len(left) > 0 {
			fmt.Fprintf(stderr, "recoverctl: removed %d temporary files that a killed recoverctl left in %s: %s\n",
				len(left), termText(fs.Dir()), termText(strings.Join(left, ", ")))
		}
	}
	return p, res, err
}

func changeCount(p *plan.Plan) string {
	if n := p.Count(plan.Delete); n > 0 && n == p.Writes() {
		return fmt.Sprintf("%d entries from", n)
	}
	return fmt.Sprintf("%d records into", p.Writes())
}

// engineProgress turns the engine's events into the progress bar's.
func engineProgress(bar *progressBar) plan.Progress {
	report := bar.report("")
	if report == nil {
		return nil
	}
	return func(e plan.Event) {
		report(backup.Event{Phase: backup.Phase(e.Phase), Record: e.Record, Done: e.Done, Total: e.Total, Bytes: e.Bytes})
	}
}

// confirm asks on a terminal; elsewhere it needs --yes, so that a script
// never deletes or writes because of what happened to be on its stdin.
func confirm(yes bool, terminal *bool, prompt string, stdin io.Reader, stderr io.Writer) error {
	if yes {
		return nil
	}
	isTerm := false
	if terminal != nil {
		isTerm = *terminal
	} else if f, ok := stdin.(*os.File); ok {
		isTerm = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	if !isTerm {
		return usageError{errors.New("stdin is not a terminal: pass --yes to confirm (or --dry-run to only see the plan)")}
	}
	fmt.Fprintf(stderr, "%s [y/N] ", prompt)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return plan.ErrNotConfirmed
}

// checkLive runs the live-Master checks for the store's kind.
func checkLive(ctx context.Context, st *openedStore, master string) (livemaster.Result, error) {
	switch {
	case st.zk != nil:
		if master != "" {
			return livemaster.Result{}, usageError{errors.New("--master is for directory stores; ZooKeeper stores are checked through the leader election")}
		}
		return livemaster.CheckZK(ctx, st.zk)
	case st.fs != nil:
		return livemaster.CheckDir(ctx, st.fs.Dir(), livemaster.DirOptions{Master: master})
	case st.rdb != nil:
		return checkLiveRocksDB(ctx, st.rdb, master)
	case st.rdbTarget != nil:
		// Its Lock refuses while a RocksDB holds the database's LOCK.
		return livemaster.CheckDir(ctx, st.rdbTarget.Dir(), livemaster.DirOptions{Master: master})
	}
	return livemaster.Result{}, nil
}

// printSteps prints a plan's steps and its summary line for people.
func printSteps(w io.Writer, p *plan.Plan) {
	for _, s := range p.Steps {
		label := s.Action.String()
		switch s.Action {
		case plan.Identical:
			label = "identical (skip)"
		case plan.Differs:
			label = "differs (refused)"
		}
		line := fmt.Sprintf("  %-18s %s (%d bytes", label, termText(s.Name), s.Size)
		if s.Conversion != "" {
			line += fmt.Sprintf(", %s: %d bytes", s.Conversion, s.TargetSize)
		}
		line += ")"
		if s.Reason != "" {
			line += ": " + termText(s.Reason)
		}
		if len(s.Reasons) > 0 {
			line += ": " + termText(strings.Join(s.Reasons, "; "))
		}
		fmt.Fprintln(w, line)
	}
	for _, n := range p.Foreign {
		fmt.Fprintf(w, "  %-18s %s (not a Spark record: never copied)\n", "foreign", termText(n))
	}
	fmt.Fprintf(w, "plan: %d create, %d identical, %d differ (refused), %d overwrite, %d delete, %d unconvertible, %d too large; %d target records left alone\n",
		p.Count(plan.Create), p.Count(plan.Identical), p.Count(plan.Differs), p.Count(plan.Overwrite), p.Count(plan.Delete),
		p.Count(plan.Unconvertible), p.Count(plan.TooLarge), p.Extra)
}

// targetRefusal is a write refused by --target-spark: exit 7, as audit's
// findings, since the same prediction decides it.
type targetRefusal struct {
	target   string
	bad, all int
}

func (e targetRefusal) Error() string {
	return fmt.Sprintf("refused: a Spark %s Master would not read %d of the %d records to write (pass --force to write them anyway; recoverctl audit --target-spark %s on the source says more)",
		e.target, e.bad, e.all, e.target)
}

// checkTarget predicts what a Master of release t does with each record
// the plan writes, read as that store's engine reads it (the bytes the
// source supplies are the target's framing). Records it would drop, stop
// on or quarantine are listed on stderr; unless warnOnly, they refuse the
// run.
func checkTarget(ctx context.Context, t *classes.Table, dst *openedStore, p *plan.Plan, src plan.Source, warnOnly bool, stderr io.Writer) error {
	engine := ""
	switch {
	case dst.zk != nil:
		engine = "zookeeper"
	case dst.fs != nil:
		engine = "filesystem"
	case dst.rdbTarget != nil, dst.rdb != nil:
		engine = "rocksdb"
	}
	var names []string
	for _, st := range p.Steps {
		if st.Action == plan.Create || st.Action == plan.Overwrite {
			names = append(names, st.Name)
		}
	}
	if len(names) == 0 || src == nil {
		return nil
	}
	codec := dst.codec
	if dst.zk != nil {
		codec = ""
	}
	var preds, bad []classes.Prediction
	err := src.Supply(ctx, names, func(rec store.Record) error {
		res := classes.Record(rec.Name, rec.Data, classes.Options{Target: t, Engine: engine, Codec: codec})
		if res.Prediction == nil {
			return nil
		}
		preds = append(preds, *res.Prediction)
		if v := res.Prediction.Verdict; v != classes.VerdictOK && v != classes.VerdictUnknown {
			bad = append(bad, *res.Prediction)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("--target-spark %s: %w", t.Release(), err)
	}
	if len(bad) == 0 {
		return nil
	}
	for _, g := range audit.Groups(bad) {
		what := g.Verdict
		if g.Effect != "" {
			what += " (" + g.Effect + ")"
		}
		fmt.Fprintf(stderr, "recoverctl: --target-spark %s: %s: %d record(s): %s\n", termText(t.Release()), termText(what), len(g.Records), termText(strings.Join(g.Records, ", ")))
		if g.Exception != "" {
			fmt.Fprintf(stderr, "recoverctl:   %s: %s; %s\n", termText(g.Exception), termText(g.Class), termText(g.Reason))
		}
	}
	if warnOnly {
		fmt.Fprintf(stderr, "recoverctl: warning: a Spark %s Master would not read %d of the %d records to write\n", termText(t.Release()), len(bad), len(preds))
		return nil
	}
	return targetRefusal{target: t.Release(), bad: len(bad), all: len(preds)}
}
