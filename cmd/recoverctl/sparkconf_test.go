package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/internal/zktest"
)

func writeConf(t *testing.T, sparkEnv, defaults string) string {
	t.Helper()
	dir := t.TempDir()
	if sparkEnv != "" {
		if err := os.WriteFile(filepath.Join(dir, "spark-env.sh"), []byte(sparkEnv), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if defaults != "" {
		if err := os.WriteFile(filepath.Join(dir, "spark-defaults.conf"), []byte(defaults), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The spark-env.sh forms Spark's standalone documentation shows.
func TestLsFindsStoreFromSparkConf(t *testing.T) {
	var fsCap, zkCap *capture
	for _, c := range captures(t) {
		if !c.decoding {
			continue
		}
		if fsCap == nil && c.znodes == "" {
			fsCap = &c
		}
		if zkCap == nil && c.znodes != "" {
			zkCap = &c
		}
	}
	if fsCap == nil || zkCap == nil {
		t.Fatal("need a FILESYSTEM and a ZOOKEEPER capture")
	}
	abs, _ := filepath.Abs(fsCap.records)

	t.Run("FILESYSTEM", func(t *testing.T) {
		conf := writeConf(t, fmt.Sprintf("export SPARK_DAEMON_JAVA_OPTS=\"-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=%s\"\n", abs), "")
		doc, stderr, code := lsJSON(t, "--spark-conf", conf, "-v")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, "spark-env.sh") || !strings.Contains(stderr, abs) {
			t.Errorf("-v should say where the store came from: %s", stderr)
		}
		compareWithMaster(t, *fsCap, doc)
	})

	t.Run("ZOOKEEPER", func(t *testing.T) {
		srv := zktest.Start(t)
		dump, err := zktest.ReadDump(zkCap.znodes)
		if err != nil {
			t.Fatal(err)
		}
		if err := zktest.LoadDump(t.Context(), srv.Addr(), dump, ""); err != nil {
			t.Fatal(err)
		}
		conf := writeConf(t, fmt.Sprintf(`SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=%s"
SPARK_DAEMON_JAVA_OPTS="$SPARK_DAEMON_JAVA_OPTS -Dspark.deploy.zookeeper.dir=%s"
`, srv.Addr(), dump.SparkDir), "")
		doc, stderr, code := lsJSON(t, "--spark-conf", conf)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		compareWithMaster(t, *zkCap, doc)
	})

	t.Run("precedence", func(t *testing.T) {
		// spark-defaults.conf only fills what no -D option set, and
		// SPARK_MASTER_OPTS comes after SPARK_DAEMON_JAVA_OPTS on the
		// Master's command line, so its -D wins.
		conf := writeConf(t,
			fmt.Sprintf("SPARK_DAEMON_JAVA_OPTS=\"-Dspark.deploy.recoveryDirectory=/nonexistent/daemon\"\nSPARK_MASTER_OPTS=\"-Dspark.deploy.recoveryDirectory=%s\"\n", abs),
			"spark.deploy.recoveryMode FILESYSTEM\nspark.deploy.recoveryDirectory /nonexistent/defaults\n")
		_, stderr, code := lsJSON(t, "--spark-conf", conf, "-v")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		// An explicit flag beats the configuration.
		_, _, code = runRoot(t, "ls", "--spark-conf", conf, "--fs", "/nonexistent/flag")
		if code != exitUnavailable {
			t.Errorf("--fs should override --spark-conf: exit %d, want %d", code, exitUnavailable)
		}
	})

	t.Run("SPARK_CONF_DIR", func(t *testing.T) {
		conf := writeConf(t, "", fmt.Sprintf("spark.deploy.recoveryMode=FILESYSTEM\nspark.deploy.recoveryDirectory=%s\n", abs))
		t.Setenv("SPARK_CONF_DIR", conf)
		_, stderr, code := lsJSON(t)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}
