import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

/**
 * Writes every key/value pair of a (copied) Spark ROCKSDB recovery directory as one file per key,
 * so decoder tests need no RocksDB. Opens read-only; run it on a scratch copy because RocksDB
 * may still write an info LOG.
 *
 * Usage: RocksDump dbDir outDir
 */
public class RocksDump {
  public static void main(String[] args) throws Exception {
    RocksDB.loadLibrary();
    Path out = Paths.get(args[1]);
    Files.createDirectories(out);
    try (Options opts = new Options();
         RocksDB db = RocksDB.openReadOnly(opts, args[0]);
         RocksIterator it = db.newIterator()) {
      int n = 0;
      for (it.seekToFirst(); it.isValid(); it.next()) {
        String key = new String(it.key(), StandardCharsets.UTF_8);
        if (key.isEmpty() || key.contains("/") || key.startsWith(".")) {
          throw new IllegalStateException("unexpected key " + key);
        }
        Files.write(out.resolve(key), it.value());
        n++;
      }
      System.out.println(n + " keys");
    }
  }
}
