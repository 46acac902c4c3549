// Command recoverctl lists, backs up, restores, migrates and prunes the
// recovery state of Apache Spark standalone Masters, without a JVM.
package main

import (
	"errors"
	"fmt"
	"os"
)

// Exit codes are part of the interface: monitoring and scripts branch on
// them. They are listed in `recoverctl help exit-codes` and README.md.
const (
	exitOK          = 0
	exitFailure     = 1 // any error not listed below
	exitUsage       = 2 // bad flags or arguments
	exitUndecodable = 3 // the command ran, but some records could not be decoded
	exitUnavailable = 4 // the store could not be reached
)

func main() {
	root := newRootCommand()
	err := root.Execute()
	os.Exit(exitCode(err))
}

// usageError marks errors caused by how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	}
	fmt.Fprintln(os.Stderr, "recoverctl:", err)
	return exitFailure
}
