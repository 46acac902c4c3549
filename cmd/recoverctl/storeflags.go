package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/livemaster"
	"github.com/recoverctl/recoverctl/sparkconf"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/rocksdb"
	"github.com/recoverctl/recoverctl/store/zk"
)

// storeFlags names a recovery store the way every command does: explicitly
// (--fs, --zk, --zk-dir, --rocksdb) or through the Master's own configuration
// (--spark-conf, $SPARK_CONF_DIR, $SPARK_HOME/conf). Explicit flags win.
type storeFlags struct {
	fsDir     string
	rdbDir    string
	zkServers string
	zkDir     string
	zkAuth    string
	sparkConf string
	codec     string
	timeout   time.Duration
	multiRead bool
	verbose   bool
	flags     *pflag.FlagSet // where they were registered: to tell a given --timeout 0 from none
	target    bool           // opened to be written: a directory may not exist yet
	zkTLS     zkTLSFlags
}

func (f *storeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	f.flags = fl
	fl.StringVar(&f.fsDir, "fs", "", "FILESYSTEM recovery directory (spark.deploy.recoveryDirectory)")
	fl.StringVar(&f.rdbDir, "rocksdb", "", "ROCKSDB recovery directory (spark.deploy.recoveryDirectory of a Spark 4 Master with recoveryMode ROCKSDB)")
	fl.StringVar(&f.zkServers, "zk", "", "ZooKeeper connect string, host:port[,host:port][/chroot] (spark.deploy.zookeeper.url)")
	fl.StringVar(&f.zkDir, "zk-dir", "", "spark.deploy.zookeeper.dir (default /spark)")
	fl.StringVar(&f.zkAuth, "zk-auth", "", "ZooKeeper digest credentials user:password (or $RECOVERCTL_ZK_AUTH)")
	fl.StringVar(&f.sparkConf, "spark-conf", "", "Spark conf dir holding spark-env.sh / spark-defaults.conf (default $SPARK_CONF_DIR, then $SPARK_HOME/conf)")
	fl.StringVar(&f.codec, "codec", "", "force spark.deploy.recoveryCompressionCodec (lz4, lzf, snappy, zstd) instead of detecting it")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "ZooKeeper connect and request timeout")
	fl.BoolVar(&f.multiRead, "zk-multiread", true, "read many znodes per request with multiRead (ZooKeeper 3.6+; older servers get one getData per znode anyway); false: always one getData per znode")
	f.zkTLS.register(fl)
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print where the store and settings were found on stderr")
}

// openedStore is a store plus what commands may want beyond store.Store.
type openedStore struct {
	// Reader is the store for every command that only reads (ls, show,
	// status, audit, backup, a migration's source); pass it to packages,
	// never the openedStore.
	Reader store.Reader
	// Store is the same store where recoverctl writes it, nil where it
	// only reads it (RocksDB); writers open theirs with openTarget.
	Store store.Store
	zk    *zk.Store      // nil unless ZooKeeper
	fs    *fs.Store      // nil unless a FILESYSTEM directory
	rdb   *rocksdb.Store // nil unless a RocksDB directory read
	// rdbTarget is a RocksDB directory written (openTarget).
	rdbTarget *rocksdb.Target
	codec     string // spark.deploy.recoveryCompressionCodec when known
	close     func()
}

// openTarget opens the store a command writes. A RocksDB directory is
// opened for writing (rocksdb.Target: the database is rewritten whole
// beside the old one and swapped in); it may not exist yet, as the
// directory of a Master that never ran may not.
func (f *storeFlags) openTarget(ctx context.Context, stderr io.Writer) (*openedStore, error) {
	if f.rdbDir != "" && f.fsDir == "" && f.zkServers == "" {
		return openRocksDBTarget(f.rdbDir, f.codec)
	}
	f.target = true
	st, err := f.open(ctx, stderr)
	if err != nil {
		return nil, err
	}
	if st.rdb != nil {
		dir := st.rdb.Info().Dir
		st.close()
		return openRocksDBTarget(dir, f.codec)
	}
	return st, nil
}

func openRocksDBTarget(dir, codecName string) (*openedStore, error) {
	if codecName != "" {
		return nil, usageError{fmt.Errorf("--codec %s: the ROCKSDB engine never compresses its records", codecName)}
	}
	t, err := rocksdb.OpenTarget(absPath(dir))
	if err != nil {
		return nil, fmt.Errorf("ROCKSDB directory %s: %w", absPath(dir), err)
	}
	return &openedStore{Reader: t, Store: t, rdbTarget: t, close: func() {}}, nil
}

func (f *storeFlags) open(ctx context.Context, stderr io.Writer) (*openedStore, error) {
	switch {
	case f.timeout <= 0 && f.flags != nil && f.flags.Changed("timeout"):
		return nil, usageError{fmt.Errorf("--timeout %s: want a positive duration such as 10s", f.timeout)}
	case f.timeout <= 0:
		f.timeout = zk.DefaultRequestTimeout // a storeFlags made in code, not from flags
	}
	named := 0
	for _, s := range []string{f.fsDir, f.zkServers, f.rdbDir} {
		if s != "" {
			named++
		}
	}
	if named > 1 {
		return nil, usageError{fmt.Errorf("--fs, --zk and --rocksdb name one store each; give one")}
	}
	logf := func(format string, args ...any) {
		if f.verbose {
			fmt.Fprintln(stderr, "recoverctl:", termText(fmt.Sprintf(format, args...)))
		}
	}
	fsDir, rdbDir, zkServers, zkDir, codecName := f.fsDir, f.rdbDir, f.zkServers, f.zkDir, f.codec
	if codecName != "" {
		form, ok := envelope.CodecForm(codecName)
		if !ok {
			return nil, usageError{fmt.Errorf("codec %q: want lz4, lzf, snappy or zstd (spark.deploy.recoveryCompressionCodec)", codecName)}
		}
		codecName = form.String()
	}
	// The Master's JVM-wide ZooKeeper client properties: TLS among them.
	var zkProps []sparkconf.Setting
	if named == 1 && zkServers != "" && f.sparkConf != "" {
		rec, err := f.fromSparkConf(logf)
		if err != nil {
			return nil, err
		}
		zkProps = rec.ZooKeeperAuth
	}
	if named == 0 {
		rec, err := f.fromSparkConf(logf)
		if err != nil {
			return nil, err
		}
		zkProps = rec.ZooKeeperAuth
		switch rec.Mode {
		case sparkconf.ModeFileSystem:
			fsDir = rec.Directory.Value
			logf("store: FILESYSTEM directory %s (%s)", fsDir, rec.Directory.Source)
		case sparkconf.ModeRocksDB:
			rdbDir = rec.Directory.Value
			logf("store: ROCKSDB directory %s (%s)", rdbDir, rec.Directory.Source)
			if rdbDir == "" {
				return nil, usageError{fmt.Errorf("recovery mode ROCKSDB but spark.deploy.recoveryDirectory is empty")}
			}
		case sparkconf.ModeZooKeeper:
			zkServers = rec.ZooKeeperURL.Value
			logf("store: ZOOKEEPER %s (%s)", zkServers, rec.ZooKeeperURL.Source)
			if zkDir == "" {
				zkDir = rec.ZooKeeperDir.Value
				logf("zookeeper dir: %s (%s)", zkDir, rec.ZooKeeperDir.Source)
			}
		default:
			return nil, usageError{fmt.Errorf("the Spark configuration sets recovery mode %q (%s): recoverctl reads FILESYSTEM, ZOOKEEPER and ROCKSDB stores; name one with --fs, --zk or --rocksdb", rec.RawMode.Value, rec.RawMode.Source)}
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
	if rdbDir != "" {
		return openRocksDB(rdbDir, codecName, logf)
	}
	if fsDir != "" {
		openFS := fs.Open
		if f.target {
			openFS = fs.OpenTarget
		}
		s, err := openFS(fsDir)
		if errors.Is(err, fs.ErrRocksDB) {
			return nil, usageError{fmt.Errorf("%w: read it with --rocksdb %s (rocksdb://%s as a store address)", err, fsDir, absPath(fsDir))}
		}
		if err != nil {
			return nil, err
		}
		logf("reading %s", s)
		return &openedStore{Reader: s, Store: s, fs: s, codec: codecName, close: func() {}}, nil
	}
	auth := f.zkAuth
	if auth == "" {
		auth = os.Getenv("RECOVERCTL_ZK_AUTH")
	}
	tlsConfig, err := f.zkTLS.config(zkProps, logf)
	if err != nil {
		return nil, err
	}
	s, err := zk.Open(ctx, zk.Options{
		TLS:            tlsConfig,
		Servers:        zkServers,
		SparkDir:       zkDir,
		Auth:           auth,
		ConnectTimeout: f.timeout,
		RequestTimeout: f.timeout,
		NoMultiRead:    !f.multiRead,
	})
	if errors.Is(err, zk.ErrConnectString) {
		return nil, usageError{err}
	}
	if err != nil {
		return nil, err
	}
	logf("reading %s", s)
	return &openedStore{Reader: s, Store: s, zk: s, codec: codecName, close: func() {
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

// openRocksDB reads the database in dir whole, as of now.
func openRocksDB(dir, codecName string, logf func(string, ...any)) (*openedStore, error) {
	if codecName != "" {
		return nil, usageError{fmt.Errorf("--codec %s: the ROCKSDB engine never compresses its records", codecName)}
	}
	abs := absPath(dir)
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("ROCKSDB directory %s: %w: %w", abs, store.ErrUnavailable, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("ROCKSDB directory %s: %w: not a directory", abs, store.ErrUnavailable)
	}
	if !rocksdb.IsDatabase(abs) {
		return nil, usageError{fmt.Errorf("ROCKSDB directory %s holds no RocksDB database (no CURRENT and MANIFEST): for a FILESYSTEM recovery directory use --fs %s", abs, dir)}
	}
	s, err := rocksdb.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("ROCKSDB directory %s: %w", abs, err)
	}
	info := s.Info()
	logf("reading %s (%d files, %s)", s, len(info.Files), info.Manifest)
	if info.Locked {
		logf("the LOCK is held (process %d): the files were read as they were", info.LockPID)
	}
	return &openedStore{Reader: s, rdb: s, close: func() { _ = s.Close() }}, nil
}

func absPath(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// String names the store for messages.
func (o *openedStore) String() string { return o.Reader.String() }

// checkLiveRocksDB finds a Master on a RocksDB directory the way it finds
// one on a FILESYSTEM directory, and also by the database's LOCK: only an
// open RocksDB holds it, and a ROCKSDB Master keeps its database open.
func checkLiveRocksDB(ctx context.Context, s *rocksdb.Store, master string) (livemaster.Result, error) {
	info := s.Info()
	res, err := livemaster.CheckDir(ctx, info.Dir, livemaster.DirOptions{Master: master})
	if err != nil {
		return res, err
	}
	res.Checked = append(res.Checked, "the LOCK of "+info.Dir)
	if info.Locked {
		res.Holders = append(res.Holders, livemaster.Holder{Kind: livemaster.KindProcess, PID: info.LockPID,
			Detail: fmt.Sprintf("process %d holds the RocksDB LOCK of %s", info.LockPID, info.Dir)})
	}
	return res, nil
}
