package zk

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// ErrTLSConfig is a TLS setting that cannot be used: a missing or
// unreadable file, a wrong password, a store type we do not read.
var ErrTLSConfig = errors.New("invalid ZooKeeper TLS settings")

// maxStoreFile bounds a key or trust store read from disk: real ones are
// a few kilobytes, and a wrong path (a log, a device) must not be read whole.
const maxStoreFile = 4 << 20

// KeyStore is a Java-style key or trust store as ZooKeeper's client
// properties name one: zookeeper.ssl.keyStore.location, .password, .type.
type KeyStore struct {
	Location string
	Password string
	// Type is PEM, PKCS12 or JKS (case-insensitive); empty means from the
	// file name's extension (.pem, .crt, .p12, .pkcs12, .pfx, .jks), as
	// ZooKeeper's X509Util does.
	Type string
}

// TLSFiles are the client TLS settings as an operator has them: PEM files
// (CAFile, CertFile, KeyFile) or ZooKeeper's Java stores. PEM files win
// over the store of the same role.
type TLSFiles struct {
	CAFile     string
	CertFile   string
	KeyFile    string
	KeyStore   KeyStore
	TrustStore KeyStore
	// NoHostnameVerification checks the server's chain but not that it
	// names the host dialled (zookeeper.ssl.hostnameVerification=false).
	NoHostnameVerification bool
}

// Config builds the tls.Config that Options.TLS takes. With no CA the
// system's roots are used.
func (f TLSFiles) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	var err error
	switch {
	case f.CAFile != "":
		cfg.RootCAs, err = loadRoots(KeyStore{Location: f.CAFile, Type: "PEM"})
	case f.TrustStore.Location != "":
		cfg.RootCAs, err = loadRoots(f.TrustStore)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case f.CertFile != "" || f.KeyFile != "":
		if f.CertFile == "" || f.KeyFile == "" {
			return nil, fmt.Errorf("%w: a client certificate needs both the certificate and the key file", ErrTLSConfig)
		}
		pair, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate %s, key %s: %w", ErrTLSConfig, f.CertFile, f.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case f.KeyStore.Location != "":
		pair, err := loadKeyPair(f.KeyStore)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if f.NoHostnameVerification {
		skipHostname(cfg)
	}
	return cfg, nil
}

// skipHostname keeps chain verification but drops the name check, which
// crypto/tls can only do by verifying the chain itself.
func skipHostname(cfg *tls.Config) {
	roots := cfg.RootCAs
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		return err
	}
}

func storeType(ks KeyStore) string {
	if ks.Type != "" {
		return strings.ToUpper(ks.Type)
	}
	lower := strings.ToLower(ks.Location)
	switch {
	case strings.HasSuffix(lower, ".pem"), strings.HasSuffix(lower, ".crt"):
		return "PEM"
	case strings.HasSuffix(lower, ".p12"), strings.HasSuffix(lower, ".pkcs12"), strings.HasSuffix(lower, ".pfx"):
		return "PKCS12"
	case strings.HasSuffix(lower, ".jks"):
		return "JKS"
	}
	return ""
}

func badType(t string) string {
	if t == "" {
		return "no type given and none told by the file name's extension: set PEM, PKCS12 or JKS"
	}
	return fmt.Sprintf("type %q: recoverctl reads PEM, PKCS12 and JKS", t)
}

func readStore(what string, ks KeyStore) ([]byte, error) {
	f, err := os.Open(ks.Location)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTLSConfig, what, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStoreFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", ErrTLSConfig, what, ks.Location, err)
	}
	if len(data) > maxStoreFile {
		return nil, fmt.Errorf("%w: %s %s: larger than %d bytes, not a key store", ErrTLSConfig, what, ks.Location, maxStoreFile)
	}
	return data, nil
}

func loadRoots(ks KeyStore) (*x509.CertPool, error) {
	data, err := readStore("trust store", ks)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	var certs []*x509.Certificate
	switch t := storeType(ks); t {
	case "PEM":
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("%w: trust store %s: no PEM certificate in it", ErrTLSConfig, ks.Location)
		}
		return pool, nil
	case "PKCS12":
		certs, err = pkcs12.DecodeTrustStore(data, ks.Password)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#12 trust store %s: %w", ErrTLSConfig, ks.Location, err)
		}
	case "JKS":
		certs, err = jksTrusted(data, ks)
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: trust store %s: %s", ErrTLSConfig, ks.Location, badType(t))
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: trust store %s holds no certificate", ErrTLSConfig, ks.Location)
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// checkJKS walks a JKS store's layout (magic, version, entries: alias,
// date, key or certificate bytes, certificate chains; the SHA-1 at the
// end) and checks every length and count against the bytes that remain,
// before keystore-go, which allocates whatever a length says, reads it.
func checkJKS(data []byte) error {
	c := cursor{b: data}
	if magic := c.int32(); c.err != nil || uint32(magic) != 0xFEEDFEED {
		return errors.New("not a JKS key store (no FEEDFEED magic)")
	}
	if v := c.int32(); v != 1 && v != 2 {
		return fmt.Errorf("JKS version %d", v)
	}
	n := c.int32()
	if n < 0 || int(n) > len(c.b)/14 {
		return fmt.Errorf("JKS claims %d entries in %d bytes", n, len(c.b))
	}
	utf := func() {
		if l := c.bytes(2); c.err == nil {
			c.bytes(int(binary.BigEndian.Uint16(l)))
		}
	}
	blob := func() {
		if l := c.int32(); c.err == nil {
			if l < 0 || int(l) > len(c.b) {
				c.err = fmt.Errorf("a length of %d with %d bytes left", l, len(c.b))
				return
			}
			c.bytes(int(l))
		}
	}
	for i := int32(0); i < n && c.err == nil; i++ {
		tag := c.int32()
		utf()      // alias
		c.bytes(8) // date
		switch tag {
		case 1: // private key and its chain
			blob()
			chain := c.int32()
			if chain < 0 || int(chain) > len(c.b)/6 {
				return fmt.Errorf("JKS entry %d claims %d certificates", i, chain)
			}
			for j := int32(0); j < chain && c.err == nil; j++ {
				utf() // certificate type
				blob()
			}
		case 2: // trusted certificate
			utf()
			blob()
		default:
			if c.err == nil {
				return fmt.Errorf("JKS entry %d of kind %d", i, tag)
			}
		}
	}
	if c.err == nil && len(c.b) != 20 {
		c.err = fmt.Errorf("%d bytes after the entries, want the 20 of the SHA-1", len(c.b))
	}
	if c.err != nil {
		return fmt.Errorf("JKS layout: %w", c.err)
	}
	return nil
}

func jksTrusted(data []byte, ks KeyStore) ([]*x509.Certificate, error) {
	k := keystore.New()
	if err := checkJKS(data); err != nil {
		return nil, fmt.Errorf("%w: JKS trust store %s: %w", ErrTLSConfig, ks.Location, err)
	}
	if err := k.Load(bytes.NewReader(data), []byte(ks.Password)); err != nil {
		return nil, fmt.Errorf("%w: JKS trust store %s: %w (or convert it: keytool -importkeystore -srckeystore %s -destkeystore truststore.p12 -deststoretype PKCS12)", ErrTLSConfig, ks.Location, err, ks.Location)
	}
	var certs []*x509.Certificate
	for _, alias := range k.Aliases() {
		var raw []keystore.Certificate
		if e, err := k.GetTrustedCertificateEntry(alias); err == nil {
			raw = append(raw, e.Certificate)
		} else if chain, err := k.GetPrivateKeyEntryCertificateChain(alias); err == nil {
			raw = append(raw, chain...)
		}
		for _, r := range raw {
			c, err := x509.ParseCertificate(r.Content)
			if err != nil {
				return nil, fmt.Errorf("%w: JKS trust store %s, entry %q: %w", ErrTLSConfig, ks.Location, alias, err)
			}
			certs = append(certs, c)
		}
	}
	return certs, nil
}

func loadKeyPair(ks KeyStore) (tls.Certificate, error) {
	data, err := readStore("key store", ks)
	if err != nil {
		return tls.Certificate{}, err
	}
	switch t := storeType(ks); t {
	case "PEM":
		// ZooKeeper's PEM key store is one file with the key and the chain.
		pair, err := tls.X509KeyPair(data, data)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%w: PEM key store %s: %w", ErrTLSConfig, ks.Location, err)
		}
		return pair, nil
	case "PKCS12":
		key, leaf, chain, err := pkcs12.DecodeChain(data, ks.Password)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%w: PKCS#12 key store %s: %w", ErrTLSConfig, ks.Location, err)
		}
		pair := tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
		for _, c := range chain {
			pair.Certificate = append(pair.Certificate, c.Raw)
		}
		return pair, nil
	case "JKS":
		return jksKeyPair(data, ks)
	default:
		return tls.Certificate{}, fmt.Errorf("%w: key store %s: %s", ErrTLSConfig, ks.Location, badType(t))
	}
}

func jksKeyPair(data []byte, ks KeyStore) (tls.Certificate, error) {
	fail := func(err error) (tls.Certificate, error) {
		return tls.Certificate{}, fmt.Errorf("%w: JKS key store %s: %w (or convert it: keytool -importkeystore -srckeystore %s -destkeystore keystore.p12 -deststoretype PKCS12)", ErrTLSConfig, ks.Location, err, ks.Location)
	}
	if err := checkJKS(data); err != nil {
		return fail(err)
	}
	k := keystore.New()
	if err := k.Load(bytes.NewReader(data), []byte(ks.Password)); err != nil {
		return fail(err)
	}
	for _, alias := range k.Aliases() {
		if !k.IsPrivateKeyEntry(alias) {
			continue
		}
		// ZooKeeper's X509Util opens the key with the store's password.
		e, err := k.GetPrivateKeyEntry(alias, []byte(ks.Password))
		if err != nil {
			return fail(fmt.Errorf("entry %q: %w", alias, err))
		}
		var pemKey = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: e.PrivateKey})
		var pemCerts []byte
		for _, c := range e.CertificateChain {
			pemCerts = append(pemCerts, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Content})...)
		}
		pair, err := tls.X509KeyPair(pemCerts, pemKey)
		if err != nil {
			return fail(fmt.Errorf("entry %q: %w", alias, err))
		}
		return pair, nil
	}
	return fail(errors.New("no private key entry"))
}

// attemptTimeout bounds one connection attempt. A TLS handshake costs a
// JVM server more than an accept, so it gets longer.
func attemptTimeout(opts Options) time.Duration {
	if opts.TLS != nil {
		return min(opts.ConnectTimeout, 5*time.Second)
	}
	return min(opts.ConnectTimeout, 2*time.Second)
}

// dial opens one connection to addr, with TLS when opts.TLS is set. The
// handshake happens here, within timeout, so that a refused certificate
// is an error of this attempt and not of a later read.
func dial(ctx context.Context, addr string, opts Options, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if opts.TLS == nil {
		return raw, nil
	}
	cfg := opts.TLS.Clone()
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	c := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w%s", addr, err, certHint(cfg, err))
	}
	return c, nil
}

// certHint explains the alert a server sends a client that has no
// certificate when it requires one (ssl.clientAuth=need).
func certHint(cfg *tls.Config, err error) string {
	if len(cfg.Certificates) > 0 || cfg.GetClientCertificate != nil {
		return ""
	}
	// crypto/tls keeps its alert type unexported: the text is all there is.
	if strings.Contains(err.Error(), "bad certificate") || strings.Contains(err.Error(), "certificate required") {
		return " (the server wants a client certificate: give one)"
	}
	return ""
}

// The JVM-wide ZooKeeper client properties (ZKClientConfig and
// ClientX509Util) with which a Spark Master, through -D options in
// SPARK_DAEMON_JAVA_OPTS, talks TLS to ZooKeeper.
const (
	PropClientSecure         = "zookeeper.client.secure"
	PropClientCnxnSocket     = "zookeeper.clientCnxnSocket"
	PropHostnameVerification = "zookeeper.ssl.hostnameVerification"
	nettySocket              = "org.apache.zookeeper.ClientCnxnSocketNetty"
)

// JavaClientTLS reads the TLS settings of a Java ZooKeeper client from its
// system properties. secure is zookeeper.client.secure; warnings say what
// would stop the Java client itself, or what it ignores.
func JavaClientTLS(props map[string]string) (files TLSFiles, secure bool, warnings []string, err error) {
	secure = strings.EqualFold(strings.TrimSpace(props[PropClientSecure]), "true")
	for _, side := range []struct {
		prefix string
		ks     *KeyStore
	}{{"zookeeper.ssl.keyStore.", &files.KeyStore}, {"zookeeper.ssl.trustStore.", &files.TrustStore}} {
		side.ks.Location = props[side.prefix+"location"]
		side.ks.Type = props[side.prefix+"type"]
		side.ks.Password = props[side.prefix+"password"]
		// ZooKeeper 3.8 reads the password from a file when passwordPath is set.
		if path := props[side.prefix+"passwordPath"]; path != "" && side.ks.Password == "" {
			pw, err := readStore(side.prefix+"passwordPath", KeyStore{Location: path})
			if err != nil {
				return TLSFiles{}, false, nil, err
			}
			side.ks.Password = strings.TrimRight(string(pw), "\r\n")
		}
	}
	if v, ok := props[PropHostnameVerification]; ok && strings.EqualFold(strings.TrimSpace(v), "false") {
		files.NoHostnameVerification = true
	}
	sock := props[PropClientCnxnSocket]
	switch {
	case secure && sock != nettySocket:
		warnings = append(warnings, fmt.Sprintf("%s=true but %s is %q: the Java client speaks TLS only with %s", PropClientSecure, PropClientCnxnSocket, sock, nettySocket))
	case !secure && (files.KeyStore.Location != "" || files.TrustStore.Location != ""):
		warnings = append(warnings, fmt.Sprintf("zookeeper.ssl.* stores are set but %s is not true: the Master's client does not use TLS", PropClientSecure))
	}
	return files, secure, warnings, nil
}
