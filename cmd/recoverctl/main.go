// Command recoverctl lists, backs up, restores, migrates and prunes the
// recovery state of Apache Spark standalone Masters, without a JVM.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/recoverctl/recoverctl/store"
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
	os.Exit(exitCode(newRootCommand().Execute()))
}

const exitCodesHelp = `Exit codes, the same for every command:

  0  success: every record decoded, every write verified
  1  an error not listed below
  2  bad flags or arguments
  3  the command ran, but some records could not be decoded (they are listed)
  4  the store could not be reached (ZooKeeper down, directory missing)`

// usageError marks errors caused by how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "recoverctl:", err)
	var ue usageError
	var pe partialError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &pe):
		return exitUndecodable
	case errors.Is(err, store.ErrUnavailable):
		return exitUnavailable
	}
	return exitFailure
}
