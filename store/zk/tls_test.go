package zk_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/zk"
)

func tlsConfig(t *testing.T, f zk.TLSFiles) zk.Options {
	t.Helper()
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	return zk.Options{TLS: cfg}
}

// received is the server's own count of requests, asked over TLS.
func received(t *testing.T, srv *zktest.Server) int {
	t.Helper()
	out, err := srv.FourLetter("srvr", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Received: (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no Received count in srvr: %s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// A server serving TLS only, requiring client certificates: the session
// and the multiRead session both get through with the PEM files, and a
// client without a certificate, or without TLS, is refused with a reason.
func TestTLSClientAuthNeed(t *testing.T) {
	t.Parallel()
	srv := zktest.StartTLS(t, zktest.TLSOptions{ClientAuth: "need"})
	m := srv.TLS()

	opts := tlsConfig(t, zk.TLSFiles{CAFile: m.CAFile, CertFile: m.ClientCert, KeyFile: m.ClientKey})
	opts.Servers, opts.SparkDir = srv.Addr()+"/tls", unique("tls")
	s := open(t, opts)
	want := writeRecords(t, s, 400)
	before := received(t, srv)
	readsAll(t, s, want)
	if err := s.MultiReadFailed(); err != nil {
		t.Fatalf("multiRead through TLS fell back: %v", err)
	}
	if n := received(t, srv) - before; n > len(want)/10 {
		t.Errorf("the server received %d requests for %d records: multiRead did not serve them", n, len(want))
	}

	// ZooKeeper's own PEM key store (key and chain in one file) works too.
	opts2 := tlsConfig(t, zk.TLSFiles{TrustStore: zk.KeyStore{Location: m.CAFile, Type: "PEM"},
		KeyStore: zk.KeyStore{Location: m.ClientKeyStore, Type: "pem"}})
	opts2.Servers, opts2.SparkDir = opts.Servers, opts.SparkDir
	readsAll(t, open(t, opts2), want)

	refused := []struct {
		name string
		opts zk.Options
		want string
	}{
		{"no client certificate", tlsConfig(t, zk.TLSFiles{CAFile: m.CAFile}), "wants a client certificate"},
		{"no TLS", zk.Options{}, "client without TLS"},
		{"another CA", tlsConfig(t, zk.TLSFiles{CAFile: zktestCA(t)}), "unknown authority"},
	}
	for _, c := range refused {
		c.opts.Servers, c.opts.ConnectTimeout = srv.Addr(), 3*time.Second
		st, err := zk.Open(t.Context(), c.opts)
		if err == nil {
			st.Close()
			t.Errorf("%s: connected", c.name)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want ErrUnavailable saying %q", c.name, err, c.want)
		}
	}
}

// zktestCA is a CA that signed nothing the server has.
func zktestCA(t *testing.T) string {
	m, err := zktest.MakeTLSMaterial(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return m.CAFile
}

// The server's certificate names 127.0.0.1 and localhost: another name is
// refused unless hostname verification is off, as
// zookeeper.ssl.hostnameVerification=false turns it off in Java.
func TestTLSHostnameVerification(t *testing.T) {
	t.Parallel()
	srv := zktest.StartTLS(t, zktest.TLSOptions{})
	m := srv.TLS()
	opts := tlsConfig(t, zk.TLSFiles{CAFile: m.CAFile})
	opts.TLS.ServerName = "zk.example"
	opts.Servers, opts.ConnectTimeout = srv.Addr(), 3*time.Second
	if st, err := zk.Open(t.Context(), opts); err == nil {
		st.Close()
		t.Fatal("connected to a server whose certificate does not name zk.example")
	} else if !strings.Contains(err.Error(), "zk.example") {
		t.Errorf("refused, but the error does not say why: %v", err)
	}
	opts = tlsConfig(t, zk.TLSFiles{CAFile: m.CAFile, NoHostnameVerification: true})
	opts.TLS.ServerName = "zk.example"
	opts.Servers = srv.Addr()
	s := open(t, opts)
	if _, err := s.List(t.Context()); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
}

// Key and trust stores as Java tools write them: PKCS#12 from openssl and
// keytool, JKS from keytool.
func TestTLSJavaStores(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"openssl", "keytool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to make the stores: %v", tool, err)
		}
	}
	srv := zktest.StartTLS(t, zktest.TLSOptions{ClientAuth: "need"})
	m := srv.TLS()
	dir := t.TempDir()
	p12, jks := filepath.Join(dir, "client.p12"), filepath.Join(dir, "client.jks")
	trustP12, trustJKS := filepath.Join(dir, "trust.p12"), filepath.Join(dir, "trust.jks")
	run := func(name string, args ...string) {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("openssl", "pkcs12", "-export", "-in", m.ClientCert, "-inkey", m.ClientKey, "-certfile", m.CAFile,
		"-name", "client", "-out", p12, "-passout", "pass:secret")
	run("keytool", "-importkeystore", "-noprompt", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", "secret",
		"-destkeystore", jks, "-deststoretype", "JKS", "-deststorepass", "secret")
	for store, typ := range map[string]string{trustP12: "PKCS12", trustJKS: "JKS"} {
		run("keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", m.CAFile,
			"-keystore", store, "-storetype", typ, "-storepass", "secret")
	}
	for _, c := range []struct{ key, trust zk.KeyStore }{
		{zk.KeyStore{Location: p12, Password: "secret", Type: "PKCS12"}, zk.KeyStore{Location: trustP12, Password: "secret", Type: "PKCS12"}},
		{zk.KeyStore{Location: jks, Password: "secret"}, zk.KeyStore{Location: trustJKS, Password: "secret"}},
		{zk.KeyStore{Location: p12, Password: "secret"}, zk.KeyStore{Location: trustJKS, Password: "secret", Type: "jks"}},
	} {
		opts := tlsConfig(t, zk.TLSFiles{KeyStore: c.key, TrustStore: c.trust})
		opts.Servers = srv.Addr()
		s := open(t, opts)
		if _, err := s.List(t.Context()); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s with %s: %v", c.key.Location, c.trust.Location, err)
		}
	}
	for _, ks := range []zk.KeyStore{
		{Location: p12, Password: "wrong"},
		{Location: jks, Password: "wrong"},
		{Location: m.CAFile, Type: "PEM"},
		{Location: p12, Password: "secret", Type: "BCFKS"},
	} {
		if _, err := (zk.TLSFiles{KeyStore: ks}).Config(); !errors.Is(err, zk.ErrTLSConfig) {
			t.Errorf("key store %+v: %v, want ErrTLSConfig", ks, err)
		}
	}
}
