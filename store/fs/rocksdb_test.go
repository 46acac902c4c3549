package fs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/store/fs"
)

// rocksdbDirs are the databases real RocksDBs wrote: Spark Masters' and
// rocksdbjni's (with SSTs, tombstones, column families).
func rocksdbDirs(t *testing.T) []string {
	t.Helper()
	spark, _ := filepath.Glob("../../testdata/spark/*/rocksdb/rocksdb")
	jvm, _ := filepath.Glob("../rocksdb/testdata/jvm/*/db")
	if len(spark) == 0 || len(jvm) == 0 {
		t.Fatalf("RocksDB databases missing: %d Spark captures, %d rocksdbjni databases", len(spark), len(jvm))
	}
	return append(spark, jvm...)
}

func copyDir(t *testing.T, from string, skip ...string) string {
	t.Helper()
	to := t.TempDir()
	des, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if !de.Type().IsRegular() || strings.Contains(strings.Join(skip, "\x00"), de.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, de.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

func TestOpenRefusesRocksDB(t *testing.T) {
	for _, dir := range rocksdbDirs(t) {
		t.Run(dir, func(t *testing.T) {
			s, err := fs.Open(dir)
			if !errors.Is(err, fs.ErrRocksDB) {
				t.Fatalf("Open(%s) = %v, %v; want ErrRocksDB", dir, s, err)
			}
			if !strings.Contains(err.Error(), "MANIFEST-") {
				t.Errorf("error does not name the database's files: %v", err)
			}
		})
	}
	// A database whose CURRENT is gone (a damaged one) is still no place
	// of foreign files.
	damaged := copyDir(t, rocksdbDirs(t)[0], "CURRENT")
	if _, err := fs.Open(damaged); !errors.Is(err, fs.ErrRocksDB) {
		t.Errorf("database without CURRENT: %v, want ErrRocksDB", err)
	}
}

func TestOpenKeepsRecoveryDirectories(t *testing.T) {
	caps, _ := filepath.Glob("../../testdata/spark/*/filesystem/records")
	if len(caps) == 0 {
		t.Fatal("no FILESYSTEM capture")
	}
	for _, dir := range caps {
		if _, err := fs.Open(dir); err != nil {
			t.Errorf("Open(%s): %v", dir, err)
		}
	}
	// A marker name alone, or a log-like name alone, is a foreign file in a
	// recovery directory, not a database.
	for _, names := range [][]string{{"LOCK", "app_app-1"}, {"000004.log", "MANIFEST-000005", "worker_w"}, {"CURRENT", "notes.txt"}} {
		dir := t.TempDir()
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := fs.Open(dir); err != nil {
			t.Errorf("Open of a directory holding %v: %v", names, err)
		}
	}
}
