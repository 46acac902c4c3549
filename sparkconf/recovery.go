package sparkconf

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/recoverctl/recoverctl/codec/envelope"
)

// Configuration keys the Master reads to choose and locate its recovery store.
const (
	KeyRecoveryMode             = "spark.deploy.recoveryMode"
	KeyRecoveryModeFactory      = "spark.deploy.recoveryMode.factory"
	KeyRecoveryDirectory        = "spark.deploy.recoveryDirectory"
	KeyRecoverySerializer       = "spark.deploy.recoverySerializer"
	KeyRecoveryCompressionCodec = "spark.deploy.recoveryCompressionCodec"
	KeyZooKeeperURL             = "spark.deploy.zookeeper.url"
	KeyZooKeeperDir             = "spark.deploy.zookeeper.dir"
)

// DefaultZooKeeperDir is used when spark.deploy.zookeeper.dir is not set.
const DefaultZooKeeperDir = "/spark"

// Mode is the recovery mode a Master actually runs with.
type Mode string

const (
	ModeNone       Mode = "NONE"
	ModeZooKeeper  Mode = "ZOOKEEPER"
	ModeFileSystem Mode = "FILESYSTEM"
	ModeRocksDB    Mode = "ROCKSDB" // Spark 4.0 and later
	ModeCustom     Mode = "CUSTOM"
)

// Serializer names accepted by spark.deploy.recoverySerializer (Spark 4.0+).
const (
	SerializerJava = "JAVA"
	SerializerKryo = "KRYO"
)

// Value is one resolved recovery setting; a default Source means Spark's
// built-in default applied.
type Value struct {
	Value  string
	Source Source
}

// Recovery is where and how a Master persists its recovery state.
type Recovery struct {
	Mode Mode
	// RawMode is spark.deploy.recoveryMode as configured; Mode is what the
	// Master makes of it.
	RawMode Value
	// Directory is the FILESYSTEM or ROCKSDB directory.
	Directory    Value
	ZooKeeperURL Value
	ZooKeeperDir Value // "/spark" unless configured
	// Serializer is JAVA or KRYO (KRYO needs Spark 4.0+).
	Serializer Value
	// CompressionCodec is "", lz4, lzf, snappy, zstd, or a class name Spark
	// does not ship; only FILESYSTEM uses it (Spark 4.0+).
	CompressionCodec Value
	// Factory is the StandaloneRecoveryModeFactory class for CUSTOM.
	Factory Value
	// ZooKeeperAuth holds the JVM system properties that change how the
	// Master's ZooKeeper client authenticates (JAAS/SASL, zookeeper.*).
	// Spark itself has no setting for ZooKeeper digest auth or ACLs.
	ZooKeeperAuth []Setting
	Warnings      []Warning
}

// ZooKeeperStatusPath is the parent znode of the recovery records. Spark
// concatenates strings here, so a configured dir ending in "/" gives "//".
func (r Recovery) ZooKeeperStatusPath() string { return r.ZooKeeperDir.Value + "/master_status" }

// ZooKeeperLeaderPath is the Curator leader latch znode.
func (r Recovery) ZooKeeperLeaderPath() string { return r.ZooKeeperDir.Value + "/leader_election" }

func (c *Conf) value(key, def string) Value {
	if s, ok := c.spark[key]; ok {
		return Value{Value: s.Value, Source: s.Source}
	}
	return Value{Value: def}
}

// Recovery resolves the recovery settings the way Master.onStart and the
// recovery mode factories read them.
func (c *Conf) Recovery() Recovery {
	r := Recovery{
		RawMode:          c.value(KeyRecoveryMode, string(ModeNone)),
		Directory:        c.value(KeyRecoveryDirectory, ""),
		ZooKeeperURL:     c.value(KeyZooKeeperURL, ""),
		ZooKeeperDir:     c.value(KeyZooKeeperDir, DefaultZooKeeperDir),
		Serializer:       c.value(KeyRecoverySerializer, SerializerJava),
		CompressionCodec: c.value(KeyRecoveryCompressionCodec, ""),
		Factory:          c.value(KeyRecoveryModeFactory, ""),
	}
	warn := func(src Source, format string, args ...any) {
		r.Warnings = append(r.Warnings, Warning{Source: src, Message: fmt.Sprintf(format, args...)})
	}

	// Master matches the raw string case-sensitively in every version (only
	// the Mesos dispatcher upper-cases it); anything else is BlackHole.
	switch m := Mode(r.RawMode.Value); m {
	case ModeZooKeeper, ModeFileSystem, ModeRocksDB, ModeCustom:
		r.Mode = m
	default:
		r.Mode = ModeNone
	}
	switch {
	case r.Mode != ModeNone:
	case r.RawMode.Source.IsDefault():
		warn(Source{}, "%s is not set: the Master runs with recovery mode NONE and persists nothing, so no application, driver or worker survives a Master restart", KeyRecoveryMode)
	case r.RawMode.Value == string(ModeNone):
		warn(r.RawMode.Source, "%s is NONE: the Master persists nothing", KeyRecoveryMode)
	default:
		hint := ""
		if u := strings.ToUpper(strings.TrimSpace(r.RawMode.Value)); u != r.RawMode.Value {
			switch Mode(u) {
			case ModeZooKeeper, ModeFileSystem, ModeRocksDB, ModeCustom:
				hint = fmt.Sprintf(" (Spark compares case- and space-sensitively; write %s)", u)
			}
		}
		warn(r.RawMode.Source, "%s=%q is not ZOOKEEPER, FILESYSTEM, ROCKSDB or CUSTOM, so the Master falls back to NONE and persists nothing%s", KeyRecoveryMode, r.RawMode.Value, hint)
	}

	switch r.Mode {
	case ModeFileSystem, ModeRocksDB:
		if r.Mode == ModeRocksDB {
			warn(r.RawMode.Source, "ROCKSDB exists from Spark 4.0; an older Master treats it as NONE and persists nothing")
		}
		switch d := r.Directory.Value; {
		case d == "":
			warn(r.Directory.Source, "%s is empty: Spark builds record paths as directory + \"/\" + name, so records land in the filesystem root", KeyRecoveryDirectory)
		case !filepath.IsAbs(d):
			warn(r.Directory.Source, "%s=%q is relative to the Master process's working directory, which recoverctl cannot know", KeyRecoveryDirectory, d)
		}
	case ModeZooKeeper:
		if r.ZooKeeperURL.Source.IsDefault() {
			warn(Source{}, "%s is not set: a Master with recovery mode ZOOKEEPER fails to start", KeyZooKeeperURL)
		}
		if d := r.ZooKeeperDir.Value; !strings.HasPrefix(d, "/") || (len(d) > 1 && strings.HasSuffix(d, "/")) {
			warn(r.ZooKeeperDir.Source, "%s=%q: ZooKeeper paths must start with / and not end with one; the Master's ZooKeeper calls would fail", KeyZooKeeperDir, d)
		}
	case ModeCustom:
		warn(r.Factory.Source, "recovery mode CUSTOM stores records through factory class %q; recoverctl cannot read that store", r.Factory.Value)
	}

	// Spark 4.x upper-cases the serializer name and accepts only JAVA and
	// KRYO; older versions ignore the key and always use Java serialization.
	if up := strings.ToUpper(r.Serializer.Value); up == SerializerJava || up == SerializerKryo {
		r.Serializer.Value = up
		if up == SerializerKryo {
			warn(r.Serializer.Source, "%s=KRYO takes effect from Spark 4.0; an older Master ignores it and uses Java serialization", KeyRecoverySerializer)
		}
	} else {
		warn(r.Serializer.Source, "%s=%q is not JAVA or KRYO: a Spark 4.x Master rejects it and fails to start", KeyRecoverySerializer, r.Serializer.Value)
	}

	if raw := r.CompressionCodec.Value; !r.CompressionCodec.Source.IsDefault() {
		if f, ok := envelope.CodecForm(raw); ok {
			r.CompressionCodec.Value = f.String()
		} else {
			warn(r.CompressionCodec.Source, "%s=%q is not lz4, lzf, snappy or zstd; unless that class is on the Master's classpath it fails to start", KeyRecoveryCompressionCodec, raw)
		}
		if r.Mode != ModeFileSystem {
			warn(r.CompressionCodec.Source, "%s only applies to FILESYSTEM recovery; it is ignored in mode %s", KeyRecoveryCompressionCodec, r.Mode)
		}
	}

	for _, k := range c.SystemPropertyKeys() {
		if k == "java.security.auth.login.config" || strings.HasPrefix(k, "zookeeper.") {
			r.ZooKeeperAuth = append(r.ZooKeeperAuth, c.system[k])
		}
	}
	sort.SliceStable(r.ZooKeeperAuth, func(i, j int) bool { return r.ZooKeeperAuth[i].Key < r.ZooKeeperAuth[j].Key })
	if r.Mode == ModeZooKeeper {
		if s, ok := c.system["java.security.auth.login.config"]; ok {
			warn(s.Source, "the Master's ZooKeeper client logs in with SASL using JAAS file %s (section \"Client\" unless zookeeper.sasl.clientconfig says otherwise); recoverctl needs the same credentials", s.Value)
		}
	}
	return r
}
