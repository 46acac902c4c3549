package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/codec/javaser"
	"github.com/recoverctl/recoverctl/inventory"
	"github.com/recoverctl/recoverctl/store"
)

type showOptions struct {
	store  storeFlags
	output string
	raw    bool
}

func newShowCommand() *cobra.Command {
	o := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show ID|RECORD",
		Short: "Print one record completely",
		Long: `Print every field of one record: an app, driver or worker id
(app-20261124101010-0000) or a record name (app_app-20261124101010-0000).
A unique id prefix is enough. --raw adds the Java serialization tree as
stored: every class, serialVersionUID and field.`,
		Args: exactArgs(1, "show needs the record to show: recoverctl show ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runShow(cmd.Context(), o, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.store.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().BoolVar(&o.raw, "raw", false, "add the generic Java serialization tree")
	return cmd
}

func runShow(ctx context.Context, o *showOptions, want string, stdout, stderr io.Writer) error {
	format, err := parseOutput(o.output)
	if err != nil {
		return err
	}
	if format == outputTable {
		format = outputYAML
	}
	st, err := o.store.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.close()
	entries, err := st.Reader.List(ctx)
	if err != nil {
		return err
	}
	e, err := pickEntry(entries, want)
	if err != nil {
		return err
	}
	inv, err := inventory.Load(ctx, st.Reader, inventory.Options{
		Codec:   codec.Options{Codec: st.codec},
		Filter:  func(x store.Entry) bool { return x.Name == e.Name },
		KeepRaw: o.raw,
		WithACL: true,
	})
	if err != nil {
		return err
	}
	if len(inv.Items) != 1 {
		return fmt.Errorf("%s: %w", e.Name, store.ErrNotFound)
	}
	it := inv.Items[0]
	doc := struct {
		Record  string        `json:"record"`
		Kind    string        `json:"kind"`
		ID      string        `json:"id"`
		Size    int64         `json:"recordsize"`
		ModTime string        `json:"modified,omitempty"`
		ACL     []store.ACL   `json:"acl,omitempty"`
		Decoded *codec.Record `json:"decoded,omitempty"`
		Error   string        `json:"error,omitempty"`
	}{Record: it.Name, Kind: it.Kind.String(), ID: it.ID, Size: it.Size, ACL: it.ACL, Decoded: it.Record}
	if !it.ModTime.IsZero() {
		doc.ModTime = it.ModTime.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if it.Err != nil {
		doc.Error = it.Err.Error()
	}
	if err := writeData(stdout, format, doc); err != nil {
		return err
	}
	if o.raw && it.Record != nil && it.Record.Tree != nil {
		fmt.Fprintln(stdout, "# Java serialization stream")
		// The tree names classes and fields as the stream spells them.
		tw := &termLines{w: stdout}
		if err := javaser.Dump(tw, it.Record.Tree); err != nil {
			return err
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return undecodableError(inv)
}

// pickEntry finds a Spark record by name, id, or unique id prefix.
func pickEntry(entries []store.Entry, want string) (store.Entry, error) {
	var matches []store.Entry
	for _, e := range entries {
		if e.Kind == store.KindForeign {
			continue
		}
		if e.Name == want || e.ID == want {
			return e, nil
		}
		if strings.HasPrefix(e.ID, want) || strings.HasPrefix(e.Name, want) {
			matches = append(matches, e)
		}
	}
	switch len(matches) {
	case 0:
		return store.Entry{}, fmt.Errorf("no record %q: %w", want, store.ErrNotFound)
	case 1:
		return matches[0], nil
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = m.Name
	}
	return store.Entry{}, usageError{fmt.Errorf("%q matches %d records: %s", want, len(matches), strings.Join(names, ", "))}
}
