// Gen writes sample records through Spark's own CompressionCodec and serializers, so the
// envelope tests check the Go decoder against the exact framing Spark produces. See gen.sh.
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.Random;

import org.apache.spark.SparkConf;
import org.apache.spark.deploy.Command;
import org.apache.spark.deploy.DriverDescription;
import org.apache.spark.deploy.master.DriverInfo;
import org.apache.spark.deploy.master.WorkerInfo;
import org.apache.spark.io.CompressionCodec;
import org.apache.spark.io.CompressionCodec$;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializationStream;
import org.apache.spark.serializer.Serializer;
import scala.collection.immutable.Nil$;
import scala.reflect.ClassTag$;

public class Gen {
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    Files.createDirectories(out);
    SparkConf conf = new SparkConf(false);

    // Fixed values only: the committed samples must not change when regenerated.
    WorkerInfo worker = new WorkerInfo("worker-20260101000000-10.0.0.7-35000", "10.0.0.7", 35000, 8,
        16384, null, "http://10.0.0.7:8081", scala.collection.immutable.Map$.MODULE$.empty());
    Command cmd = new Command("org.apache.spark.deploy.worker.DriverWrapper", nil(),
        scala.collection.immutable.Map$.MODULE$.empty(), nil(), nil(), nil());
    DriverInfo driver = new DriverInfo(1767225600000L, "driver-20260101000000-0000",
        new DriverDescription("file:/tmp/app.jar", 1024, 1, false, cmd, nil()),
        new Date(1767225600000L));

    // Larger than 64 KiB, half compressible and half not, so every codec writes several
    // blocks/chunks and lz4/lzf write both compressed and stored ones.
    ArrayList<Object> large = new ArrayList<>();
    Random rnd = new Random(42);
    for (int i = 0; i < 1500; i++) {
      large.add("app-20260101000000-" + String.format("%04d", i) + " running on worker-" + (i % 7));
    }
    byte[] noise = new byte[60000];
    rnd.nextBytes(noise);
    large.add(noise);

    Serializer java = new JavaSerializer(conf);
    write(out, "small", java, null, conf, worker);
    write(out, "large", java, null, conf, large);
    write(out, "driver", java, null, conf, driver);
    for (String codec : new String[] {"lz4", "lzf", "snappy", "zstd"}) {
      write(out, "small", java, codec, conf, worker);
      write(out, "large", java, codec, conf, large);
      writeEmpty(out, codec, conf);
    }
    SparkConf par = conf.clone().set("spark.io.compression.lzf.parallel.enabled", "true");
    write(out, "large-parallel", java, "lzf", par, large);

    Serializer kryo = new KryoSerializer(conf);
    write(out, "kryo-worker", kryo, null, conf, worker);
    write(out, "kryo-driver", kryo, null, conf, driver);
    write(out, "kryo-worker", kryo, "lz4", conf, worker);
  }

  // Same shape as FileSystemPersistenceEngine.serializeIntoFile: serializer stream over the
  // codec stream over the file, one writeObject, close.
  static void write(Path dir, String name, Serializer ser, String codec, SparkConf conf, Object v)
      throws IOException {
    // Uncompressed records double as the expected payload of "<codec>-<name>.bin".
    if (codec == null) {
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      SerializationStream plain = ser.newInstance().serializeStream(raw);
      plain.writeObject(v, ClassTag$.MODULE$.Any());
      plain.close();
      Files.write(dir.resolve(name + ".bin"), raw.toByteArray());
      return;
    }
    try (FileOutputStream f = new FileOutputStream(dir.resolve(codec + "-" + name + ".bin").toFile())) {
      CompressionCodec c = CompressionCodec$.MODULE$.createCodec(conf, codec);
      SerializationStream s = ser.newInstance().serializeStream(c.compressedOutputStream(f));
      s.writeObject(v, ClassTag$.MODULE$.Any());
      s.close();
    }
  }

  @SuppressWarnings("unchecked")
  static <T> scala.collection.immutable.Seq<T> nil() {
    return (scala.collection.immutable.Seq<T>) (Object) Nil$.MODULE$;
  }

  static void writeEmpty(Path dir, String codec, SparkConf conf) throws IOException {
    try (FileOutputStream f = new FileOutputStream(dir.resolve(codec + "-empty.bin").toFile())) {
      OutputStream s = CompressionCodec$.MODULE$.createCodec(conf, codec).compressedOutputStream(f);
      s.close();
    }
  }
}
