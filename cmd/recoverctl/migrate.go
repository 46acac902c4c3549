package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/livemaster"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/storeaddr"
)

func newMigrateCommand() *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate --from SRC --to DST",
		Short: "Copy recovery state between stores (FILESYSTEM to ZOOKEEPER and back)",
		Long: `migrate copies every Spark record of one store into another, for example a
single Master's recovery directory into ZooKeeper when it becomes highly
available. Stores are named by address:

  fs:///var/spark/recovery[?codec=lz4|lzf|snappy|zstd]
  zk://zk1:2181,zk2:2181[/chroot][?dir=/spark]

codec is the directory Master's spark.deploy.recoveryCompressionCodec;
dir is spark.deploy.zookeeper.dir. --from-spark-conf / --to-spark-conf find
a store from a Spark conf directory instead, as the Master does.

Records are converted for the target's Master: codec framing is removed for
ZooKeeper (its engine never compresses) and added for a directory whose
Master compresses. The serialized objects are copied unchanged, so Java
records go only to a Java Master (--serializer kryo for Kryo Masters).

It prints the plan (create, identical, differs, unconvertible) and stops
there with --dry-run; then asks (on a terminal; --yes otherwise), archives
the target into --backup-dir, writes in ZooKeeper transactions sized by
bytes, and reads every record back. The source is never changed; foreign
entries are never copied. Running the same command again after any
interruption finishes the migration without writing anything twice.

It refuses while a live Master holds either store (exit 6) unless --force,
and when target records differ unless --overwrite.`,
		Example: `  recoverctl migrate --from fs:///var/spark/recovery --to zk://zk1:2181,zk2:2181,zk3:2181 --dry-run
  recoverctl migrate --from fs:///var/spark/recovery?codec=lz4 --to zk://zk1:2181/prod?dir=/spark --yes
  recoverctl migrate --from zk://zk1:2181 --to fs:///var/spark/recovery --yes -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(o.output)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runMigrate(ctx, &o, format, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.from, "from", "", "source store address (fs:///DIR[?codec=C] or zk://HOSTS[/CHROOT][?dir=/spark])")
	fl.StringVar(&o.to, "to", "", "target store address")
	fl.StringVar(&o.fromConf, "from-spark-conf", "", "find the source as the Master configured in this Spark conf dir does")
	fl.StringVar(&o.toConf, "to-spark-conf", "", "find the target as the Master configured in this Spark conf dir does")
	fl.StringVar(&o.zkAuth, "zk-auth", "", "ZooKeeper digest credentials user:password for both stores (or $RECOVERCTL_ZK_AUTH)")
	fl.StringVar(&o.serializer, "serializer", "java", "the target Master's spark.deploy.recoverySerializer: java or kryo")
	fl.StringVar(&o.backupDir, "backup-dir", ".", "directory for the archive of the target taken before writing")
	fl.BoolVar(&o.dryRun, "dry-run", false, "print the plan and stop")
	fl.BoolVar(&o.overwrite, "overwrite", false, "replace target records that differ from the source")
	fl.BoolVar(&o.skipUnconvertible, "skip-unconvertible", false, "leave source records that cannot be migrated behind instead of refusing")
	fl.BoolVar(&o.force, "force", false, "migrate even while a live Master holds the source or the target")
	fl.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required when stdin is not a terminal)")
	fl.StringVar(&o.master, "master", "", "a directory store's Master address to check for liveness (host:port, http://..., spark://...)")
	fl.DurationVar(&o.timeout, "timeout", 10*time.Second, "ZooKeeper connect and request timeout")
	fl.IntVar(&o.retries, "retries", 5, "retry a ZooKeeper batch this often while the ensemble is unavailable")
	fl.StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

type migrateOptions struct {
	from, to, fromConf, toConf string
	zkAuth, serializer         string
	backupDir, master, output  string
	dryRun, overwrite, force   bool
	skipUnconvertible, yes     bool
	timeout                    time.Duration
	retries                    int
	// stdinTerminal overrides the terminal check (tests).
	stdinTerminal *bool
}

// migrateResult is the -o json contract.
type migrateResult struct {
	Source        string              `json:"source"`
	Target        string              `json:"target"`
	DryRun        bool                `json:"dry_run"`
	Create        int                 `json:"create"`
	Identical     int                 `json:"identical"`
	Overwrite     int                 `json:"overwrite"`
	Differs       int                 `json:"differs"`
	Unconvertible int                 `json:"unconvertible"`
	Extra         int                 `json:"extra"`
	Foreign       []string            `json:"foreign"`
	Steps         []migrate.Step      `json:"steps"`
	LiveMaster    []livemaster.Result `json:"live_master,omitempty"`
	Result        *migrate.Result     `json:"result,omitempty"`
	Seconds       float64             `json:"seconds"`
}

// storeFlagsFor turns an address or a Spark conf dir into the flags every
// command opens stores with.
func (o *migrateOptions) storeFlagsFor(side, addr, conf string) (*storeFlags, error) {
	sf := &storeFlags{timeout: o.timeout, zkAuth: o.zkAuth}
	switch {
	case addr != "" && conf != "":
		return nil, usageError{fmt.Errorf("--%s and --%s-spark-conf both name the %s; give one", side, side, side)}
	case conf != "":
		sf.sparkConf = conf
	case addr != "":
		a, err := storeaddr.Parse(addr)
		if err != nil {
			return nil, usageError{fmt.Errorf("--%s: %w", side, err)}
		}
		if a.Kind == storeaddr.KindFS {
			sf.fsDir, sf.codec = a.Dir, a.Codec
		} else {
			sf.zkServers, sf.zkDir = a.ConnectString(), a.SparkDir
		}
	default:
		return nil, usageError{fmt.Errorf("--%s ADDRESS (or --%s-spark-conf DIR) is required", side, side)}
	}
	return sf, nil
}

func runMigrate(ctx context.Context, o *migrateOptions, format outputFormat, stdin io.Reader, stdout, stderr io.Writer) error {
	start := time.Now()
	switch o.serializer {
	case migrate.SerializerJava, migrate.SerializerKryo:
	default:
		return usageError{fmt.Errorf("--serializer %q: want java or kryo", o.serializer)}
	}
	srcFlags, err := o.storeFlagsFor("from", o.from, o.fromConf)
	if err != nil {
		return err
	}
	dstFlags, err := o.storeFlagsFor("to", o.to, o.toConf)
	if err != nil {
		return err
	}
	src, err := srcFlags.open(ctx, stderr)
	if err != nil {
		return fmt.Errorf("migrate: source: %w", err)
	}
	defer src.close()
	dst, err := dstFlags.open(ctx, stderr)
	if err != nil {
		return fmt.Errorf("migrate: target: %w", err)
	}
	defer dst.close()
	if src.String() == dst.String() {
		return usageError{fmt.Errorf("--from and --to both name %s", src)}
	}
	res := migrateResult{Source: src.String(), Target: dst.String(), DryRun: o.dryRun}

	for _, st := range []*openedStore{src, dst} {
		master := ""
		if st.fs != nil {
			master = o.master
		}
		live, err := checkLive(ctx, st, master)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if !live.Live() {
			continue
		}
		res.LiveMaster = append(res.LiveMaster, live)
		if err := refuseLive(live, st, o.dryRun, o.force, stderr); err != nil {
			return fmt.Errorf("migrate %s -> %s refused: %w", src, dst, err)
		}
	}
	unlock, err := lockForWriting(dst, o.dryRun)
	if err != nil {
		return fmt.Errorf("migrate into %s refused: %w", dst, err)
	}
	defer unlock()

	opts := migrate.Options{
		SourceCodec:       src.codec,
		TargetCodec:       dst.codec,
		TargetSerializer:  o.serializer,
		Overwrite:         o.overwrite,
		SkipUnconvertible: o.skipUnconvertible,
	}
	if dst.zk != nil {
		opts.TargetCodec = "" // ZooKeeper's engine never compresses
	}
	bar := newProgressBar(stderr)
	plan, err := migrate.PlanMigration(ctx, src.Store, dst.Store, opts, migrateProgress(bar, "plan"))
	bar.done()
	if err != nil {
		return err
	}
	res.Create, res.Identical, res.Overwrite = plan.Count(migrate.Create), plan.Count(migrate.Skip), plan.Count(migrate.Overwrite)
	res.Differs, res.Unconvertible, res.Extra = plan.Count(migrate.Conflict), plan.Count(migrate.Unconvertible), plan.Extra
	res.Foreign, res.Steps = plan.Foreign, plan.Steps
	if res.Foreign == nil {
		res.Foreign = []string{}
	}
	if format == outputTable {
		printMigratePlan(stdout, plan)
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
	if refused := plan.Refused(); len(refused) > 0 {
		_, err := plan.Apply(ctx, src.Store, dst.Store, migrate.ApplyOptions{}, nil) // returns the refusal
		if errors.Is(err, migrate.ErrConflict) {
			err = fmt.Errorf("%w (%w)", err, backup.ErrConflict)
		}
		return finish(err)
	}
	if plan.Writes() == 0 {
		if format == outputTable {
			fmt.Fprintf(stdout, "nothing to write: %s already holds every record\n", termText(dst.String()))
		}
		n, err := plan.Verify(ctx, dst.Store, nil)
		res.Result = &migrate.Result{Skipped: res.Identical, Verified: n, Left: res.Unconvertible}
		return finish(err)
	}
	info := storeInfo(dst)
	info.Time = time.Now()
	path, err := freeArchivePath(o.backupDir, info.StoreKind, info.Time)
	if err != nil {
		return finish(fmt.Errorf("migrate: backup path: %w", err))
	}
	prompt := fmt.Sprintf("Write %d records into %s (target archived first to %s)?", plan.Writes(), dst, path)
	if err := confirm(o.yes, o.stdinTerminal, prompt, stdin, stderr); err != nil {
		return finish(err)
	}
	if format == outputTable {
		fmt.Fprintf(stdout, "archiving the target to %s\n", termText(path))
	}
	bar = newProgressBar(stderr)
	r, err := plan.Apply(ctx, src.Store, dst.Store, migrate.ApplyOptions{
		BackupPath: path,
		BackupInfo: info,
		Retries:    o.retries,
		RetryWait:  time.Second,
	}, migrateProgress(bar, "migrate"))
	bar.done()
	res.Result = &r
	if err != nil {
		return finish(fmt.Errorf("%w (the source is unchanged; running the same command again resumes: written records are skipped as identical)", err))
	}
	if format == outputTable {
		fmt.Fprintf(stdout, "migrated %d records (%s) into %s in %d batches, %d retries; %d records read back identical; %d identical already; target archive %s\n",
			r.Written, humanBytes(r.Bytes), termText(dst.String()), r.Batches, r.Retries, r.Verified, r.Skipped, termText(r.Backup))
		if r.Left > 0 {
			fmt.Fprintf(stdout, "left behind (unconvertible): %d records\n", r.Left)
		}
	}
	return finish(nil)
}

func migrateProgress(bar *progressBar, label string) migrate.Progress {
	report := bar.report(label)
	if report == nil {
		return nil
	}
	return func(e migrate.Event) {
		report(backup.Event{Phase: backup.Phase(e.Phase), Record: e.Record, Done: e.Done, Total: e.Total, Bytes: e.Bytes})
	}
}

func printMigratePlan(w io.Writer, plan *migrate.Plan) {
	fmt.Fprintf(w, "source %s\ntarget %s\n", termText(plan.Source), termText(plan.Target))
	for _, s := range plan.Steps {
		label := s.Action.String()
		switch s.Action {
		case migrate.Skip:
			label = "identical (skip)"
		case migrate.Conflict:
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
		fmt.Fprintln(w, line)
	}
	for _, n := range plan.Foreign {
		fmt.Fprintf(w, "  %-18s %s (not a Spark record: never copied)\n", "foreign", termText(n))
	}
	fmt.Fprintf(w, "plan: %d create, %d identical, %d differ (refused), %d overwrite, %d unconvertible; %d target records not in the source are left alone\n",
		plan.Count(migrate.Create), plan.Count(migrate.Skip), plan.Count(migrate.Conflict), plan.Count(migrate.Overwrite),
		plan.Count(migrate.Unconvertible), plan.Extra)
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
	fmt.Fprintf(stderr, "%s [y/N] ", termText(prompt))
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errors.New("not confirmed: nothing changed")
}

func backupEvent(phase, name string, done, total int) backup.Event {
	return backup.Event{Phase: backup.Phase(phase), Record: name, Done: done, Total: total}
}
