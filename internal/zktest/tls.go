package zktest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const debianNettyCodec = "/usr/share/java/netty-codec.jar"

// TLSOptions configure a server that serves clients on secureClientPort
// only, through Netty, with certificates made for it.
type TLSOptions struct {
	// ClientAuth is ssl.clientAuth: "need" refuses a client without a
	// certificate the CA signed; "" is "none".
	ClientAuth string
}

// TLSMaterial is what a TLS server was given and what a client needs, as
// PEM files in the server's directory: one CA signs the server's and the
// client's certificates.
type TLSMaterial struct {
	CAFile string // the CA certificate
	// ServerKeyStore is the server's key and certificate in one PEM file
	// (ssl.keyStore.type=PEM).
	ServerKeyStore string
	ClientCert     string
	ClientKey      string
	// ClientKeyStore is the client's key and certificate in one PEM file,
	// as zookeeper.ssl.keyStore.location with type PEM takes it.
	ClientKeyStore string
	// Client dials the server with the client certificate.
	Client *tls.Config
}

// StartTLSServer is StartServer serving TLS only on its port.
func StartTLSServer(dir string, opt TLSOptions) (*Server, error) {
	rt, err := findRuntime()
	if err != nil {
		return nil, err
	}
	// Debian's zookeeper.jar lists the Netty jars its NIO server needs but
	// not netty-codec, which Netty's TLS handler is built on.
	if _, err := os.Stat(debianNettyCodec); err == nil && !strings.Contains(rt.classpath, "netty-codec") {
		rt.classpath += string(os.PathListSeparator) + debianNettyCodec
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("zktest: %w", err)
	}
	m, err := MakeTLSMaterial(dir)
	if err != nil {
		return nil, err
	}
	auth := opt.ClientAuth
	if auth == "" {
		auth = "none"
	}
	return startStandaloneWith(rt, dir, func(s *Server) {
		s.tlsMat = m
		// ZooKeeper reads PEM stores since 3.5.6; the properties could be
		// zoo.cfg lines too, but -D is what an operator's SERVER_JVMFLAGS has.
		s.jvmExtra = []string{
			"-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
			"-Dzookeeper.ssl.keyStore.location=" + m.ServerKeyStore,
			"-Dzookeeper.ssl.keyStore.type=PEM",
			"-Dzookeeper.ssl.trustStore.location=" + m.CAFile,
			"-Dzookeeper.ssl.trustStore.type=PEM",
			"-Dzookeeper.ssl.clientAuth=" + auth,
		}
	})
}

// TLS is the material of a server started with TLS, nil otherwise.
func (s *Server) TLS() *TLSMaterial { return s.tlsMat }

// MakeTLSMaterial makes a CA, a server certificate for 127.0.0.1 and
// localhost, and a client certificate, and writes them as PEM into dir.
func MakeTLSMaterial(dir string) (*TLSMaterial, error) {
	m, err := makeTLSMaterial(dir)
	if err != nil {
		return nil, fmt.Errorf("zktest: TLS material: %w", err)
	}
	return m, nil
}

func makeTLSMaterial(dir string) (*TLSMaterial, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "zktest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		pk, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), nil
	}
	srvCert, srvKey, err := leaf(2, "zktest server", x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	cliCert, cliKey, err := leaf(3, "zktest client", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	m := &TLSMaterial{
		CAFile:         filepath.Join(dir, "ca.pem"),
		ServerKeyStore: filepath.Join(dir, "server-keystore.pem"),
		ClientCert:     filepath.Join(dir, "client.pem"),
		ClientKey:      filepath.Join(dir, "client-key.pem"),
		ClientKeyStore: filepath.Join(dir, "client-keystore.pem"),
	}
	for path, data := range map[string][]byte{
		m.CAFile:         caPEM,
		m.ServerKeyStore: append(append([]byte{}, srvKey...), srvCert...),
		m.ClientCert:     cliCert,
		m.ClientKey:      cliKey,
		m.ClientKeyStore: append(append([]byte{}, cliKey...), cliCert...),
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	pair, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	m.Client = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return m, nil
}

// fourLetterTLS is FourLetterWord on a TLS port.
func fourLetterTLS(addr, cmd string, cfg *tls.Config, timeout time.Duration) ([]byte, error) {
	d := &net.Dialer{Timeout: timeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return nil, err
	}
	var out []byte
	buf := make([]byte, 4096)
	for len(out) < 1<<20 {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "EOF") || len(out) > 0 {
				return out, nil
			}
			return out, err
		}
	}
	return out, nil
}

// FourLetter sends a four-letter command to s, over TLS (with the client
// certificate) when s serves TLS.
func (s *Server) FourLetter(cmd string, timeout time.Duration) ([]byte, error) {
	if s.tlsMat != nil {
		return fourLetterTLS(s.Addr(), cmd, s.tlsMat.Client, timeout)
	}
	return FourLetterWord(s.Addr(), cmd, timeout)
}
