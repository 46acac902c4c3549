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
	ACL     []ACL     // nil outside ZooKeeper
}

// Record is an entry with its bytes.
type Record struct {
	Entry
	Data []byte
}

// NewRecord builds a record from a name and its bytes, parsing the name.
func NewRecord(name string, data []byte) Record {
	kind, id := ParseName(name)
	return Record{Entry: Entry{Name: name, Kind: kind, ID: id, Size: int64(len(data))}, Data: data}
}

// Sentinel errors callers branch on; stores wrap them with the record name.
var (
	ErrNotFound = errors.New("record not found")
	ErrExists   = errors.New("record already exists")
	// ErrUnavailable means the store could not be reached at all (ZooKeeper
	// down, directory missing); the command maps it to its own exit code.
	ErrUnavailable = errors.New("store unavailable")
)

// Store is the only thing migrate and backup know about where records live.
type Store interface {
	// List returns every entry, Spark records and foreign ones, sorted by name.
	List(ctx context.Context) ([]Entry, error)
	// Read returns one record's bytes; ErrNotFound if absent.
	Read(ctx context.Context, name string) (Record, error)
	// Write creates or replaces one record atomically.
	Write(ctx context.Context, rec Record) error
	// WriteBatch writes several records; the ZooKeeper store makes each call
	// one transaction, so callers size batches (see MaxBatchBytes).
	WriteBatch(ctx context.Context, recs []Record) error
	// Delete removes one record; ErrNotFound if absent.
	Delete(ctx context.Context, name string) error
	// String names the store for people: "fs:///var/spark/recovery".
	String() string
}
