package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/sparkconf"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/zk"
)

// storeFlags names a recovery store the way every command does: explicitly
// (--fs, --zk, --zk-dir) or through the Master's own configuration
// (--spark-conf, $SPARK_CONF_DIR, $SPARK_HOME/conf). Explicit flags win.
type storeFlags struct {
	fsDir     string
	zkServers string
	zkDir     string
	zkAuth    string
	sparkConf string
	codec     string
	timeout   time.Duration
	multiRead bool
	verbose   bool
}

func (f *storeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.fsDir, "fs", "", "FILESYSTEM recovery directory (spark.deploy.recoveryDirectory)")
	fl.StringVar(&f.zkServers, "zk", "", "ZooKeeper connect string, host:port[,host:port][/chroot] (spark.deploy.zookeeper.url)")
	fl.StringVar(&f.zkDir, "zk-dir", "", "spark.deploy.zookeeper.dir (default /spark)")
	fl.StringVar(&f.zkAuth, "zk-auth", "", "ZooKeeper digest credentials user:password (or $RECOVERCTL_ZK_AUTH)")
	fl.StringVar(&f.sparkConf, "spark-conf", "", "Spark conf dir holding spark-env.sh / spark-defaults.conf (default $SPARK_CONF_DIR, then $SPARK_HOME/conf)")
	fl.StringVar(&f.codec, "codec", "", "force spark.deploy.recoveryCompressionCodec (lz4, lzf, snappy, zstd) instead of detecting it")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "ZooKeeper connect and request timeout")
	fl.BoolVar(&f.multiRead, "zk-multiread", true, "read many znodes per request with multiRead (ZooKeeper 3.6+; older servers get one getData per znode anyway); false: always one getData per znode")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print where the store and settings were found on stderr")
}

// openedStore is a store plus what commands may want beyond store.Store.
type openedStore struct {
	// Store is the concrete store behind the interface, so that packages
	// find the bulk readers (EachRecord, ReadAll) it also implements; pass
	// it, never the openedStore.
	Store store.Store
	zk    *zk.Store // nil unless ZooKeeper
	fs    *fs.Store // nil unless a directory
	codec string    // spark.deploy.recoveryCompressionCodec when known
	close func()
}

func (f *storeFlags) open(ctx context.Context, stderr io.Writer) (*openedStore, error) {
	if f.fsDir != "" && f.zkServers != "" {
		return nil, usageError{fmt.Errorf("--fs and --zk name two stores; give one")}
	}
	logf := func(format string, args ...any) {
		if f.verbose {
			fmt.Fprintln(stderr, "recoverctl:", termText(fmt.Sprintf(format, args...)))
		}
	}
	fsDir, zkServers, zkDir, codecName := f.fsDir, f.zkServers, f.zkDir, f.codec
	if fsDir == "" && zkServers == "" {
		rec, err := f.fromSparkConf(logf)
		if err != nil {
			return nil, err
		}
		switch rec.Mode {
		case sparkconf.ModeFileSystem:
			fsDir = rec.Directory.Value
			logf("store: FILESYSTEM directory %s (%s)", fsDir, rec.Directory.Source)
		case sparkconf.ModeZooKeeper:
			zkServers = rec.ZooKeeperURL.Value
			logf("store: ZOOKEEPER %s (%s)", zkServers, rec.ZooKeeperURL.Source)
			if zkDir == "" {
				zkDir = rec.ZooKeeperDir.Value
				logf("zookeeper dir: %s (%s)", zkDir, rec.ZooKeeperDir.Source)
			}
		default:
			return nil, usageError{fmt.Errorf("the Spark configuration sets recovery mode %q (%s): recoverctl reads FILESYSTEM and ZOOKEEPER stores; name one with --fs or --zk", rec.RawMode.Value, rec.RawMode.Source)}
		}
		if codecName == "" && rec.Mode == sparkconf.ModeFileSystem {
			codecName = rec.CompressionCodec.Value
		}
		if rec.Serializer.Value != "" {
			logf("serializer: %s (%s)", rec.Serializer.Value, rec.Serializer.Source)
		}
		if fsDir == "" && rec.Mode == sparkconf.ModeFileSystem {
			return nil, usageError{fmt.Errorf("recovery mode FILESYSTEM but spark.deploy.recoveryDirectory is empty")}
		}
		if zkServers == "" && rec.Mode == sparkconf.ModeZooKeeper {
			return nil, usageError{fmt.Errorf("recovery mode ZOOKEEPER but spark.deploy.zookeeper.url is not set")}
		}
	}
	if fsDir != "" {
		s, err := fs.Open(fsDir)
		if err != nil {
			return nil, err
		}
		logf("reading %s", s)
		return &openedStore{Store: s, fs: s, codec: codecName, close: func() {}}, nil
	}
	auth := f.zkAuth
	if auth == "" {
		auth = os.Getenv("RECOVERCTL_ZK_AUTH")
	}
	s, err := zk.Open(ctx, zk.Options{
		Servers:        zkServers,
		SparkDir:       zkDir,
		Auth:           auth,
		ConnectTimeout: f.timeout,
		RequestTimeout: f.timeout,
		NoMultiRead:    !f.multiRead,
	})
	if err != nil {
		return nil, err
	}
	logf("reading %s", s)
	return &openedStore{Store: s, zk: s, codec: codecName, close: func() {
		if err := s.MultiReadFailed(); err != nil {
			logf("multiRead failed, so records were read with one getData each from then on: %v", err)
		}
		_ = s.Close()
	}}, nil
}

func (f *storeFlags) fromSparkConf(logf func(string, ...any)) (sparkconf.Recovery, error) {
	dir := f.sparkConf
	if dir == "" {
		d, err := sparkconf.FindDir(os.Getenv)
		if err != nil {
			return sparkconf.Recovery{}, usageError{fmt.Errorf("no store named: give --fs DIR, --zk HOSTS or --spark-conf DIR (%w)", err)}
		}
		dir = d
	}
	conf, err := sparkconf.Load(dir, os.Getenv)
	if err != nil {
		return sparkconf.Recovery{}, fmt.Errorf("read Spark configuration: %w", err)
	}
	logf("spark conf: %s", dir)
	rec := conf.Recovery()
	for _, w := range append(conf.Warnings, rec.Warnings...) {
		logf("warning: %s", strings.TrimSpace(fmt.Sprint(w)))
	}
	return rec, nil
}

// String names the store for messages.
func (o *openedStore) String() string { return o.Store.String() }
