//go:build !gendocs

package main

import "github.com/spf13/cobra"

// addReleaseCommands adds nothing to ordinary builds; see gendocs.go.
func addReleaseCommands(*cobra.Command) {}
