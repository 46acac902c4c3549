// RocksBench reads a Spark ROCKSDB recovery store the way the Master's
// RocksDBPersistenceEngine does at recovery: rocksdbjni iterates the
// database, and Spark's JavaSerializer deserializes each value
// (newInstance().deserialize per record), with the version's own jars on
// the class path. It warms up on whole passes, then times passes and
// prints one line per pass: "pass <records> <seconds>".
//
// Usage: java -cp 'jars/*:.' RocksBench DBDIR WARMUP_PASSES PASSES
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;

import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

public final class RocksBench {
    static long sink;

    public static void main(String[] args) throws Throwable {
        RocksDB.loadLibrary();
        MethodHandles.Lookup l = MethodHandles.publicLookup();
        Class<?> confC = Class.forName("org.apache.spark.SparkConf");
        Class<?> serC = Class.forName("org.apache.spark.serializer.JavaSerializer");
        Class<?> instC = Class.forName("org.apache.spark.serializer.SerializerInstance");
        Class<?> tagC = Class.forName("scala.reflect.ClassTag");
        Object conf = confC.getConstructor(boolean.class).newInstance(false);
        Object ser = serC.getConstructor(confC).newInstance(conf);
        Object anyTag = tagC.getMethod("Any").invoke(null);
        MethodHandle newInstance = l.findVirtual(serC, "newInstance", MethodType.methodType(instC)).bindTo(ser);
        MethodHandle deserialize = l.findVirtual(instC, "deserialize", MethodType.methodType(Object.class, ByteBuffer.class, tagC));
        int warmup = Integer.parseInt(args[1]), passes = Integer.parseInt(args[2]);
        try (Options opts = new Options(); RocksDB db = RocksDB.openReadOnly(opts, args[0])) {
            for (int p = 0; p < warmup + passes; p++) {
                long start = System.nanoTime();
                long n = 0;
                try (RocksIterator it = db.newIterator()) {
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        Object inst = newInstance.invoke();
                        Object o = deserialize.invoke(inst, ByteBuffer.wrap(it.value()), anyTag);
                        sink += System.identityHashCode(o);
                        n++;
                    }
                }
                double s = (System.nanoTime() - start) / 1e9;
                if (p >= warmup) {
                    System.out.printf("pass %d %.3f%n", n, s);
                }
            }
        }
    }
}
