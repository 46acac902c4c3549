package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/codec/classes"
)

// Set by scripts/release.sh with -ldflags "-X main.version=v1.2.3 ...".
// version is the release version; commit and commitDate stand in for the
// build information's vcs.revision and vcs.time only where the toolchain
// recorded none (it does not stamp builds in a git worktree or from a
// source tarball). Everything else comes from the build information.
var (
	version    = ""
	commit     = ""
	commitDate = ""
)

// versionInfo is the data of `recoverctl version`, the -o json contract.
type versionInfo struct {
	Version       string   `json:"version"`
	Module        string   `json:"module"`
	ModuleVersion string   `json:"module_version"`
	Commit        string   `json:"commit"`
	Modified      bool     `json:"modified"`
	Date          string   `json:"date"` // the commit's time (vcs.time), so that a rebuild says the same
	Go            string   `json:"go"`
	Platform      string   `json:"platform"`
	CGO           bool     `json:"cgo"`
	SparkReleases []string `json:"spark_releases,omitempty"`
}

// readVersion reads info (debug.ReadBuildInfo's) and the values set at
// link time; the build information's VCS settings win over the linked
// commit and date, the linked release version wins, then the module version
// (v1.2.3 for `go install ...@v1.2.3`, a pseudo-version from the checkout
// for a local build), then "devel".
func readVersion(info *debug.BuildInfo, release, linkedCommit, linkedDate string) versionInfo {
	v := versionInfo{Version: release, Commit: "unknown", Date: "unknown", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if linkedCommit != "" {
		v.Commit = linkedCommit
	}
	if linkedDate != "" {
		v.Date = linkedDate
	}
	if info != nil {
		v.Module, v.ModuleVersion = info.Main.Path, info.Main.Version
		if info.GoVersion != "" {
			v.Go = info.GoVersion
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.Date = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			case "CGO_ENABLED":
				v.CGO = s.Value == "1"
			case "GOOS":
				v.Platform = s.Value + v.Platform[strings.IndexByte(v.Platform, '/'):]
			case "GOARCH":
				v.Platform = v.Platform[:strings.IndexByte(v.Platform, '/')+1] + s.Value
			}
		}
	}
	if v.Version == "" {
		v.Version = v.ModuleVersion
	}
	if v.Version == "" || v.Version == "(devel)" {
		v.Version = "devel"
	}
	return v
}

// buildVersion is the one-word version archives record.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return readVersion(info, version, commit, commitDate).Version
}

// fullVersion adds what the binary knows of Spark. The release list comes
// from the embedded class tables, asked for only here: printing a version
// must not cost every other command their loading.
func fullVersion() versionInfo {
	info, _ := debug.ReadBuildInfo()
	v := readVersion(info, version, commit, commitDate)
	v.SparkReleases = classes.Releases()
	return v
}

func writeVersionText(w io.Writer, v versionInfo) {
	rev := v.Commit
	if v.Modified {
		rev += " (modified)"
	}
	module := strings.TrimSpace(v.Module + " " + v.ModuleVersion)
	if module == "" {
		module = "unknown"
	}
	fmt.Fprintf(w, "recoverctl %s\n", v.Version)
	fmt.Fprintf(w, "  module:   %s\n", module)
	fmt.Fprintf(w, "  commit:   %s\n", rev)
	fmt.Fprintf(w, "  date:     %s\n", v.Date)
	fmt.Fprintf(w, "  go:       %s %s\n", v.Go, v.Platform)
	fmt.Fprintf(w, "  spark:    %s\n", strings.Join(v.SparkReleases, ", "))
}

func newVersionCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print recoverctl's version, commit, build and the Spark releases it knows",
		Long: `Print the release version, the module version, the commit and its date the
binary was built from, the Go toolchain, and the Spark releases whose class
layouts recoverctl carries (audit --target-spark, status's "written by").
Everything comes from the build's own information (Go's runtime/debug
build info). -o json and -o yaml carry the same fields.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			v := fullVersion()
			if format == outputTable {
				writeVersionText(cmd.OutOrStdout(), v)
				return nil
			}
			return writeData(cmd.OutOrStdout(), format, v)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table (text), json or yaml")
	return cmd
}
