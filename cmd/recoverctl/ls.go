package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/inventory"
	"github.com/recoverctl/recoverctl/store"
)

type lsOptions struct {
	store  storeFlags
	output string
	now    func() time.Time
}

func newLsCommand() *cobra.Command {
	o := &lsOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "ls [apps|drivers|workers] [ID-PREFIX...]",
		Short: "List the workers, apps and drivers a recovery store holds",
		Long: `List the records of a FILESYSTEM, ZOOKEEPER or ROCKSDB recovery store, decoded.

Records that cannot be decoded are listed with the reason, and the exit code
is 3. With -o json the output uses the field names and top-level keys of a
live Master's /json (workers, activeapps, activedrivers), so scripts written
for a live Master work on a dead one. The output is sorted, so -o json keeps
the encoded records in an unlinked temporary file (in $TMPDIR, about the
size of the output) rather than in memory until the last one is read.`,
		Example: `  recoverctl ls --fs /var/spark/recovery
  recoverctl ls apps --zk zk1:2181,zk2:2181 --zk-dir /spark -o json
  recoverctl ls workers worker-2026 --spark-conf /opt/spark/conf
  recoverctl ls --rocksdb /var/spark/rocksdb-recovery -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLs(cmd.Context(), o, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.store.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// parseSelection reads `ls [KIND] [ID-PREFIX...]`.
func parseSelection(args []string) (func(store.Entry) bool, error) {
	kind := store.KindForeign // none chosen
	if len(args) > 0 {
		switch strings.ToLower(args[0]) {
		case "apps", "app":
			kind = store.KindApp
		case "drivers", "driver":
			kind = store.KindDriver
		case "workers", "worker":
			kind = store.KindWorker
		}
		if kind != store.KindForeign {
			args = args[1:]
		}
	}
	prefixes := args
	return func(e store.Entry) bool {
		if kind != store.KindForeign && e.Kind != kind {
			return false
		}
		if len(prefixes) == 0 {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(e.ID, p) || strings.HasPrefix(e.Name, p) {
				return true
			}
		}
		return false
	}, nil
}

func runLs(ctx context.Context, o *lsOptions, args []string, stdout, stderr io.Writer) error {
	format, err := parseOutput(o.output)
	if err != nil {
		return err
	}
	filter, err := parseSelection(args)
	if err != nil {
		return err
	}
	st, err := o.store.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.close()
	now := o.now()
	opts := inventory.Options{Codec: codec.Options{Codec: st.codec}, Filter: filter,
		Encode: format == outputJSON, EncodePrefix: viewJSONPrefix, EncodeIndent: viewJSONIndent}
	if format == outputTable {
		// Rows, not decoded records, wait in the spool for the sort.
		opts.Encode, opts.Cells = true, rowCells(now)
	}
	inv, err := inventory.Load(ctx, st.Reader, opts)
	if err != nil {
		return err
	}
	defer inv.Close()
	switch format {
	case outputTable:
		if err := writeTables(stdout, inv, now); err != nil {
			return err
		}
	case outputJSON:
		if err := writeViewJSON(stdout, inv); err != nil {
			return err
		}
	default:
		if err := writeData(stdout, format, inv.View()); err != nil {
			return err
		}
	}
	return undecodableError(inv)
}

// undecodableError makes the exit code say that the listing is incomplete.
func undecodableError(inv *inventory.Inventory) error {
	if n := len(inv.Undecodable()); n > 0 {
		return partialError{n}
	}
	return nil
}

// partialError: the command did its job, but some records could not be decoded.
type partialError struct{ undecodable int }

func (e partialError) Error() string {
	return fmt.Sprintf("%d record(s) could not be decoded (listed above)", e.undecodable)
}
