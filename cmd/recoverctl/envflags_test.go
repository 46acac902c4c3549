package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// parsedWithEnv parses args for the subcommand name of a fresh root, then
// applies env the way the root's PersistentPreRunE does.
func parsedWithEnv(t *testing.T, env map[string]string, name string, args ...string) (*cobra.Command, error) {
	t.Helper()
	root := newRootCommand()
	cmd, _, err := root.Find([]string{name})
	if err != nil || cmd.Name() != name {
		t.Fatalf("no command %s: %v", name, err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return cmd, applyEnv(cmd.Flags(), func(k string) string { return env[k] })
}

func flagValue(t *testing.T, cmd *cobra.Command, name string) string {
	t.Helper()
	f := cmd.Flags().Lookup(name)
	if f == nil {
		t.Fatalf("%s has no --%s", cmd.Name(), name)
	}
	return f.Value.String()
}

func TestEnvPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		command string
		env     map[string]string
		args    []string
		want    map[string]string
	}{
		{"env beats default", "ls", map[string]string{"RECOVERCTL_TIMEOUT": "3s", "RECOVERCTL_ZK_MULTIREAD": "false", "RECOVERCTL_ZK_DIR": "/prod"},
			nil, map[string]string{"timeout": "3s", "zk-multiread": "false", "zk-dir": "/prod"}},
		{"flag beats env", "status", map[string]string{"RECOVERCTL_TIMEOUT": "3s", "RECOVERCTL_ZK": "env:2181"},
			[]string{"--timeout", "5s", "--zk", "flag:2181"}, map[string]string{"timeout": "5s", "zk": "flag:2181"}},
		{"no env, no flag: default", "backup", nil, nil, map[string]string{"timeout": "10s", "zk": "", "zk-multiread": "true"}},
		{"a store flag ignores the environment's other store", "audit", map[string]string{"RECOVERCTL_ZK": "env:2181", "RECOVERCTL_SPARK_CONF": "/etc/spark"},
			[]string{"--fs", "/var/spark"}, map[string]string{"fs": "/var/spark", "zk": "", "spark-conf": ""}},
		{"store from env", "prune", map[string]string{"RECOVERCTL_FS": "/var/spark", "RECOVERCTL_CODEC": "lz4", "RECOVERCTL_ZK_AUTH": "u:p"},
			nil, map[string]string{"fs": "/var/spark", "codec": "lz4", "zk-auth": "u:p"}},
		{"migrate: env", "migrate", map[string]string{"RECOVERCTL_FROM": "fs:///a", "RECOVERCTL_TO": "zk://h:2181", "RECOVERCTL_TIMEOUT": "2s"},
			nil, map[string]string{"from": "fs:///a", "to": "zk://h:2181", "timeout": "2s"}},
		{"backup's --to is an archive, not migrate's target", "backup", map[string]string{"RECOVERCTL_TO": "zk://h:2181"},
			nil, map[string]string{"to": ""}},
		{"migrate: --to-spark-conf beats RECOVERCTL_TO", "migrate", map[string]string{"RECOVERCTL_FROM": "fs:///a", "RECOVERCTL_TO": "zk://h:2181"},
			[]string{"--to-spark-conf", "/etc/spark"}, map[string]string{"from": "fs:///a", "to": "", "to-spark-conf": "/etc/spark"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := parsedWithEnv(t, tc.env, tc.command, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				if got := flagValue(t, cmd, k); got != want {
					t.Errorf("--%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestEnvInvalidValueIsUsageError(t *testing.T) {
	for _, v := range []struct{ name, value string }{{"RECOVERCTL_TIMEOUT", "soon"}, {"RECOVERCTL_ZK_MULTIREAD", "perhaps"}} {
		t.Setenv(v.name, v.value)
		_, stderr, code := runRoot(t, "ls", "--fs", goldenCapture)
		if code != exitUsage || !strings.Contains(stderr, "$"+v.name) || !strings.Contains(stderr, v.value) {
			t.Errorf("%s=%s: exit %d, stderr %q; want %d naming the variable and its value", v.name, v.value, code, stderr, exitUsage)
		}
		t.Setenv(v.name, "")
	}
}

func TestEnvNamesAStoreForARealCommand(t *testing.T) {
	// RECOVERCTL_FS alone names the store; a dead RECOVERCTL_ZK is ignored
	// once --fs is given, and a bad RECOVERCTL_FS is beaten by --fs.
	t.Setenv("RECOVERCTL_FS", goldenCapture)
	if out, stderr, code := runRoot(t, "status"); code != exitOK || !strings.Contains(out, "2 apps") {
		t.Fatalf("status with RECOVERCTL_FS: exit %d, %s %s", code, out, stderr)
	}
	t.Setenv("RECOVERCTL_FS", "/nonexistent/recovery")
	t.Setenv("RECOVERCTL_ZK", "127.0.0.1:1")
	if out, stderr, code := runRoot(t, "status", "--fs", goldenCapture); code != exitOK || !strings.Contains(out, "2 apps") {
		t.Fatalf("status --fs beside RECOVERCTL_FS and RECOVERCTL_ZK: exit %d, %s %s", code, out, stderr)
	}
}

func TestEveryStoreFlagNamesItsVariableInHelp(t *testing.T) {
	root := newRootCommand()
	seen := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for name, e := range envFlags {
			if f := c.Flags().Lookup(name); f != nil {
				if e.command != "" && e.command != c.Name() {
					if strings.Contains(f.Usage, "(env ") {
						t.Errorf("%s --%s names a variable that is migrate's: %q", c.Name(), name, f.Usage)
					}
					continue
				}
				seen[name] = true
				if want := "(env " + envName(name) + ")"; strings.Count(f.Usage, want) != 1 || strings.Contains(f.Usage, "(or $") {
					t.Errorf("%s --%s usage %q: want %s once", c.Name(), name, f.Usage, want)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for name := range envFlags {
		if !seen[name] {
			t.Errorf("no command has --%s", name)
		}
	}
	if envName("spark-conf") != "RECOVERCTL_SPARK_CONF" || envName("zk-dir") != "RECOVERCTL_ZK_DIR" {
		t.Errorf("envName: %s %s", envName("spark-conf"), envName("zk-dir"))
	}
}
