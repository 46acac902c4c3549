// Package address parses and prints the one written form of a recovery
// store's address, used wherever a command names two stores at once
// (migrate --from/--to):
//
//	fs:///var/spark/recovery[?codec=lz4]
//	zk://zk1:2181,zk2:2181[/chroot][?dir=/spark]
//	rocksdb:///var/spark/recovery
//
// After "fs://" comes an absolute directory path (percent-escapes are
// decoded, so a '?' in a path is written %3F); codec is the directory's
// spark.deploy.recoveryCompressionCodec (lz4, lzf, snappy, zstd), which
// matters when records are written into it. After "zk://" comes a
// ZooKeeper connect string exactly as spark.deploy.zookeeper.url takes it:
// hosts, then an optional chroot; dir is spark.deploy.zookeeper.dir relative
// to the chroot (default /spark). A host without a port gets 2181 from
// store/zk. After "rocksdb://" comes the absolute spark.deploy.recoveryDirectory
// of a ROCKSDB Master (Spark 4.0 and later), escaped as for fs; it takes no
// parameter, since that engine never compresses.
//
// It only parses: opening the store is the command's business.
package address

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/recoverctl/recoverctl/store/zk"
)

// Kinds of store an address names.
const (
	KindFS      = "fs"
	KindZK      = "zk"
	KindRocksDB = "rocksdb"
)

// DefaultSparkDir is Spark's default spark.deploy.zookeeper.dir.
const DefaultSparkDir = "/spark"

// ErrAddress is any malformed store address.
var ErrAddress = errors.New("invalid store address")

// Codecs are the values spark.deploy.recoveryCompressionCodec accepts that
// this tool can read and write (Spark's short names).
var Codecs = []string{"lz4", "lzf", "snappy", "zstd"}

// Address is a parsed store address.
type Address struct {
	Kind string // KindFS, KindZK or KindRocksDB

	// Dir is the absolute recovery directory (fs, rocksdb).
	Dir string
	// Codec is the directory Master's compression codec, "" for none (fs).
	Codec string

	// Hosts are the ZooKeeper servers as written (zk).
	Hosts []string
	// Chroot is the connect string's chroot, "" for none (zk).
	Chroot string
	// SparkDir is spark.deploy.zookeeper.dir, DefaultSparkDir when not given (zk).
	SparkDir string
}

// ConnectString is the ZooKeeper connect string, chroot included, as
// store/zk.Options.Servers and spark.deploy.zookeeper.url take it.
func (a Address) ConnectString() string {
	return strings.Join(a.Hosts, ",") + a.Chroot
}

// String prints the address in the form Parse reads; defaults are left out.
func (a Address) String() string {
	switch a.Kind {
	case KindFS:
		s := "fs://" + (&url.URL{Path: a.Dir}).EscapedPath()
		if a.Codec != "" {
			s += "?codec=" + a.Codec
		}
		return s
	case KindRocksDB:
		return "rocksdb://" + (&url.URL{Path: a.Dir}).EscapedPath()
	case KindZK:
		s := "zk://" + a.ConnectString()
		if a.SparkDir != "" && a.SparkDir != DefaultSparkDir {
			s += "?dir=" + a.SparkDir
		}
		return s
	}
	return "<invalid store address>"
}

func errorf(s, format string, args ...any) error {
	return fmt.Errorf("%w %q: %s (want fs:///DIR[?codec=lz4|lzf|snappy|zstd], zk://HOST:PORT[,HOST:PORT][/CHROOT][?dir=/spark] or rocksdb:///DIR)",
		ErrAddress, s, fmt.Sprintf(format, args...))
}

// Parse reads an address; errors wrap ErrAddress and say what is wrong.
func Parse(s string) (Address, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return Address{}, errorf(s, "no scheme")
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Address{}, errorf(s, "query: %v", err)
	}
	for k, v := range query {
		if len(v) > 1 {
			return Address{}, errorf(s, "%s given %d times", k, len(v))
		}
	}
	switch strings.ToLower(scheme) {
	case KindFS:
		return parseFS(s, rest, query)
	case KindZK:
		return parseZK(s, rest, query)
	case KindRocksDB:
		return parseRocksDB(s, rest, query)
	}
	return Address{}, errorf(s, "unknown scheme %q", scheme)
}

// parseDir reads the absolute directory of an fs or rocksdb address.
func parseDir(s, kind, rest string) (Address, error) {
	a := Address{Kind: kind}
	if rest == "" {
		return a, errorf(s, "no directory")
	}
	if !strings.HasPrefix(rest, "/") {
		return a, errorf(s, "the directory must be absolute and the host empty (three slashes: %s:///dir)", kind)
	}
	dir, err := url.PathUnescape(rest)
	if err != nil {
		return a, errorf(s, "path: %v", err)
	}
	if strings.ContainsRune(dir, 0) {
		return a, errorf(s, "path holds a NUL byte")
	}
	a.Dir = path.Clean(dir)
	return a, nil
}

func parseRocksDB(s, rest string, query url.Values) (Address, error) {
	a, err := parseDir(s, KindRocksDB, rest)
	if err != nil {
		return a, err
	}
	for k := range query {
		return a, errorf(s, "unknown parameter %q (rocksdb takes none: the ROCKSDB engine never compresses)", k)
	}
	return a, nil
}

func parseFS(s, rest string, query url.Values) (Address, error) {
	a, err := parseDir(s, KindFS, rest)
	if err != nil {
		return a, err
	}
	for k, v := range query {
		switch k {
		case "codec":
			// Which names are codecs is codec/envelope's to say; the
			// command checks it (CodecForm) when it opens the store.
			c := strings.ToLower(v[0])
			if c == "none" {
				c = ""
			}
			a.Codec = c
		case "dir":
			return a, errorf(s, "dir is spark.deploy.zookeeper.dir; a directory store takes only codec")
		default:
			return a, errorf(s, "unknown parameter %q (fs takes codec)", k)
		}
	}
	return a, nil
}

func parseZK(s, rest string, query url.Values) (Address, error) {
	a := Address{Kind: KindZK, SparkDir: DefaultSparkDir}
	if h, _, _ := strings.Cut(rest, "/"); h == "" {
		return a, errorf(s, "no ZooKeeper host")
	}
	// store/zk's rules decide what a connect string is, here as when the
	// store is opened.
	if _, _, err := zk.ParseConnectString(rest); err != nil {
		return a, errorf(s, "%v", err)
	}
	hosts, chroot, _ := strings.Cut(rest, "/")
	for _, h := range strings.Split(hosts, ",") {
		if h == "" {
			return a, errorf(s, "empty host in %q", hosts)
		}
		a.Hosts = append(a.Hosts, h)
	}
	if strings.Contains(rest, "/") && chroot != "" {
		a.Chroot = "/" + chroot
	}
	for k, v := range query {
		switch k {
		case "dir":
			d := v[0]
			if err := zk.CheckPath(d); err != nil || d == "/" {
				if err == nil {
					err = errors.New("must not be the root")
				}
				return a, errorf(s, "dir %q: %v", d, err)
			}
			a.SparkDir = d
		case "codec":
			return a, errorf(s, "codec: Spark's ZooKeeper engine never compresses (spark.deploy.recoveryCompressionCodec is FILESYSTEM only)")
		default:
			return a, errorf(s, "unknown parameter %q (zk takes dir)", k)
		}
	}
	return a, nil
}
