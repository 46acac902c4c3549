package main

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/sparkconf"
	"github.com/recoverctl/recoverctl/store/zk"
)

// lsSame checks that ls of a ZooKeeper store decodes what ls of the
// directory its records came from does.
func lsSame(t *testing.T, want map[string]any, args ...string) string {
	t.Helper()
	doc, stderr, code := lsJSON(t, append(args, "-v")...)
	if code != exitOK {
		t.Fatalf("ls %v: exit %d: %s", args, code, stderr)
	}
	if strings.Contains(stderr, "multiRead failed") {
		t.Errorf("ls %v read without multiRead: %s", args, stderr)
	}
	delete(doc, "store")
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("ls %v differs from ls of the directory", args)
	}
	return stderr
}

// A ZooKeeper serving TLS only and requiring client certificates: migrate,
// ls, backup and restore get through with PEM flags, with RECOVERCTL_*
// variables and with the Master's -Dzookeeper.* properties; without a
// client certificate or a CA the command fails saying why.
func TestZooKeeperTLS(t *testing.T) {
	srv := zktest.StartTLS(t, zktest.TLSOptions{ClientAuth: "need"})
	m := srv.TLS()
	dir, _ := filepath.Abs(captureRecordDirs(t)[0])
	orig := readDirRecords(t, dir)
	want, stderr, code := lsJSON(t, "--fs", dir)
	if code != exitOK {
		t.Fatalf("ls --fs: exit %d: %s", code, stderr)
	}
	delete(want, "store")
	pem := []string{"--zk-ca", m.CAFile, "--zk-cert", m.ClientCert, "--zk-key", m.ClientKey}

	zkAddr := srv.Addr() + "/tls"
	args := append([]string{"migrate", "--from", "fs://" + dir, "--to", "zk://" + zkAddr, "--yes"}, pem...)
	if _, stderr, code := runCLI(t, args...); code != exitOK {
		t.Fatalf("migrate into ZooKeeper over TLS: exit %d: %s", code, stderr)
	}
	cfg, err := zk.TLSFiles{CAFile: m.CAFile, CertFile: m.ClientCert, KeyFile: m.ClientKey}.Config()
	if err != nil {
		t.Fatal(err)
	}
	s, err := zk.Open(context.Background(), zk.Options{Servers: zkAddr, TLS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sameRecords(t, "fs -> zk over TLS", readZK(t, s), orig)

	lsSame(t, want, append([]string{"--zk", zkAddr}, pem...)...)

	out := t.TempDir()
	b := backupTo(t, append([]string{"--zk", zkAddr, "--to", out + "/"}, pem...)...)
	if b.Records != len(orig) {
		t.Fatalf("backup over TLS: %d records, want %d", b.Records, len(orig))
	}
	restored := srv.Addr() + "/restored"
	if _, stderr, code := runCLI(t, append([]string{"restore", b.Archive, "--zk", restored, "--yes"}, pem...)...); code != exitOK {
		t.Fatalf("restore over TLS: exit %d: %s", code, stderr)
	}
	lsSame(t, want, append([]string{"--zk", restored}, pem...)...)

	back := t.TempDir()
	args = append([]string{"migrate", "--from", "zk://" + zkAddr, "--to", "fs://" + back, "--yes"}, pem...)
	if _, stderr, code := runCLI(t, args...); code != exitOK {
		t.Fatalf("migrate out of ZooKeeper over TLS: exit %d: %s", code, stderr)
	}
	sameRecords(t, "zk over TLS -> fs", readDirRecords(t, back), orig)

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--zk-ca", m.CAFile}, "wants a client certificate"},
			{nil, "client without TLS"},
			{[]string{"--zk-tls", "--zk-cert", m.ClientCert, "--zk-key", m.ClientKey}, "unknown authority"},
			{[]string{"--zk-tls=false", "--zk-ca", m.CAFile}, "give one or the other"},
			{[]string{"--zk-cert", m.ClientCert}, "go together"},
		} {
			_, stderr, code := runCLI(t, append([]string{"ls", "--zk", zkAddr, "--timeout", "3s"}, c.args...)...)
			if code == exitOK || !strings.Contains(stderr, c.want) {
				t.Errorf("ls %v: exit %d, %q; want a failure saying %q", c.args, code, stderr, c.want)
			}
		}
	})

	t.Run("environment", func(t *testing.T) {
		t.Setenv("RECOVERCTL_ZK", zkAddr)
		t.Setenv("RECOVERCTL_ZK_CA", m.CAFile)
		t.Setenv("RECOVERCTL_ZK_CERT", m.ClientCert)
		t.Setenv("RECOVERCTL_ZK_KEY", m.ClientKey)
		lsSame(t, want)
		// A flag wins over its variable: a CA that signed nothing here.
		other, err := zktest.MakeTLSMaterial(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := runCLI(t, "ls", "--zk-ca", other.CAFile, "--timeout", "3s"); code == exitOK || !strings.Contains(stderr, "unknown authority") {
			t.Errorf("--zk-ca over $RECOVERCTL_ZK_CA: exit %d: %s", code, stderr)
		}
	})

	t.Run("spark-conf", func(t *testing.T) {
		other, err := zktest.MakeTLSMaterial(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		env := func(trust string) string {
			return fmt.Sprintf(`SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=%s`+
				` -Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty`+
				` -Dzookeeper.ssl.keyStore.location=%s -Dzookeeper.ssl.keyStore.type=PEM`+
				` -Dzookeeper.ssl.trustStore.location=%s -Dzookeeper.ssl.trustStore.type=PEM -Dzookeeper.ssl.hostnameVerification=true"`+"\n",
				zkAddr, m.ClientKeyStore, trust)
		}
		stderr := lsSame(t, want, "--spark-conf", writeConf(t, env(m.CAFile), ""))
		if !strings.Contains(stderr, "zookeeper.ssl.keyStore.location="+m.ClientKeyStore) {
			t.Errorf("-v does not say which client properties were used: %s", stderr)
		}
		wrong := writeConf(t, env(other.CAFile), "")
		if _, stderr, code := runCLI(t, "ls", "--spark-conf", wrong, "--timeout", "3s"); code == exitOK || !strings.Contains(stderr, "unknown authority") {
			t.Errorf("a trust store without the server's CA: exit %d: %s", code, stderr)
		}
		// --zk-ca wins over the conf's trust store, and --zk with
		// --spark-conf still takes the conf's client properties.
		lsSame(t, want, "--spark-conf", wrong, "--zk-ca", m.CAFile)
		lsSame(t, want, "--spark-conf", wrong, "--zk", zkAddr, "--zk-ca", m.CAFile)
		// --zk-tls=false wins over zookeeper.client.secure=true.
		if _, stderr, code := runCLI(t, "ls", "--spark-conf", wrong, "--zk-tls=false", "--timeout", "3s"); code == exitOK || !strings.Contains(stderr, "client without TLS") {
			t.Errorf("--zk-tls=false: exit %d: %s", code, stderr)
		}
	})
}

// The Java client's properties as SPARK_DAEMON_JAVA_OPTS carries them.
func TestZooKeeperTLSFromSparkConf(t *testing.T) {
	conf := writeConf(t, `SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=zk1:2281`+
		` -Dzookeeper.client.secure=true -Dzookeeper.ssl.keyStore.location=/etc/zk/client.p12 -Dzookeeper.ssl.keyStore.password='s3cret word'`+
		` -Dzookeeper.ssl.trustStore.location=/etc/zk/trust.jks -Dzookeeper.ssl.trustStore.type=JKS -Dzookeeper.ssl.trustStore.password=changeit -Dzookeeper.ssl.hostnameVerification=false"`+"\n", "")
	c, err := sparkconf.Load(conf, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	props := map[string]string{}
	for _, s := range c.Recovery().ZooKeeperAuth {
		props[s.Key] = s.Value
	}
	files, secure, warnings, err := zk.JavaClientTLS(props)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := zk.TLSFiles{
		KeyStore:               zk.KeyStore{Location: "/etc/zk/client.p12", Password: "s3cret word"},
		TrustStore:             zk.KeyStore{Location: "/etc/zk/trust.jks", Password: "changeit", Type: "JKS"},
		NoHostnameVerification: true,
	}
	if !secure || files != wantFiles {
		t.Errorf("secure %v, %+v; want true, %+v", secure, files, wantFiles)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "ClientCnxnSocketNetty") {
		t.Errorf("warnings %q: want one saying the Java client needs Netty for TLS", warnings)
	}
}
