package fs

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ErrRocksDB is a directory that holds a RocksDB database: the
// spark.deploy.recoveryDirectory of a ROCKSDB Master (Spark 4.0 and
// later). Read as a FILESYSTEM directory it would show no record and every
// database file as a foreign entry, which prune would plan to delete; so
// Open refuses it and the command names the reader to use.
var ErrRocksDB = errors.New("holds a RocksDB database (spark.deploy.recoveryMode=ROCKSDB), not FILESYSTEM recovery files")

// rocksdbMarkers are files RocksDB creates in every database directory
// and Spark never names a record so; one must be there before the
// directory is read for the rest.
var rocksdbMarkers = []string{"CURRENT", "IDENTITY", "LOCK"}

// rocksdbData are the names of a database's MANIFESTs, logs and tables.
var rocksdbData = regexp.MustCompile(`^(MANIFEST-[0-9]+|[0-9]+\.(log|sst))$`)

// rocksdbFiles returns the RocksDB file names that make dir a database,
// or nil. By name only: store/fs does not read the other stores' formats,
// and a Spark record is always named app_, driver_ or worker_, so these
// names never stand for records. A damaged database (CURRENT gone, a
// MANIFEST and logs left) still counts, since its files are still not
// foreign entries to delete.
func rocksdbFiles(dir string) []string {
	var found []string
	for _, m := range rocksdbMarkers {
		if fi, err := os.Stat(filepath.Join(dir, m)); err == nil && fi.Mode().IsRegular() {
			found = append(found, m)
		}
	}
	if len(found) == 0 {
		return nil // the common case costs three stats, not a listing
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var manifests, tables []string
	for _, de := range des {
		switch n := de.Name(); {
		case !rocksdbData.MatchString(n):
		case strings.HasPrefix(n, "MANIFEST-"):
			manifests = append(manifests, n)
		default:
			tables = append(tables, n)
		}
	}
	if len(manifests)+len(tables) == 0 {
		return nil
	}
	// Enough names for a person to recognise the database, not all of them.
	found = append(found, manifests[:min(len(manifests), 2)]...)
	found = append(found, tables[:min(len(tables), 2)]...)
	slices.Sort(found)
	return found
}
