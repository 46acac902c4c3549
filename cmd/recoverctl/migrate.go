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

	"github.com/recoverctl/recoverctl/livemaster"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store/address"
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
  rocksdb:///var/spark/recovery      (a ROCKSDB Master's directory; written whole beside the old one, swapped in)

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
	fl.StringVar(&o.from, "from", "", "source store address (fs:///DIR[?codec=C], zk://HOSTS[/CHROOT][?dir=/spark] or rocksdb:///DIR)")
	fl.StringVar(&o.to, "to", "", "target store address (fs:///DIR[?codec=C], zk://HOSTS[/CHROOT][?dir=/spark] or rocksdb:///DIR)")
	fl.StringVar(&o.fromConf, "from-spark-conf", "", "find the source as the Master configured in this Spark conf dir does")
	fl.StringVar(&o.toConf, "to-spark-conf", "", "find the target as the Master configured in this Spark conf dir does")
	fl.StringVar(&o.zkAuth, "zk-auth", "", "ZooKeeper digest credentials user:password for both stores (or $RECOVERCTL_ZK_AUTH)")
	o.zkTLS.register(fl)
	fl.StringVar(&o.serializer, "serializer", "java", "the target Master's spark.deploy.recoverySerializer: java or kryo")
	o.w.register(cmd, true)
	fl.BoolVar(&o.skipUnconvertible, "skip-unconvertible", false, "leave source records that cannot be migrated behind instead of refusing")
	fl.DurationVar(&o.timeout, "timeout", 10*time.Second, "ZooKeeper connect and request timeout")
	fl.StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

type migrateOptions struct {
	from, to, fromConf, toConf string
	zkAuth, serializer, output string
	skipUnconvertible          bool
	timeout                    time.Duration
	w                          writeFlags
	zkTLS                      zkTLSFlags // for both stores, as --zk-auth
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
	TooLarge      int                 `json:"too_large"`
	Steps         []plan.Step         `json:"steps"`
	LiveMaster    []livemaster.Result `json:"live_master,omitempty"`
	Result        *plan.Result        `json:"result,omitempty"`
	Seconds       float64             `json:"seconds"`
}

// storeFlagsFor turns an address or a Spark conf dir into the flags every
// command opens stores with.
func (o *migrateOptions) storeFlagsFor(side, addr, conf string) (*storeFlags, error) {
	sf := &storeFlags{timeout: o.timeout, zkAuth: o.zkAuth, zkTLS: o.zkTLS}
	switch {
	case addr != "" && conf != "":
		return nil, usageError{fmt.Errorf("--%s and --%s-spark-conf both name the %s; give one", side, side, side)}
	case conf != "":
		sf.sparkConf = conf
	case addr != "":
		a, err := address.Parse(addr)
		if err != nil {
			return nil, usageError{fmt.Errorf("--%s: %w", side, err)}
		}
		switch a.Kind {
		case address.KindFS:
			sf.fsDir, sf.codec = a.Dir, a.Codec
		case address.KindRocksDB:
			sf.rdbDir = a.Dir
		default:
			sf.zkServers, sf.zkDir = a.ConnectString(), a.SparkDir
		}
	default:
		return nil, usageError{fmt.Errorf("--%s ADDRESS (or --%s-spark-conf DIR) is required", side, side)}
	}
	return sf, nil
}

func runMigrate(ctx context.Context, o *migrateOptions, format outputFormat, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.timeout <= 0 {
		return usageError{fmt.Errorf("--timeout %s: want a positive duration such as 10s", o.timeout)}
	}
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
	dst, err := dstFlags.openTarget(ctx, stderr)
	if err != nil {
		return fmt.Errorf("migrate: target: %w", err)
	}
	defer dst.close()
	if src.String() == dst.String() {
		return usageError{fmt.Errorf("--from and --to both name %s", src)}
	}
	res := migrateResult{Source: src.String(), Target: dst.String(), DryRun: o.w.dryRun}
	opts := migrate.Options{
		SourceCodec:       src.codec,
		TargetCodec:       dst.codec,
		TargetSerializer:  o.serializer,
		Overwrite:         o.w.overwrite,
		SkipUnconvertible: o.skipUnconvertible,
	}
	if dst.zk != nil {
		opts.TargetCodec = "" // ZooKeeper's engine never compresses
	}
	c := &change{
		target: dst, guarded: []*openedStore{src, dst}, holder: fmt.Sprintf("recoverctl migrate %s -> %s", src, dst), verb: "Write",
		plan: func(ctx context.Context, progress plan.Progress) (*plan.Plan, plan.Source, error) {
			p, s, err := migrate.Plan(ctx, src.Reader, dst.Store, opts, progress)
			if err != nil {
				return nil, nil, err
			}
			return p, s, nil
		},
		show: func(p *plan.Plan) {
			res.Create, res.Identical, res.Overwrite = p.Count(plan.Create), p.Count(plan.Identical), p.Count(plan.Overwrite)
			res.Differs, res.Unconvertible, res.TooLarge, res.Extra = p.Count(plan.Differs), p.Count(plan.Unconvertible), p.Count(plan.TooLarge), p.Extra
			res.Foreign, res.Steps = p.Foreign, p.Steps
			if res.Foreign == nil {
				res.Foreign = []string{}
			}
			if format == outputTable {
				fmt.Fprintf(stdout, "source %s\ntarget %s\n", termText(p.Source), termText(p.Target))
				printSteps(stdout, p)
				if o.w.dryRun {
					fmt.Fprintln(stdout, "dry run: nothing written")
				}
			}
		},
	}
	p, r, err := o.w.run(ctx, c, false, stdin, stderr)
	res.LiveMaster = c.live
	if p != nil && !o.w.dryRun && (err == nil || r.Written > 0) {
		res.Result = &r
	}
	if err == nil && p != nil && !o.w.dryRun && format == outputTable {
		if p.Writes() == 0 {
			fmt.Fprintf(stdout, "nothing to write: %s already holds every record; %d read back identical\n", termText(dst.String()), r.Verified)
		} else {
			fmt.Fprintf(stdout, "migrated %d records (%s) into %s in %d batches, %d retries; %d records read back identical; %d identical already; target archive %s\n",
				r.Written, humanBytes(r.Bytes), termText(dst.String()), r.Batches, r.Retries, r.Verified, r.Skipped, termText(r.Backup))
		}
		if r.Left > 0 {
			fmt.Fprintf(stdout, "left behind (unconvertible): %d records\n", r.Left)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if p != nil && format != outputTable {
		if werr := writeData(stdout, format, res); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return fmt.Errorf("migrate %s -> %s: %w (the source is unchanged)", src, dst, err)
	}
	return nil
}
