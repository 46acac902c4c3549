package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/diff"
	"github.com/recoverctl/recoverctl/store/address"
)

// diffError is a diff that found differences: exit 8, after the
// differences are printed.
type diffError struct{ r *diff.Result }

func (e diffError) Error() string {
	return fmt.Sprintf("diff: %d only in A, %d only in B, %d differ", len(e.r.OnlyA), len(e.r.OnlyB), len(e.r.Differ))
}

type diffOptions struct {
	zkAuth, output string
	timeout        time.Duration
}

func newDiffCommand() *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare the records of two stores or archives",
		Long: `diff compares the Spark records of A and B, each a store address
(fs:///DIR[?codec=...], zk://HOST:PORT[/CHROOT][?dir=/spark], rocksdb:///DIR)
or the path of an archive made by backup or prune. It lists the records
found on one side only, and for each record on both sides with different
bytes, either that only the bytes differ (the same decoded content in
another codec framing or with trailing padding) or which decoded fields
differ, with both values, under the Master's /json names. Identical
records are counted. Foreign entries are counted, not compared. Nothing is
written. On a terminal the table fits its width (long values cut with …);
-o wide, a pipe and -o json print every value whole.

Use it after a migration (the source against the target), before a restore
(the store against the archive: what the restore would change) or to
compare two Masters' stores.

Exit status: 0 when both sides hold the same records byte for byte; 8
when they differ; 4 when a store cannot be reached; 5 when an archive is
damaged.`,
		Example: `  recoverctl diff fs:///var/spark/recovery zk://zk1:2181/prod?dir=/spark
  recoverctl diff zk://zk1:2181 /var/backups/spark/recoverctl-zk-20261128T043000Z.rctl.zst -o json`,
		Args: exactArgs(2, "diff needs two sides: recoverctl diff A B (store addresses or archive paths)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDiff(ctx, o, args[0], args[1], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.output, "output", "o", "table", "output format: table (fitted to a terminal's width), wide (every value whole), json or yaml")
	fl.StringVar(&o.zkAuth, "zk-auth", "", "ZooKeeper digest credentials user:password for ZooKeeper sides (or $RECOVERCTL_ZK_AUTH)")
	fl.DurationVar(&o.timeout, "timeout", 10*time.Second, "ZooKeeper connect and request timeout")
	return cmd
}

// openSide opens one side: a store address when it has a scheme, else an
// archive file, which is verified as it is opened.
func openSide(ctx context.Context, o *diffOptions, which, arg string, stderr io.Writer) (diff.Side, func(), error) {
	if !strings.Contains(arg, "://") {
		if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
			return diff.Side{}, nil, usageError{fmt.Errorf("%s: %s is a directory; name a recovery directory as fs://%s or rocksdb://%s", which, arg, absPath(arg), absPath(arg))}
		}
		a, err := backup.OpenFile(ctx, arg)
		if err != nil {
			return diff.Side{}, nil, fmt.Errorf("diff: %s: %w", which, err)
		}
		return diff.Side{Reader: diff.NewArchive(a, arg)}, func() { a.Close() }, nil
	}
	addr, err := address.Parse(arg)
	if err != nil {
		return diff.Side{}, nil, usageError{fmt.Errorf("%s: %w", which, err)}
	}
	sf := &storeFlags{timeout: o.timeout, zkAuth: o.zkAuth}
	switch addr.Kind {
	case address.KindFS:
		sf.fsDir, sf.codec = addr.Dir, addr.Codec
	case address.KindRocksDB:
		sf.rdbDir = addr.Dir
	default:
		sf.zkServers, sf.zkDir = addr.ConnectString(), addr.SparkDir
	}
	st, err := sf.open(ctx, stderr)
	if err != nil {
		return diff.Side{}, nil, fmt.Errorf("diff: %s: %w", which, err)
	}
	return diff.Side{Reader: st.Reader, Codec: st.codec}, st.close, nil
}

func runDiff(ctx context.Context, o *diffOptions, argA, argB string, stdout, stderr io.Writer) error {
	// wide is the table with every value whole, on a terminal too.
	wide := strings.EqualFold(o.output, "wide")
	output := o.output
	if wide {
		output = string(outputTable)
	}
	format, err := parseOutput(output)
	if err != nil {
		return err
	}
	a, closeA, err := openSide(ctx, o, "A", argA, stderr)
	if err != nil {
		return err
	}
	defer closeA()
	b, closeB, err := openSide(ctx, o, "B", argB, stderr)
	if err != nil {
		return err
	}
	defer closeB()
	res, err := diff.Compare(ctx, a, b)
	if err != nil {
		return err
	}
	if format == outputTable {
		if wide {
			stdout = widthWriter{Writer: stdout}
		}
		err = writeDiffText(stdout, res)
	} else {
		err = writeData(stdout, format, res)
	}
	if err != nil {
		return err
	}
	if !res.Equal() {
		return diffError{res}
	}
	return nil
}

// writeDiffText prints the differences as one table, a record's fields on
// the rows below it, then the counts.
func writeDiffText(w io.Writer, r *diff.Result) error {
	fmt.Fprintf(w, "A: %s\nB: %s\n", termText(r.A), termText(r.B))
	if !r.Equal() {
		fmt.Fprintln(w)
		t := newTable(w, "RECORD", "CHANGE", "FIELD", "A", "B")
		for _, e := range r.OnlyA {
			t.Append(e.Name, "only in A", "", humanBytes(e.Size), "")
		}
		for _, e := range r.OnlyB {
			t.Append(e.Name, "only in B", "", "", humanBytes(e.Size))
		}
		for _, d := range r.Differ {
			sizeA, sizeB := framing(d.CodecA, d.SizeA), framing(d.CodecB, d.SizeB)
			switch {
			case d.UndecodableA != "" || d.UndecodableB != "":
				t.Append(d.Name, "bytes, undecodable", "", orText(d.UndecodableA, sizeA), orText(d.UndecodableB, sizeB))
			case d.BytesOnly:
				t.Append(d.Name, "bytes only", "", sizeA, sizeB)
			default:
				for i, f := range d.Fields {
					name, change := "", ""
					if i == 0 {
						name, change = d.Name, "fields"
					}
					t.Append(name, change, f.Path, fieldValue(f.A), fieldValue(f.B))
				}
				if d.MoreFields > 0 {
					t.Append("", "", fmt.Sprintf("(%d more)", d.MoreFields), "", "")
				}
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("print differences: %w", err)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d identical, %d only in A, %d only in B, %d differ (%d in bytes only)\n",
		r.Identical, len(r.OnlyA), len(r.OnlyB), len(r.Differ), bytesOnly(r))
	if r.ForeignA > 0 || r.ForeignB > 0 {
		fmt.Fprintf(w, "foreign entries, not compared: %d in A, %d in B\n", r.ForeignA, r.ForeignB)
	}
	return nil
}

func bytesOnly(r *diff.Result) int {
	n := 0
	for _, d := range r.Differ {
		if d.BytesOnly {
			n++
		}
	}
	return n
}

func framing(codecName string, size int64) string {
	if codecName == "" {
		return humanBytes(size)
	}
	return codecName + ", " + humanBytes(size)
}

func orText(reason, ok string) string {
	if reason != "" {
		return reason
	}
	return ok
}

// fieldValue is a field's JSON value, "(absent)" where the side lacks it.
func fieldValue(v []byte) string {
	if v == nil {
		return "(absent)"
	}
	return string(v)
}
