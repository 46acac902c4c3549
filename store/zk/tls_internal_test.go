package zk

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const seedDir = "testdata/tls"

// Every store the tools wrote holds the same client certificate, which
// the CA of ca.pem signed.
func TestKeyStoreFiles(t *testing.T) {
	caPEM, err := os.ReadFile(filepath.Join(seedDir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var leaves []*x509.Certificate
	for _, ks := range []KeyStore{
		{Location: filepath.Join(seedDir, "client-keystore.pem")},
		{Location: filepath.Join(seedDir, "client.p12"), Password: "secret"},
		{Location: filepath.Join(seedDir, "client.jks"), Password: "secret"},
	} {
		pair, err := loadKeyPair(ks)
		if err != nil {
			t.Fatalf("%s: %v", ks.Location, err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := leaf.CheckSignatureFrom(ca); err != nil {
			t.Errorf("%s: leaf not signed by ca.pem: %v", ks.Location, err)
		}
		leaves = append(leaves, leaf)
	}
	for i := range leaves[1:] {
		if !bytes.Equal(leaves[0].Raw, leaves[i+1].Raw) {
			t.Errorf("store %d holds another certificate than the PEM one", i+1)
		}
	}
	for _, ks := range []KeyStore{
		{Location: filepath.Join(seedDir, "trust.p12"), Password: "secret"},
		{Location: filepath.Join(seedDir, "client.jks"), Password: "secret"},
		{Location: filepath.Join(seedDir, "ca.pem")},
	} {
		pool, err := loadRoots(ks)
		if err != nil {
			t.Fatalf("%s: %v", ks.Location, err)
		}
		_, err = leaves[0].Verify(x509.VerifyOptions{Roots: pool, CurrentTime: leaves[0].NotBefore.Add(time.Minute),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil {
			t.Errorf("%s does not trust the CA: %v", ks.Location, err)
		}
	}
	if _, err := loadKeyPair(KeyStore{Location: filepath.Join(seedDir, "README.md")}); err == nil || !strings.Contains(err.Error(), "no type given") {
		t.Errorf("a file of no known type: %v", err)
	}
}

func TestJavaClientTLSPasswordPath(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, secure, warnings, err := JavaClientTLS(map[string]string{
		"zookeeper.ssl.keyStore.location":     filepath.Join(seedDir, "client.p12"),
		"zookeeper.ssl.keyStore.passwordPath": pw,
	})
	if err != nil || secure || files.KeyStore.Password != "secret" || len(warnings) != 1 {
		t.Fatalf("%+v, secure %v, warnings %q, %v", files, secure, warnings, err)
	}
	if _, err := files.Config(); err != nil {
		t.Fatal(err)
	}
}

// Stores are parsed by libraries from whatever file an operator names:
// none may panic or take more than the file.
func FuzzKeyStore(f *testing.F) {
	des, err := os.ReadDir(seedDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, de := range des {
		data, err := os.ReadFile(filepath.Join(seedDir, de.Name()))
		if err != nil {
			f.Fatal(err)
		}
		for typ := range uint8(3) {
			f.Add(data, typ)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, typ uint8) {
		p := filepath.Join(dir, "store")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ks := KeyStore{Location: p, Password: "secret", Type: []string{"PEM", "PKCS12", "JKS"}[typ%3]}
		_, _ = loadKeyPair(ks)
		_, _ = loadRoots(ks)
	})
}
