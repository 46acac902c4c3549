import java.io.PrintStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.rocksdb.*;

/**
 * Opens a database as Spark 4.x's RocksDBPersistenceEngine opens it (read-write, createIfMissing, its
 * compression and table options), so that RocksDB recovers it, and prints what RocksDB's own iterator
 * returns: one line per key, "key in hex, value length, value SHA-256", tab-separated, in key order.
 * Closing the database flushes what the recovery replayed into an SST and writes a new MANIFEST.
 *
 * Usage: java -cp rocksdbjni-9.8.4.jar RocksCheck.java DIR
 */
public class RocksCheck {
  public static void main(String[] args) throws Exception {
    RocksDB.loadLibrary();
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    HexFormat hex = HexFormat.of();
    BlockBasedTableConfig table = new BlockBasedTableConfig()
        .setFilterPolicy(new BloomFilter(10.0D, false))
        .setEnableIndexCompression(false)
        .setIndexBlockRestartInterval(8)
        .setFormatVersion(5);
    try (Options o = new Options().setCreateIfMissing(true)
            .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(table);
         RocksDB db = RocksDB.open(o, args[0]);
         RocksIterator it = db.newIterator()) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] v = it.value();
        out.println(hex.formatHex(it.key()) + "\t" + v.length + "\t" + hex.formatHex(sha.digest(v)));
      }
      it.status();
    }
    out.flush();
  }
}
