package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/audit"
	"github.com/recoverctl/recoverctl/codec/classes"
)

// findingsError makes `audit` exit with exitFindings when anything was
// flagged, so that it can gate a Master's start (ExecStartPre=).
type findingsError struct{ n int }

func (e findingsError) Error() string { return fmt.Sprintf("audit: %d finding(s)", e.n) }

func newAuditCommand() *cobra.Command {
	var (
		sf     storeFlags
		allow  []string
		target string
		output string
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Find what would attack or break the next Master before it starts",
		Long: `audit reads every record of a recovery store and reports what the next Master
should not deserialize: classes of known gadget chains, classes Spark does not
persist (--allow extends the list, JEP-290 filter syntax), several contents or
trailing bytes in a stream, records whose name does not match the id inside,
duplicate worker records, and who may write the store (ZooKeeper ACLs, directory
and file modes). With --target-spark it predicts, record by record, what a
Master of that release does, as that release's engine does it: reads it (ok),
deletes it (dropped, ZOOKEEPER), stops on it and stays in STANDBY (fails,
FILESYSTEM before 4.3 and ROCKSDB), or renames it to corrupted_<name> and
recovers the rest (quarantined, FILESYSTEM from 4.3). Records failing for one
reason are listed together, and a paragraph says what survives and how to
prepare the store. corrupted_<record> files are reported as Spark's quarantine.

It exits 7 when anything is flagged, 0 when the store is clean.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			var ropts classes.Options
			if len(allow) > 0 {
				f, err := classes.ParseFilter(strings.Join(allow, ";"))
				if err != nil {
					return usageError{fmt.Errorf("--allow: %w", err)}
				}
				ropts.Allow = f
			}
			var note string
			if target != "" {
				t, n, err := classes.TableFor(target)
				if err != nil {
					return usageError{fmt.Errorf("--target-spark: %w", err)}
				}
				ropts.Target, note = t, n
			}
			ctx := cmd.Context()
			st, err := sf.open(ctx, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer st.close()
			ropts.Codec = st.codec
			opts := audit.Options{Record: ropts}
			if st.fs != nil {
				opts.Dir = st.fs.Dir()
				if _, probs, err := st.fs.ListProblems(ctx); err == nil {
					for _, p := range probs {
						opts.Problems = append(opts.Problems, p.Error())
					}
				}
			}
			if st.zk != nil {
				opts.ZK, opts.SparkDir = st.zk, st.zk.SparkDir()
			}
			if st.rdb != nil {
				opts.Record.Engine = "rocksdb"
				for _, p := range st.rdb.Info().Problems {
					opts.Problems = append(opts.Problems, p.Error())
				}
			}
			rep, err := audit.Run(ctx, st.Reader, opts)
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "recoverctl:", termText(note))
			}
			rep.Advice = audit.Advice(rep.Target, storeArgs(cmd), rep.Predictions)
			if format == outputTable {
				writeAuditTables(cmd.OutOrStdout(), rep)
			} else if err := writeData(cmd.OutOrStdout(), format, rep); err != nil {
				return err
			}
			if len(rep.Findings) > 0 {
				return findingsError{len(rep.Findings)}
			}
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().StringArrayVar(&allow, "allow", nil, "also allow classes matching this JEP-290 pattern (pkg.Class, pkg.*, pkg.**, Prefix*, !pattern rejects); repeatable")
	cmd.Flags().StringVar(&target, "target-spark", "", "predict what a Master of this Spark release does with each record: X.Y.Z[-scala], any release from 2.4.0 on (e.g. 2.4.8-2.11, 3.5.8-2.13, 4.0.5; without -scala, the Scala line of its default distribution)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func writeAuditTables(w io.Writer, rep *audit.Report) {
	if len(rep.Findings) == 0 {
		fmt.Fprintf(w, "no findings in %s (%d records)\n", termText(rep.Store), rep.Records)
	} else {
		fmt.Fprintf(w, "FINDINGS (%d) in %s (%d records)\n", len(rep.Findings), termText(rep.Store), rep.Records)
		t := newTable(w, "SEVERITY", "CHECK", "WHERE", "CLASS", "DETAIL")
		upgrade := 0
		for _, f := range rep.Findings {
			if f.Check == classes.CheckUpgrade && rep.Target != "" {
				upgrade++ // grouped by reason below
				continue
			}
			where := f.Record
			if where == "" {
				where = f.Path
			}
			class := f.Class
			if class == "" {
				class = "-"
			}
			_ = t.Append(f.Severity, f.Check, where, class, f.Detail)
		}
		if upgrade < len(rep.Findings) {
			_ = t.Render()
		}
		if upgrade > 0 {
			fmt.Fprintf(w, "%d upgrade finding(s): below\n", upgrade)
		}
	}
	if rep.Target != "" {
		// One block per verdict and reason: a release's incompatibility
		// is usually one class, named once, not once per record.
		fmt.Fprintf(w, "\nA SPARK %s MASTER WOULD (%d records)\n", termText(rep.Target), len(rep.Predictions))
		for _, g := range rep.Groups {
			what := g.Verdict
			if g.Effect != "" {
				what += " (" + g.Effect + ")"
			}
			fmt.Fprintf(w, "  %s: %d record(s): %s\n", termText(what), len(g.Records), termText(strings.Join(g.Records, ", ")))
			if g.Exception != "" || g.Reason != "" {
				line := g.Exception
				if g.Class != "" && g.Class != g.Exception {
					line += ": " + g.Class
				}
				if g.Reason != "" {
					line += "; " + g.Reason
				}
				fmt.Fprintf(w, "    %s\n", termText(strings.TrimPrefix(line, "; ")))
			}
		}
		if rep.Advice != "" {
			fmt.Fprintf(w, "\n%s\n", termText(rep.Advice))
		}
	}
}

// storeArgs is the store flags of the command line as given, for advice
// that names commands to run on the same store.
func storeArgs(cmd *cobra.Command) string {
	var parts []string
	for _, n := range []string{"fs", "rocksdb", "zk", "zk-dir", "spark-conf", "codec"} {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed {
			parts = append(parts, "--"+n+" "+f.Value.String())
		}
	}
	return strings.Join(parts, " ")
}
