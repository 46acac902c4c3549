// Package store defines where Spark's recovery records live, independent of
// the backing system. It knows record names and bytes, never their meaning:
// decoding belongs to codec. The concrete stores are store/fs (a
// FILESYSTEM recovery directory) and store/zk (the ZOOKEEPER master_status
// znode); migrate and backup are written once against Store.
package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Kind is what a record name says the record holds.
type Kind int

const (
	// KindForeign is any entry whose name is not a Spark record name. Tools
	// report foreign entries and never change them.
	KindForeign Kind = iota
	KindApp
	KindDriver
	KindWorker
)

var kindPrefixes = []struct {
	kind   Kind
	prefix string
}{
	{KindApp, "app_"},
	{KindDriver, "driver_"},
	{KindWorker, "worker_"},
}

func (k Kind) String() string {
	switch k {
	case KindApp:
		return "app"
	case KindDriver:
		return "driver"
	case KindWorker:
		return "worker"
	}
	return "foreign"
}

// ParseName splits a record name into its kind and id. Spark builds names as
// prefix + id and ids may contain '_', '-' and '.', so only the prefix is
// significant. A name with a known prefix and an empty id is foreign.
func ParseName(name string) (Kind, string) {
	for _, p := range kindPrefixes {
		if id, ok := strings.CutPrefix(name, p.prefix); ok && id != "" {
			return p.kind, id
		}
	}
	return KindForeign, ""
}

// ACL is one ZooKeeper access control entry. Perms uses ZooKeeper's bits
// (read 1, write 2, create 4, delete 8, admin 16).
type ACL struct {
	Perms  int32  `json:"perms"`
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

// Entry describes one stored record without its bytes.
type Entry struct {
	Name    string
	Kind    Kind
	ID      string
	Size    int64
	ModTime time.Time // zero where the store has no modification time
	ACL     []ACL     // nil outside ZooKeeper, and where a scan did not ask
	// Version is ZooKeeper's data version of the znode as it was read, the
	// condition of a later replace or delete (Op.SeenVersion); -1 where the
	// store keeps no version (a directory compares content instead).
	Version int64
}

// Record is an entry with its bytes.
type Record struct {
	Entry
	Data []byte
}

// NewRecord builds a record from a name and its bytes, parsing the name.
func NewRecord(name string, data []byte) Record {
	kind, id := ParseName(name)
	return Record{Entry: Entry{Name: name, Kind: kind, ID: id, Size: int64(len(data)), Version: -1}, Data: data}
}

// Sentinel errors callers branch on; stores wrap them with the record name.
var (
	ErrNotFound = errors.New("record not found")
	// ErrExists is a create that found the name taken: a create never
	// overwrites.
	ErrExists = errors.New("record already exists")
	// ErrChanged is a replace or delete whose record is no longer what the
	// plan saw (another version in ZooKeeper, other bytes in a directory).
	ErrChanged = errors.New("record changed since it was planned")
	// ErrUnavailable means the store could not be reached at all (ZooKeeper
	// down, directory missing); the command maps it to its own exit code.
	ErrUnavailable = errors.New("store unavailable")
	// ErrLocked is a writer refused because another one holds the store
	// (Store.Lock); it names the holder.
	ErrLocked = errors.New("another writer holds the store")
	// ErrTooLarge is one change bigger than the store takes in one request
	// (a record over ZooKeeper's jute.maxbuffer).
	ErrTooLarge = errors.New("record too large for the store")
)

// ScanRequest says what a Scan reads.
type ScanRequest struct {
	// Names are the records to read; nil reads every entry of the store
	// (Spark records and foreign entries alike).
	Names []string
	// ACL also reads each record's ACL, where the store has ACLs; it costs
	// ZooKeeper one more request per record.
	ACL bool
}

// Reader is what every store does, written or only read: list its
// entries and read their bytes.
type Reader interface {
	// List returns every entry, Spark records and foreign ones, sorted by
	// name.
	List(ctx context.Context) ([]Entry, error)
	// Read returns one record, with its ACL where the store has ACLs;
	// ErrNotFound if absent.
	Read(ctx context.Context, name string) (Record, error)
	// Scan reads many records the fastest way the store has (ZooKeeper:
	// many znodes per multiRead; a directory: several files at once) and
	// calls fn once per record, never concurrently, in no set order. A
	// record that cannot be read is passed to fn with its error (a name
	// absent: ErrNotFound) and the scan goes on; an error from fn stops it
	// and is returned. Data belongs to the caller.
	Scan(ctx context.Context, req ScanRequest, fn func(Record, error) error) error
	// String names the store for people: "fs:///var/spark/recovery".
	String() string
}

// OpKind is what one change does.
type OpKind int

const (
	// OpCreate writes a record that must not exist: ErrExists otherwise.
	OpCreate OpKind = iota
	// OpReplace writes over a record that must still be as the plan saw
	// it: ErrChanged otherwise (ErrNotFound when it is gone).
	OpReplace
	// OpDelete removes a record that must still be as the plan saw it.
	OpDelete
)

func (k OpKind) String() string {
	switch k {
	case OpCreate:
		return "create"
	case OpReplace:
		return "replace"
	case OpDelete:
		return "delete"
	}
	return "op?"
}

// Op is one conditional change.
type Op struct {
	Kind OpKind
	// Record names the record; Data (and, for a create, ACL) is what is
	// written.
	Record Record
	// SeenVersion (ZooKeeper) and SeenSHA256 (a directory) are the record
	// as the plan read it: the condition of a replace or delete.
	SeenVersion int64
	SeenSHA256  [32]byte
}

// OpError is the change of a batch that failed, and how many of the
// batch's changes before it the store carried out (0 where a batch is one
// transaction).
type OpError struct {
	Index   int
	Name    string
	Applied int
	Err     error
}

func (e *OpError) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *OpError) Unwrap() error { return e.Err }

// Store is a store that recoverctl writes: every command that changes
// one goes through the plan engine, which calls Lock, then Apply in
// batches of at most MaxBatch.
type Store interface {
	Reader
	// Apply carries out a batch of changes in order, each conditional as
	// OpKind says: on ZooKeeper one multi transaction (all or none), in a
	// directory each change atomic and durable, in order, the batch's
	// fsyncs shared. A failed change is an *OpError.
	Apply(ctx context.Context, ops []Op) error
	// Cost is what one change counts against MaxBatch.
	Cost(op Op) int
	// MaxBatch is the most that one Apply of several changes takes,
	// counted by Cost; a larger change goes in a batch of its own.
	MaxBatch() int
	// MaxChange is the largest change the store takes at all, counted by
	// Cost (ZooKeeper: one request under jute.maxbuffer); a larger one is
	// ErrTooLarge, and planners refuse it before writing anything.
	MaxChange() int
	// Lock claims the store for one writer until unlock is called or the
	// process dies (a directory: flock on the directory; ZooKeeper: an
	// ephemeral znode beside master_status). Another holder is ErrLocked.
	Lock(ctx context.Context, holder string) (unlock func() error, err error)
	// Commit makes the batches applied so far durable where Apply only
	// stages them (a RocksDB database is rewritten whole beside the old
	// one and swapped in); the engine calls it after the last batch and
	// before the read-back. Stores that apply every batch as it comes do
	// nothing.
	Commit(ctx context.Context) error
}

// Participant is one Master taking part in a store's leader election
// (ZooKeeper: a znode of Curator's LeaderLatch under leader_election).
type Participant struct {
	Node    string    // znode name, "_c_<uuid>-latch-<seq>"
	Seq     int64     // sequence suffix; -1 when the name has none
	Session int64     // ephemeralOwner: the Master's ZooKeeper session
	Created time.Time // when the Master joined the election
	ID      []byte    // latch data: the participant id ("" for Spark)
	Leader  bool
}
