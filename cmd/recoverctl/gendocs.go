//go:build gendocs

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// addReleaseCommands adds gen-docs to builds made with -tags gendocs, which
// scripts/release.sh uses to write man pages and shell completions from
// the commands themselves. Release binaries are built without the tag, so
// they carry neither the command nor the man page renderer.
func addReleaseCommands(root *cobra.Command) {
	var man, completions, date string
	cmd := &cobra.Command{
		Use:    "gen-docs",
		Short:  "Write man pages and shell completions (release builds)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			when := time.Now().UTC()
			if date != "" {
				t, err := time.Parse(time.RFC3339, date)
				if err != nil {
					return usageError{fmt.Errorf("--date: %w", err)}
				}
				when = t.UTC()
			}
			// No "Auto generated ... on DATE" footers: pages built twice
			// from one commit are the same bytes.
			var noTag func(*cobra.Command)
			noTag = func(c *cobra.Command) {
				c.DisableAutoGenTag = true
				for _, sub := range c.Commands() {
					noTag(sub)
				}
			}
			noTag(root)
			if man != "" {
				if err := os.MkdirAll(man, 0o755); err != nil {
					return err
				}
				hdr := &doc.GenManHeader{Title: "RECOVERCTL", Section: "1", Date: &when,
					Source: "recoverctl " + buildVersion(), Manual: "recoverctl manual"}
				if err := doc.GenManTree(root, hdr, man); err != nil {
					return fmt.Errorf("man pages: %w", err)
				}
			}
			if completions != "" {
				if err := os.MkdirAll(completions, 0o755); err != nil {
					return err
				}
				for name, gen := range map[string]func(string) error{
					"recoverctl.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
					"_recoverctl":     root.GenZshCompletionFile,
					"recoverctl.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
				} {
					if err := gen(filepath.Join(completions, name)); err != nil {
						return fmt.Errorf("completion %s: %w", name, err)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&man, "man", "", "directory for the man pages (section 1)")
	cmd.Flags().StringVar(&completions, "completions", "", "directory for the bash, zsh and fish completions")
	cmd.Flags().StringVar(&date, "date", "", "date of the man pages, RFC 3339 (default now)")
	root.AddCommand(cmd)
}
