package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envFlags are the flags that also read RECOVERCTL_<FLAG> (etcdctl's
// convention), so that a cron line or a CronJob names its store once in
// the environment. Each belongs to a group of flags that name the same
// thing in different ways: a group given on the command line ignores the
// environment for all its members, so that `--fs DIR` wins over
// RECOVERCTL_ZK instead of clashing with it. A flag with a command is
// bound on that command only: backup's --to names an archive, not
// migrate's target store.
var envFlags = map[string]struct{ group, command string }{
	"fs":              {"store", ""},
	"zk":              {"store", ""},
	"spark-conf":      {"store", ""},
	"zk-dir":          {"zk-dir", ""},
	"zk-auth":         {"zk-auth", ""},
	"codec":           {"codec", ""},
	"timeout":         {"timeout", ""},
	"zk-multiread":    {"zk-multiread", ""},
	"zk-tls":          {"zk-tls", ""},
	"zk-ca":           {"zk-ca", ""},
	"zk-cert":         {"zk-cert", ""}, // a pair: one given ignores both variables
	"zk-key":          {"zk-cert", ""},
	"from":            {"from", "migrate"},
	"from-spark-conf": {"from", "migrate"},
	"to":              {"to", "migrate"},
	"to-spark-conf":   {"to", "migrate"},
}

const envAnnotation = "recoverctl_env"

// envName is the variable a flag reads: RECOVERCTL_ZK_DIR for --zk-dir.
func envName(flag string) string {
	return "RECOVERCTL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv marks the envFlags of cmd and of every command under it, and
// says so in their help; applyEnv reads the variables when a command runs.
func bindEnv(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if e, ok := envFlags[f.Name]; !ok || (e.command != "" && e.command != cmd.Name()) {
			return
		}
		v := envName(f.Name)
		if f.Annotations == nil {
			f.Annotations = map[string][]string{}
		}
		f.Annotations[envAnnotation] = []string{v}
		if old := "(or $" + v + ")"; strings.Contains(f.Usage, old) {
			f.Usage = strings.Replace(f.Usage, old, "(env "+v+")", 1)
		} else {
			f.Usage += " (env " + v + ")"
		}
	})
	for _, c := range cmd.Commands() {
		bindEnv(c)
	}
}

// applyEnv sets every bound flag not given on the command line, nor any
// flag of its group, from its variable. A value the flag refuses is a
// usage error naming the variable.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) {
		if e, ok := envFlags[f.Name]; ok {
			given[e.group] = true
		}
	})
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		vars := f.Annotations[envAnnotation]
		if err != nil || len(vars) == 0 || f.Changed || given[envFlags[f.Name].group] {
			return
		}
		val := getenv(vars[0])
		if val == "" {
			return
		}
		if serr := fs.Set(f.Name, val); serr != nil {
			err = usageError{fmt.Errorf("$%s: invalid value %q for --%s: %w", vars[0], val, f.Name, serr)}
		}
	})
	return err
}
