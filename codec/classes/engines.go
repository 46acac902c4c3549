package classes

import (
	"strconv"
	"strings"

	"github.com/recoverctl/recoverctl/codec"
)

// What a recovering Master's persistence engine does with a record it
// cannot deserialize. Read from each release's own engine (the bytecode of
// ZooKeeperPersistenceEngine, FileSystemPersistenceEngine and
// RocksDBPersistenceEngine in spark-core of every release 2.4.0..4.3.0):
//
//   - ZOOKEEPER, every release: read catches the exception, logs
//     "Exception while reading persisted file, deleting" and deletes the
//     znode; the rest is recovered. From 4.3.0, records rejected by
//     spark.deploy.recoverySerializationFilter are skipped ("Skipping
//     persisted file ..., rejected by the recovery serialization filter").
//   - FILESYSTEM before 4.3.0: deserializeFromFile throws out of read, the
//     Master's recovery stops and it never leaves STANDBY. 4.3.0 catches
//     it, logs "Exception while reading persisted file ...", renames the
//     file to corrupted_<name> and recovers the rest.
//   - ROCKSDB, from 4.0.0 (the engine does not exist before): read has no
//     catch around deserialize, so recovery stops as FILESYSTEM's did.
const (
	OnUnreadableDelete     = "delete"     // the record is deleted, the rest recovered
	OnUnreadableStop       = "stop"       // recovery throws: the Master stays in STANDBY
	OnUnreadableQuarantine = "quarantine" // renamed to corrupted_<name>, the rest recovered
)

// Engine is a release's persistence engine, as far as an upgrade cares.
type Engine struct {
	Name string // "zookeeper", "filesystem", "rocksdb"
	// OnUnreadable is one of the OnUnreadable constants ("" when the
	// release has no such engine).
	OnUnreadable string
	// Filter: spark.deploy.recoverySerializationFilter exists (ZooKeeper).
	Filter bool
}

// engineSince lists, per engine, the first release of each behaviour,
// oldest first.
var engineSince = map[string][]struct {
	since  string
	engine Engine
}{
	"zookeeper": {
		{"2.4.0", Engine{Name: "zookeeper", OnUnreadable: OnUnreadableDelete}},
		{"4.3.0", Engine{Name: "zookeeper", OnUnreadable: OnUnreadableDelete, Filter: true}},
	},
	"filesystem": {
		{"2.4.0", Engine{Name: "filesystem", OnUnreadable: OnUnreadableStop}},
		{"4.3.0", Engine{Name: "filesystem", OnUnreadable: OnUnreadableQuarantine}},
	},
	"rocksdb": {
		{"4.0.0", Engine{Name: "rocksdb", OnUnreadable: OnUnreadableStop}},
	},
}

// EngineOf returns what engine ("zookeeper", "filesystem", "rocksdb", or
// their short forms zk and fs) of Spark release spark ("4.3.0") does with
// a record it cannot read. ok is false for an unknown engine or a release
// that predates it.
func EngineOf(spark, engine string) (e Engine, ok bool) {
	name := strings.ToLower(engine)
	switch name {
	case "zk":
		name = "zookeeper"
	case "fs":
		name = "filesystem"
	}
	for _, s := range engineSince[name] {
		if compareRelease(spark, s.since) >= 0 {
			e, ok = s.engine, true
		}
	}
	return e, ok
}

// Effect words what the Master does with an unreadable record named name.
func (e Engine) Effect(name string) string {
	switch e.OnUnreadable {
	case OnUnreadableDelete:
		return "deleted"
	case OnUnreadableStop:
		return "Master will not become ALIVE"
	case OnUnreadableQuarantine:
		return "quarantined as " + QuarantinePrefix + name
	}
	return ""
}

// QuarantinePrefix starts the name a 4.3 FILESYSTEM Master gives a record
// it could not read.
const QuarantinePrefix = "corrupted_"

// compareRelease orders "X.Y.Z" releases numerically (a Scala suffix is
// ignored); a part that is no number counts as 0.
func compareRelease(a, b string) int {
	a, _, _ = strings.Cut(a, "-")
	b, _, _ = strings.Cut(b, "-")
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Quarantined reports whether an entry name is a record a 4.3 FILESYSTEM
// Master renamed after failing to read it (corrupted_app_..., ...), and
// the record's own name.
func Quarantined(name string) (record string, ok bool) {
	rest, found := strings.CutPrefix(name, QuarantinePrefix)
	if !found {
		return "", false
	}
	if _, named := codec.KindOf(rest); !named || strings.HasSuffix(rest, "_") {
		return "", false // a record name has a prefix and an id
	}
	return rest, true
}

// DefaultRecoveryFilter is spark.deploy.recoverySerializationFilter's
// default in 4.3.0 (internal/config/Deploy): JDK, Scala and Spark classes.
const DefaultRecoveryFilter = "java.**;scala.**;org.apache.spark.**;!*"

// filterRejects applies a 4.3 ZooKeeper engine's recovery filter to a
// record Predict judged: ObjectInputStream calls the filter on each class
// as its descriptor is read, before the serialVersionUID check, so a
// rejected class named before (or at) the first descriptor failure wins,
// and the engine skips the znode instead of deleting it. Failures found
// later (ClassCastException when fields are set, a class not found)
// come after every descriptor of the record. The filter only sees classes
// that resolve: one not on the target's class path passes it as
// undecided (ObjectInputFilter.Config's pattern filter) and fails later
// with ClassNotFoundException, which deletes the znode.
func filterRejects(p *Prediction, s *Stream, t *Table, f *Filter) {
	failAt := len(s.Classes)
	if p.Verdict != VerdictOK && p.Verdict != VerdictUnknown && p.Exception == "java.io.InvalidClassException" {
		for i, c := range s.Classes {
			if c.Name == p.Class {
				failAt = i
				break
			}
		}
	}
	for i, c := range s.Classes {
		if i > failAt {
			return
		}
		if !onClassPath(t, c.Name) {
			continue
		}
		if st, why := f.CheckWhy(c.Name); st == Rejected {
			p.Verdict, p.Class, p.Exception = VerdictSkipped, c.Name, "java.io.InvalidClassException"
			p.Reason = "filter status: REJECTED"
			p.Effect = "skipped, not deleted (rejected by spark.deploy.recoverySerializationFilter " + why + ")"
			return
		}
	}
}

// onClassPath: the class (an array's element class) is in the target's
// table or a probe found it on its class path.
func onClassPath(t *Table, name string) bool {
	if strings.HasPrefix(name, "[") {
		name = baseClass(name)
		if name == "" {
			return false
		}
	}
	if c, _ := t.Lookup(name); c != nil {
		return true
	}
	present, known := t.Present(name)
	return present && known
}
