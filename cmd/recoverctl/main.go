// Command recoverctl lists, backs up, restores, migrates and prunes the
// recovery state of Apache Spark standalone Masters, without a JVM.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/livemaster"
	"github.com/recoverctl/recoverctl/plan"
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
	exitDamaged     = 5 // an archive is damaged, truncated or not an archive (verify, restore)
	exitRefused     = 6 // refused to write: a live Master holds the store, another recoverctl holds its lock, or records differ
	exitFindings    = 7 // audit flagged something (gadget or foreign classes, open ACLs, upgrade breakage)
	exitDiffers     = 8 // diff found records that differ or exist on one side only
)

func main() {
	stop := startProfile(os.Getenv("RECOVERCTL_CPUPROFILE"))
	code := exitCode(newRootCommand().Execute())
	stop()
	os.Exit(code)
}

// startProfile writes a CPU profile to path, for the benchmarks under
// bench/ (see bench/README.md); an empty path profiles nothing.
func startProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "recoverctl: RECOVERCTL_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

const exitCodesHelp = `Exit codes, the same for every command:

  0  success: every record decoded, every write verified
  1  an error not listed below
  2  bad flags or arguments
  3  the command ran, but some records could not be decoded (they are listed)
  4  the store could not be reached (ZooKeeper down, directory missing)
  5  an archive is damaged, truncated or not an archive (verify, restore)
  6  refused to write: a live Master holds the store (--force overrides),
     another recoverctl is writing to it, or records differ (--overwrite)
  7  audit flagged something: gadget or foreign classes, open ACLs or
     modes, duplicates, records a --target-spark Master would drop
  8  diff found records that differ or exist on one side only`

// exactArgs is cobra.ExactArgs whose complaint is a usage error (exit 2)
// saying what is missing.
func exactArgs(n int, want string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s (got %d arguments)", want, len(args))}
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs as a usage error saying what is missing.
func minArgs(n int, want string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError{fmt.Errorf("%s (got %d arguments)", want, len(args))}
		}
		return nil
	}
}

// usageError marks errors caused by how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	// Errors name records, files and addresses from the data: escaped like
	// everything else printed for a person.
	fmt.Fprintln(os.Stderr, "recoverctl:", termText(err.Error()))
	var ue usageError
	var pe partialError
	var fe findingsError
	var de diffError
	var tr targetRefusal
	switch {
	case errors.As(err, &de):
		return exitDiffers
	case errors.As(err, &fe), errors.As(err, &tr):
		return exitFindings
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &pe):
		return exitUndecodable
	case errors.Is(err, store.ErrUnavailable):
		return exitUnavailable
	}
	return archiveExitCode(err)
}

// archiveExitCode maps the errors of backup, verify and restore.
func archiveExitCode(err error) int {
	switch {
	case errors.Is(err, backup.ErrDamaged):
		return exitDamaged
	case errors.Is(err, livemaster.ErrLiveMaster), errors.Is(err, store.ErrLocked), errors.Is(err, plan.ErrConflict):
		return exitRefused
	}
	return exitFailure
}
