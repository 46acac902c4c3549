package main

import (
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..."; a plain
// `go build` falls back to the module version or VCS revision.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "recoverctl",
		Short: "Inspect, back up, migrate and prune Spark standalone recovery state",
		Long: `recoverctl reads the state a Spark standalone Master persists for recovery
(spark.deploy.recoveryMode FILESYSTEM, ZOOKEEPER or ROCKSDB) without a JVM and
without running any code from the data it reads. A ROCKSDB store is only read:
writing one is not supported yet.`,
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		&cobra.Command{Use: "exit-codes", Short: "What recoverctl's exit codes mean", Long: exitCodesHelp},
		newLsCommand(),
		newShowCommand(),
		newStatusCommand(),
		newBackupCommand(),
		newVerifyCommand(),
		newRestoreCommand(),
		newAuditCommand(),
		newMigrateCommand(),
		newPruneCommand(),
	)
	return root
}
