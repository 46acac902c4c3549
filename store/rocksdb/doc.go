// Package rocksdb reads the RocksDB database that Spark 4's
// RocksDBPersistenceEngine (spark.deploy.recoveryMode=ROCKSDB) keeps in
// spark.deploy.recoveryDirectory, in pure Go, and writes new ones (see
// Writing below). Open is read-only: CURRENT, the
// MANIFEST it names (live SSTs per column family and level, log numbers,
// last sequence), every live SST of the block-based table format, and the
// write-ahead logs not yet flushed, merged as RocksDB merges them (per key
// the highest sequence wins; deletions, single deletions and range deletions
// hide older versions; a log older than a column family's log number is
// already in that family's SSTs).
//
// Open never writes, locks or repairs anything: files are opened read-only,
// and the LOCK file is only asked (an open file description lock query, which
// sees RocksDB's POSIX lock even from this process). A database held by a live
// RocksDB is read as its files are, which is consistent up to the last
// complete write batch of the log, and Info says it was held.
//
// # What was checked on real files
//
// The Spark captures (testdata/spark/4.0.5-2.13/rocksdb and 4.3.0-2.13/rocksdb,
// both rocksdbjni 9.8.4, Master killed with SIGKILL) hold no SST at all: only
// MANIFEST-000005 (default column family, log number 0, last sequence 0) and
// 000004.log with five write batches of one Put each. A killed Master leaves
// everything in the log; the reader gives exactly the key/value pairs that
// rocksdbjni's own read-only open extracted (records/), padding included.
//
// Everything else was checked on databases written by rocksdbjni 9.8.4 and
// read back through its iterator (testdata/RocksGen.java, testdata/jvm/):
// Spark's own options (format_version 5, XXH3, LZ4 on L0 and ZSTD on the
// bottommost level after a forced compaction, full bloom filter, index block
// restart interval 8, tombstones, a range deletion, a single deletion, a
// 79 KB value in FIRST/MIDDLE/LAST log fragments, a log tail never flushed);
// the app_/driver_/worker_ column families of the upstream change that moves
// records out of the default family (with its migration batch and a dropped
// family); format_version 2, 3, 4 and 6 with CRC32C, xxHash, xxHash64 and XXH3
// checksums and snappy, ZSTD, LZ4 or no compression; recyclable log records;
// partitioned (two-level) and first-key indexes; data block hash indexes; and
// a writer killed with SIGKILL after flushes and a forced compaction (SSTs on
// L0 and L6, tombstones, a log tail). By hand, not in the tests: a database
// that another JVM held open and kept writing, flushing and compacting was
// read with Info.Locked set and no problem, and after that JVM was killed the
// reader gave the same 500 pairs as rocksdbjni's read-only open.
//
// Spark 4.0.5 and 4.3.0 use the default column family only (their
// RocksDBPersistenceEngine and the captures' MANIFESTs). Every live column
// family is read; when one name is in several, the family Spark reads it from
// (the one named by its prefix, else default) wins and Info.Problems says so.
//
// # Not supported, and what it gives
//
// A MANIFEST that is damaged, uses BlobDB edits, db_paths other than the
// database directory, or a comparator other than leveldb.BytewiseComparator
// (user-defined timestamps included) makes Open fail with a *FormatError
// naming the file and offset; only an incomplete last MANIFEST record (a
// killed writer) is tolerated, as a problem.
//
// Damage or unsupported data inside SSTs and logs does not stop Open: it is
// listed in Info.Problems and the rest is read. A data block that fails its
// checksum or does not decompress is skipped (zlib, bzip2 and xpress blocks,
// and LZ4/ZSTD blocks of format_version 0 and 1, are reported as
// ErrUnsupported); an SST whose footer, meta index, properties, index or
// range deletion block fails, and plain, cuckoo or ingested (global sequence)
// tables, are skipped whole. Log replay stops at the first damaged record or
// batch and replays no later log, as RocksDB's point-in-time recovery does; WAL
// compression, merge operands, blob indexes, wide columns, TimedPut values and
// transaction markers stop it the same way with ErrUnsupported. A key whose
// newest version in an SST is one of those value types is left out, with a
// problem.
//
// Logs are looked for in the database directory only: a database written with
// wal_dir elsewhere (Spark sets none) shows only what its SSTs hold.
//
// Open reads each file whole; memory is about the size of the database plus
// the live values, bounded by 4 GiB per file and 64 MiB per block.
//
// # Writing
//
// Create writes a new database directory in the form a Master killed before
// any flush leaves: CURRENT, a MANIFEST of one version edit (DB id,
// leveldb.BytewiseComparator, log number 0, next file number, last
// sequence 0; the default column family is implied, as in RocksDB's NewDB),
// an IDENTITY and one write-ahead log of write batches of puts. RocksDB
// (rocksdbjni 9.8.4, opened as Spark opens it) recovers it, flushes the log
// into an SST and writes its own MANIFEST and OPTIONS; no OPTIONS file is
// needed before (write_test.go runs testdata/RocksCheck.java on it).
//
// Target is the store.Store that restore, migrate and prune write through:
// Apply stages, Commit builds the whole new database beside the old one,
// reads it back and swaps the directories (see Target for what a crash at
// each step leaves and how the next run recovers).
package rocksdb
