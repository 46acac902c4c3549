import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.*;

/**
 * Writes small RocksDB databases with the rocksdbjni that Spark 4.x ships, so the Go reader is checked
 * against files RocksDB itself wrote: SSTs at the bottom level (ZSTD) and L0 (LZ4), tombstones, a range
 * deletion, column families, several checksum types and format versions, and a WAL tail that was never
 * flushed (as a killed Master leaves it). Then reopens each database read-only and writes what RocksDB's
 * own iterator returns to expected.tsv (column family, key in hex, value length, value SHA-256), the truth for the tests.
 *
 * Usage (from store/rocksdb/testdata):
 *   java -cp ~/.cache/recoverctl/spark/4.0.5-2.13/jars/rocksdbjni-9.8.4.jar RocksGen.java jvm
 */
public class RocksGen {
  static byte[] value(String key, int n, int pad) {
    // Shaped like Spark's values: a serialized-looking head, repetitive text, zero padding.
    byte[] v = new byte[n + pad];
    byte[] head = new byte[] {(byte) 0xAC, (byte) 0xED, 0, 5, 0x73, 0x72};
    System.arraycopy(head, 0, v, 0, Math.min(head.length, n));
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    long x = key.hashCode();
    for (int i = head.length; i < n; i++) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      v[i] = (i % 7 == 0) ? (byte) (x >>> 56) : k[i % k.length];
    }
    return v;
  }

  static String name(int i) {
    switch (i % 3) {
      case 0: return String.format("app_app-20261128051446-%04d", i);
      case 1: return String.format("driver_driver-20261128051409-%04d", i);
      default: return String.format("worker_worker-20261128051338-127.0.0.1-%05d", 30000 + i);
    }
  }

  static BlockBasedTableConfig table(int formatVersion, ChecksumType ck) {
    return new BlockBasedTableConfig()
        .setFilterPolicy(new BloomFilter(10.0D, false))
        .setEnableIndexCompression(false)
        .setIndexBlockRestartInterval(8)
        .setFormatVersion(formatVersion)
        .setChecksumType(ck);
  }

  static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

  /** Spark's own options (RocksDBPersistenceEngine of 4.0/4.3), default column family only. */
  static void sparkOptions(Path dir) throws Exception {
    try (Options o = new Options().setCreateIfMissing(true)
            .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(table(5, ChecksumType.kXXH3));
         RocksDB db = RocksDB.open(o, dir.toString());
         FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      for (int i = 0; i < 300; i++) db.put(b(name(i)), value(name(i), 300 + (i * 37) % 2500, 512));
      db.flush(fo);
      try (CompactRangeOptions cro = new CompactRangeOptions()
              .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce)) {
        db.compactRange(db.getDefaultColumnFamily(), null, null, cro); // rewritten at the bottom: ZSTD blocks
      }
      for (int i = 0; i < 300; i += 7) db.put(b(name(i)), value(name(i) + "v2", 900, 128));
      for (int i = 3; i < 300; i += 11) db.delete(b(name(i)));
      db.deleteRange(b("driver_driver-20261128051409-0100"), b("driver_driver-20261128051409-0200"));
      db.flush(fo); // L0, LZ4, with tombstones and a range tombstone
      for (int i = 1; i < 300; i += 13) db.put(b(name(i)), value(name(i) + "v3", 700, 64));
      for (int i = 5; i < 300; i += 17) db.delete(b(name(i)));
      db.singleDelete(b(name(299)));
      db.put(b(name(400)), value(name(400), 70000, 9000)); // spans three 32 KiB log blocks
      try (WriteBatch wb = new WriteBatch(); WriteOptions wo = new WriteOptions()) {
        wb.put(b(name(401)), value(name(401), 1000, 0));
        wb.delete(b(name(402)));
        wb.put(b(name(402)), value(name(402), 50, 0));
        db.write(wo, wb);
      }
      // Closed without a flush: the last writes are only in the WAL, as a killed Master leaves them.
    }
  }

  /** The upstream change that moves records into app_/driver_/worker_ column families. */
  static void columnFamilies(Path dir) throws Exception {
    List<ColumnFamilyDescriptor> ds = new ArrayList<>();
    ColumnFamilyOptions cfo = new ColumnFamilyOptions()
        .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION)
        .setCompressionType(CompressionType.LZ4_COMPRESSION)
        .setTableFormatConfig(table(5, ChecksumType.kXXH3));
    ds.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfo));
    List<ColumnFamilyHandle> hs = new ArrayList<>();
    try (DBOptions o = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
         RocksDB db = RocksDB.open(o, dir.toString(), ds, hs);
         FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      // Old layout first: everything in the default family, flushed.
      for (int i = 0; i < 60; i++) db.put(b(name(i)), value(name(i), 400 + i * 20, 256));
      db.put(b("foreign-key"), b("not a spark record"));
      db.flush(fo);
      ColumnFamilyHandle tmp = db.createColumnFamily(new ColumnFamilyDescriptor(b("tmp"), cfo));
      db.put(tmp, b("app_in-dropped-family"), b("must not show"));
      db.flush(fo, tmp);
      db.dropColumnFamily(tmp);
      tmp.close();
      ColumnFamilyHandle[] cf = new ColumnFamilyHandle[3];
      String[] pre = {"app_", "driver_", "worker_"};
      for (int j = 0; j < 3; j++) cf[j] = db.createColumnFamily(new ColumnFamilyDescriptor(b(pre[j]), cfo));
      // Then the migration Spark runs on open: put into the family, delete from default, one batch.
      try (WriteBatch wb = new WriteBatch(); WriteOptions wo = new WriteOptions().setSync(true)) {
        for (int i = 0; i < 60; i++) {
          String n = name(i);
          byte[] v = db.get(b(n));
          for (int j = 0; j < 3; j++) if (n.startsWith(pre[j])) wb.put(cf[j], b(n), v);
          wb.delete(b(n));
        }
        db.write(wo, wb);
      }
      for (int j = 0; j < 3; j++) db.flush(fo, cf[j]);
      for (int i = 0; i < 60; i += 4) db.delete(cf[i % 3], b(name(i)));
      for (int i = 60; i < 90; i++) db.put(cf[i % 3], b(name(i)), value(name(i), 800, 100));
      for (ColumnFamilyHandle h : cf) h.close();
      for (ColumnFamilyHandle h : hs) h.close();
    }
  }

  /** Other checksum types, compressions and format versions a database may carry. */
  static void variant(Path dir, int fv, ChecksumType ck, CompressionType comp, boolean recycle) throws Exception {
    try (Options o = new Options().setCreateIfMissing(true)
            .setCompressionType(comp).setBottommostCompressionType(comp)
            .setRecycleLogFileNum(recycle ? 2 : 0)
            .setTableFormatConfig(table(fv, ck).setBlockRestartInterval(4));
         RocksDB db = RocksDB.open(o, dir.toString());
         FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      for (int i = 0; i < 80; i++) db.put(b(name(i)), value(name(i), 200 + i * 31, 64));
      db.flush(fo);
      for (int i = 0; i < 80; i += 5) db.delete(b(name(i)));
      for (int i = 1; i < 80; i += 6) db.put(b(name(i)), value(name(i) + "w", 333, 0));
      db.flush(fo);
      for (int i = 2; i < 80; i += 9) db.put(b(name(i)), value(name(i) + "x", 111, 0));
      db.delete(b(name(7)));
    }
  }

  /** Index and data block layouts Spark does not configure but a copied database may have. */
  static void indexVariant(Path dir, IndexType it) throws Exception {
    BlockBasedTableConfig tc = table(5, ChecksumType.kXXH3)
        .setIndexType(it)
        .setDataBlockIndexType(DataBlockIndexType.kDataBlockBinaryAndHash)
        .setMetadataBlockSize(256); // many index partitions
    if (it == IndexType.kTwoLevelIndexSearch) tc.setPartitionFilters(true);
    try (Options o = new Options().setCreateIfMissing(true)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(tc);
         RocksDB db = RocksDB.open(o, dir.toString());
         FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      for (int i = 0; i < 120; i++) db.put(b(name(i)), value(name(i), 100 + i * 13, 32));
      db.flush(fo);
      for (int i = 0; i < 120; i += 4) db.delete(b(name(i)));
      db.flush(fo);
    }
  }

  /**
   * A writer killed with SIGKILL, as Spark's Master is in the captures, but after flushes and a
   * compaction: SSTs on two levels plus a log tail. Runs in a child JVM that the parent kills.
   */
  static void killedWriter(Path dir) throws Exception {
    try (Options o = new Options().setCreateIfMissing(true)
            .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(table(5, ChecksumType.kXXH3));
         RocksDB db = RocksDB.open(o, dir.toString());
         FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      for (int i = 0; i < 120; i++) db.put(b(name(i)), value(name(i), 200 + i * 17, 300));
      db.flush(fo);
      try (CompactRangeOptions cro = new CompactRangeOptions()
              .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce)) {
        db.compactRange(db.getDefaultColumnFamily(), null, null, cro);
      }
      for (int i = 0; i < 120; i += 5) db.delete(b(name(i)));
      for (int i = 1; i < 120; i += 8) db.put(b(name(i)), value(name(i) + "b", 500, 100));
      db.flush(fo);
      for (int i = 2; i < 120; i += 9) db.put(b(name(i)), value(name(i) + "c", 400, 0));
      for (int i = 3; i < 120; i += 10) db.delete(b(name(i)));
      System.out.println("ready");
      System.out.flush();
      Thread.sleep(600_000);
    }
  }

  static void killed(Path dir) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "RocksGen.java", "child", dir.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
      String line = r.readLine();
      if (!"ready".equals(line)) throw new IllegalStateException("child said " + line);
    }
    p.destroyForcibly(); // SIGKILL
    p.waitFor();
  }

  static String hex(byte[] a) {
    StringBuilder s = new StringBuilder(a.length * 2);
    for (byte x : a) s.append(String.format("%02x", x));
    return s.toString();
  }

  static void dump(Path dir) throws Exception {
    List<byte[]> names;
    try (Options o = new Options()) { names = RocksDB.listColumnFamilies(o, dir.toString()); }
    List<ColumnFamilyDescriptor> ds = new ArrayList<>();
    for (byte[] n : names) ds.add(new ColumnFamilyDescriptor(n));
    List<ColumnFamilyHandle> hs = new ArrayList<>();
    try (DBOptions o = new DBOptions();
         RocksDB db = RocksDB.openReadOnly(o, dir.toString(), ds, hs);
         PrintWriter w = new PrintWriter(Files.newBufferedWriter(dir.resolveSibling("expected.tsv")))) {
      for (int i = 0; i < hs.size(); i++) {
        try (RocksIterator it = db.newIterator(hs.get(i))) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            w.println(new String(names.get(i), StandardCharsets.UTF_8) + "\t" + hex(it.key()) + "\t"
                + it.value().length + "\t" + hex(java.security.MessageDigest.getInstance("SHA-256").digest(it.value())));
          }
        }
      }
      for (ColumnFamilyHandle h : hs) h.close();
    }
  }

  public static void main(String[] args) throws Exception {
    RocksDB.loadLibrary();
    if (args[0].equals("child")) {
      killedWriter(Paths.get(args[1]));
      return;
    }
    Path out = Paths.get(args[0]);
    String[] vs = {"spark-options", "column-families", "crc32c-snappy-v2", "xxhash64-none-v4", "xxhash-zstd-v3", "xxh3-lz4-v6-recycled",
        "partitioned-index", "first-key-index", "killed-with-ssts"};
    for (String v : vs) {
      Path d = out.resolve(v).resolve("db");
      Files.createDirectories(d);
      switch (v) {
        case "spark-options": sparkOptions(d); break;
        case "column-families": columnFamilies(d); break;
        case "crc32c-snappy-v2": variant(d, 2, ChecksumType.kCRC32c, CompressionType.SNAPPY_COMPRESSION, false); break;
        case "xxhash64-none-v4": variant(d, 4, ChecksumType.kxxHash64, CompressionType.NO_COMPRESSION, false); break;
        case "xxhash-zstd-v3": variant(d, 3, ChecksumType.kxxHash, CompressionType.ZSTD_COMPRESSION, false); break;
        case "xxh3-lz4-v6-recycled": variant(d, 6, ChecksumType.kXXH3, CompressionType.LZ4_COMPRESSION, true); break;
        case "partitioned-index": indexVariant(d, IndexType.kTwoLevelIndexSearch); break;
        case "first-key-index": indexVariant(d, IndexType.kBinarySearchWithFirstKey); break;
        default: killed(d); break;
      }
      // RocksDB's info logs and option dumps say nothing the tests need.
      try (var s = Files.list(d)) {
        for (Path p : (Iterable<Path>) s::iterator) {
          String f = p.getFileName().toString();
          if (f.startsWith("LOG")) Files.delete(p);
        }
      }
      Path copy = out.resolve(v).resolve("scratch");
      Files.createDirectories(copy);
      try (var s = Files.list(d)) {
        for (Path p : (Iterable<Path>) s::iterator) Files.copy(p, copy.resolve(p.getFileName()));
      }
      dump(copy); // read-only open may still write a LOG: do it on a copy
      try (var s = Files.walk(copy)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
      System.out.println(v + " done");
    }
  }
}
