// DecodeBench deserializes Spark standalone Master recovery records on a
// warmed JVM, the reference recoverctl's Go decoder is measured against by
// bench/decode.sh. It has no compile-time dependency on Spark: bench/decode.sh
// compiles it once with plain javac and runs it with one Spark version's
// jars/ on the class path and the --add-opens options Spark's launcher adds.
//
// Usage: java DecodeBench MODE LISTFILE WARMUP_SECONDS WARMUP_RECORDS ITERATIONS|stdin SECONDS
//        java DecodeBench module-options   (prints the launcher's --add-opens options)
//
//   MODE oos:   new ObjectInputStream(new ByteArrayInputStream(bytes)).readObject(),
//               classes resolved by the application class loader (Spark's jars).
//   MODE spark: what the Master's persistence engines do per record:
//               new JavaSerializer(conf).newInstance().deserialize(ByteBuffer.wrap(bytes)),
//               a JavaDeserializationStream resolving classes through the
//               context class loader.
//
// LISTFILE names one record file a line; every file is read into memory
// before anything is timed. The warm-up decodes the whole set over and over
// for WARMUP_SECONDS and at least WARMUP_RECORDS records; then ITERATIONS
// timed iterations decode whole passes over the set until SECONDS have
// passed. ITERATIONS "stdin" runs one iteration per line read from standard
// input, until a line "end" or the end of input: bench/decode.sh uses it to interleave the iterations
// of the JVM and Go sides, so that a changing machine load falls on both. It
// prints a "warmup" line when warm, one "iter" line per iteration and a
// final "result" line of key=value pairs (the median iteration).
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.ObjectInputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public final class DecodeBench {
    interface Decoder {
        Object decode(byte[] b) throws Throwable;
    }

    static Decoder objectInputStream() {
        return b -> {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
                return in.readObject();
            }
        };
    }

    // Spark's own path, by reflection so that one class file serves Scala 2.12
    // and 2.13 builds; the method handles are resolved once, before timing.
    static Decoder sparkJavaSerializer() throws Throwable {
        MethodHandles.Lookup l = MethodHandles.publicLookup();
        Class<?> confC = Class.forName("org.apache.spark.SparkConf");
        Class<?> serC = Class.forName("org.apache.spark.serializer.JavaSerializer");
        Class<?> instC = Class.forName("org.apache.spark.serializer.SerializerInstance");
        Class<?> tagC = Class.forName("scala.reflect.ClassTag");
        Object conf = confC.getConstructor(boolean.class).newInstance(false);
        Object ser = serC.getConstructor(confC).newInstance(conf);
        Object anyTag = tagC.getMethod("Any").invoke(null);
        MethodHandle newInstance = l.findVirtual(serC, "newInstance", MethodType.methodType(instC)).bindTo(ser);
        MethodHandle deserialize = l.findVirtual(instC, "deserialize",
                MethodType.methodType(Object.class, ByteBuffer.class, tagC));
        return b -> {
            Object inst = newInstance.invoke(); // the Master takes a new instance per record
            return deserialize.invoke(inst, ByteBuffer.wrap(b), anyTag);
        };
    }

    static long sink;

    static long pass(Decoder d, byte[][] records) throws Throwable {
        long h = 0;
        for (byte[] r : records) {
            Object o = d.decode(r);
            h += System.identityHashCode(o);
        }
        return h;
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 1 && args[0].equals("module-options")) {
            // The JVM options Spark's launcher adds on Java 17, from the
            // spark-launcher jar of the class path (the version benched).
            System.out.println(Class.forName("org.apache.spark.launcher.JavaModuleOptions")
                    .getMethod("defaultModuleOptions").invoke(null));
            return;
        }
        if (args.length != 6) {
            System.err.println("usage: DecodeBench oos|spark LISTFILE WARMUP_SECONDS WARMUP_RECORDS ITERATIONS|stdin SECONDS");
            System.exit(2);
        }
        String mode = args[0];
        List<String> names = Files.readAllLines(Path.of(args[1]));
        double warmSecs = Double.parseDouble(args[2]);
        long warmRecords = Long.parseLong(args[3]);
        boolean driven = args[4].equals("stdin");
        int iterations = driven ? Integer.MAX_VALUE : Integer.parseInt(args[4]);
        double iterSecs = Double.parseDouble(args[5]);

        List<byte[]> list = new ArrayList<>();
        long setBytes = 0;
        for (String n : names) {
            if (n.isBlank()) continue;
            byte[] b = Files.readAllBytes(Path.of(n));
            list.add(b);
            setBytes += b.length;
        }
        byte[][] records = list.toArray(new byte[0][]);
        Decoder d = switch (mode) {
            case "oos" -> objectInputStream();
            case "spark" -> sparkJavaSerializer();
            default -> throw new IllegalArgumentException("mode " + mode);
        };
        // Every record must decode to one of the three Master classes.
        for (int i = 0; i < records.length; i++) {
            String c = d.decode(records[i]).getClass().getName();
            if (!c.startsWith("org.apache.spark.deploy.master.")) {
                throw new IllegalStateException(names.get(i) + ": decoded to " + c);
            }
        }

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

        long t0 = System.nanoTime(), warmed = 0;
        while (System.nanoTime() - t0 < (long) (warmSecs * 1e9) || warmed < warmRecords) {
            sink += pass(d, records);
            warmed += records.length;
        }
        double warmTook = (System.nanoTime() - t0) / 1e9;
        System.out.printf("warmup records=%d seconds=%.1f%n", warmed, warmTook);
        System.out.flush();

        BufferedReader control = new BufferedReader(new InputStreamReader(System.in));
        List<Double> rates = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (int it = 0; it < iterations; it++) {
            if (driven) {
                String line = control.readLine();
                if (line == null || line.equals("end")) break;
            }
            long n = 0, bytes = 0;
            long alloc0 = threads.getCurrentThreadAllocatedBytes();
            long cpu0 = os.getProcessCpuTime();
            long s = System.nanoTime(), e;
            do {
                sink += pass(d, records);
                n += records.length;
                bytes += setBytes;
                e = System.nanoTime();
            } while (e - s < (long) (iterSecs * 1e9));
            long cpu = os.getProcessCpuTime() - cpu0;
            long alloc = threads.getCurrentThreadAllocatedBytes() - alloc0;
            double secs = (e - s) / 1e9;
            rates.add(n / secs);
            // allocs/record is not available from the JVM without an agent: "-".
            lines.add(String.format(
                    "records=%d seconds=%.3f rps=%.0f mbps=%.2f us=%.3f cpu_us=%.3f allocs=- bpr=%.0f",
                    n, secs, n / secs, bytes / secs / 1e6, secs * 1e6 / n, cpu / 1e3 / n, (double) alloc / n));
            System.out.println("iter " + (it + 1) + " " + lines.get(it));
            System.out.flush();
        }
        if (rates.isEmpty()) throw new IllegalStateException("no timed iteration");
        double[] sorted = rates.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        System.out.printf("result files=%d setbytes=%d min_rps=%.0f max_rps=%.0f %s%n",
                records.length, setBytes, sorted[0], sorted[sorted.length - 1], lines.get(rates.indexOf(median)));
        if (sink == 42) System.out.println();
    }
}
