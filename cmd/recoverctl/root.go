package main

import (
	"os"

	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "recoverctl",
		Short: "Inspect, back up, migrate and prune Spark standalone recovery state",
		Long: `recoverctl reads the state a Spark standalone Master persists for recovery
(spark.deploy.recoveryMode FILESYSTEM, ZOOKEEPER or ROCKSDB) without a JVM and
without running any code from the data it reads.

The flags that name a store (--fs, --zk, --zk-dir, --zk-auth, --spark-conf,
--codec, --timeout, --zk-multiread, and migrate's --from, --to,
--from-spark-conf, --to-spark-conf) also read RECOVERCTL_<FLAG>, upper case
with dashes as underscores (RECOVERCTL_ZK, RECOVERCTL_ZK_DIR). A flag given
on the command line wins over the environment, and one of --fs, --zk and
--spark-conf given ignores the environment's values for all three.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// --version is recoverctl's own flag rather than cobra's, so that the
	// Spark releases it lists are looked up only when it is given.
	showVersion := root.Flags().Bool("version", false, "print the version, as the version command does")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if *showVersion {
			writeVersionText(cmd.OutOrStdout(), fullVersion())
			return nil
		}
		return cmd.Help()
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
		newDiffCommand(),
		newVersionCommand(),
	)
	addReleaseCommands(root)
	bindEnv(root)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return applyEnv(cmd.Flags(), os.Getenv)
	}
	return root
}
