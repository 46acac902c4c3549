package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/regularfile"
)

func newVerifyCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "verify FILE...",
		Short: "Check that archives are intact",
		Long: `verify reads each archive completely and checks every record against its
SHA-256, the manifest against the records, and the footer's SHA-256 against
every byte of the file. It needs no store.

An archive holds only names Spark writes (app_, driver_, worker_ and an
id that fits a file name, without '/' or control characters) and the
format's own entries; anything else is refused like damage.

Exit status: 0 when every archive is intact; 5 when one is damaged,
truncated, not an archive or holds a name Spark does not write (the message
names the entry and the byte offset); 1 when a file cannot be read at all.`,
		Example: `  recoverctl verify /var/backups/spark/recoverctl-zk-20261128T043000Z.rctl.zst`,
		Args:    minArgs(1, "verify needs the archives to verify: recoverctl verify FILE..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var results []verifyResult
			var firstErr error
			for _, path := range args {
				r, err := verifyArchive(ctx, path)
				results = append(results, r)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err != nil && !errors.Is(err, backup.ErrDamaged) {
					break // unreadable file or cancelled: stop here
				}
			}
			w := cmd.OutOrStdout()
			if format != outputTable {
				if err := writeData(w, format, results); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					if r.OK {
						// Kind and address come from the manifest, which
						// whoever made the archive chose.
						fmt.Fprintf(w, "%s: intact, %d records (%s), %s store %s, created %s, sha256 %s\n",
							termText(r.File), r.Records, humanBytes(r.Bytes), termText(r.StoreKind),
							termText(r.Address), r.Created.Format(time.RFC3339), r.SHA256)
						if r.Foreign > 0 {
							fmt.Fprintf(w, "%s: also holds %d foreign entries (%s) that prune deleted; restore does not write them back\n",
								termText(r.File), r.Foreign, humanBytes(r.ForeignBytes))
						}
					}
				}
			}
			return firstErr
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// verifyResult is the -o json contract of verify, one per file.
type verifyResult struct {
	File      string    `json:"file"`
	OK        bool      `json:"ok"`
	Records   int       `json:"records,omitempty"`
	Bytes     int64     `json:"bytes,omitempty"`
	StoreKind string    `json:"store_kind,omitempty"`
	Address   string    `json:"address,omitempty"`
	Created   time.Time `json:"created,omitzero"`
	SHA256    string    `json:"sha256,omitempty"`
	// Foreign counts the foreign part (backup/FORMAT.md): entries prune
	// deleted that are no Spark record; restore never writes them.
	Foreign      int   `json:"foreign,omitempty"`
	ForeignBytes int64 `json:"foreign_bytes,omitempty"`
	// Damage, when not OK: what is wrong, the record and the offset.
	Error  string `json:"error,omitempty"`
	Record string `json:"record,omitempty"`
	Offset *int64 `json:"offset,omitempty"`
}

func verifyArchive(ctx context.Context, path string) (verifyResult, error) {
	r := verifyResult{File: path}
	f, _, err := regularfile.Open(path)
	if err != nil {
		r.Error = err.Error()
		return r, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	m, err := backup.Verify(ctx, f)
	if err != nil {
		r.Error = err.Error()
		var de *backup.DamageError
		if errors.As(err, &de) {
			r.Record = de.Record
			off := de.Offset
			r.Offset = &off
		}
		return r, fmt.Errorf("verify %s: %w", path, err)
	}
	r.OK, r.Records, r.Bytes = true, m.Records, m.Bytes
	r.StoreKind, r.Address, r.Created = m.StoreKind, m.Address, m.Created
	r.SHA256 = fmt.Sprintf("%x", m.ArchiveSHA256)
	r.Foreign, r.ForeignBytes = m.Foreign, m.ForeignBytes
	return r, nil
}
