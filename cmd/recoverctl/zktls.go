package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/recoverctl/recoverctl/sparkconf"
	"github.com/recoverctl/recoverctl/store/zk"
)

// zkTLSFlags are the TLS settings of every ZooKeeper connection. They win
// over the Master's JVM-wide ZooKeeper client properties found through
// --spark-conf.
type zkTLSFlags struct {
	tls              optionalBool
	ca, cert, keyPEM string
}

func (t *zkTLSFlags) register(fl *pflag.FlagSet) {
	f := fl.VarPF(&t.tls, "zk-tls", "", "talk TLS to ZooKeeper (its secureClientPort); implied by --zk-ca, --zk-cert, --zk-key and by -Dzookeeper.client.secure=true in the Spark conf; --zk-tls=false turns it off")
	f.NoOptDefVal = "true"
	fl.StringVar(&t.ca, "zk-ca", "", "PEM file of the CAs that sign ZooKeeper's certificates (default: the system's; wins over zookeeper.ssl.trustStore.*)")
	fl.StringVar(&t.cert, "zk-cert", "", "PEM client certificate for ZooKeeper servers with ssl.clientAuth=need (with --zk-key; wins over zookeeper.ssl.keyStore.*)")
	fl.StringVar(&t.keyPEM, "zk-key", "", "PEM private key of --zk-cert")
}

// config is the TLS of the connections, nil for plain TCP. props are the
// -D settings of the Spark conf (nil without one).
func (t *zkTLSFlags) config(props []sparkconf.Setting, logf func(string, ...any)) (*tls.Config, error) {
	m := map[string]string{}
	for _, s := range props {
		m[s.Key] = s.Value
		if strings.HasPrefix(s.Key, "zookeeper.ssl.") || strings.HasPrefix(s.Key, "zookeeper.client") {
			v := s.Value
			if strings.Contains(strings.ToLower(s.Key), "password") && !strings.HasSuffix(s.Key, "passwordPath") {
				v = "(hidden)"
			}
			logf("zookeeper client property %s=%s (%s)", s.Key, v, s.Source)
		}
	}
	files, secure, warnings, err := zk.JavaClientTLS(m)
	if err != nil {
		return nil, usageError{err}
	}
	for _, w := range warnings {
		logf("warning: %s", w)
	}
	flagged := t.ca != "" || t.cert != "" || t.keyPEM != ""
	if t.tls.set && !t.tls.value && flagged {
		return nil, usageError{errors.New("--zk-tls=false with --zk-ca, --zk-cert or --zk-key: give one or the other")}
	}
	on := secure || flagged
	if t.tls.set {
		on = t.tls.value
	}
	if !on {
		return nil, nil
	}
	if t.ca != "" {
		files.CAFile = t.ca
	}
	if t.cert != "" || t.keyPEM != "" {
		files.CertFile, files.KeyFile = t.cert, t.keyPEM
		if t.cert == "" || t.keyPEM == "" {
			return nil, usageError{errors.New("--zk-cert and --zk-key go together")}
		}
	}
	cfg, err := files.Config()
	if err != nil {
		return nil, usageError{err}
	}
	logf("zookeeper: TLS (CA %s, client certificate %s)", orDefault(files.CAFile, files.TrustStore.Location, "the system's"),
		orDefault(files.CertFile, files.KeyStore.Location, "none"))
	return cfg, nil
}

func orDefault(vals ...string) string {
	for _, v := range vals[:len(vals)-1] {
		if v != "" {
			return v
		}
	}
	return vals[len(vals)-1]
}

// optionalBool is a bool flag that knows whether it was given, so that
// --zk-tls=false can override the Spark conf.
type optionalBool struct{ set, value bool }

func (b *optionalBool) String() string {
	if !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false: %w", err)
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) Type() string { return "bool" }
