// Gen writes one Java-serialized stream per Scala value, as a given scala-library
// writes it, so the Go converter is tested against real bytes rather than bytes
// we imagine. Run through gen.sh; the output is committed.
import java.io.*;
import java.lang.reflect.Method;
import java.net.URI;
import java.util.*;

public class Gen {
    static File dir;

    static void write(String name, Object o) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bos)) {
            out.writeObject(o);
        }
        try (FileOutputStream f = new FileOutputStream(new File(dir, name + ".ser"))) {
            f.write(bos.toByteArray());
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static scala.collection.immutable.Map imap(int n) {
        scala.collection.immutable.Map m = scala.collection.immutable.Map$.MODULE$.empty();
        for (int i = 1; i <= n; i++) {
            m = (scala.collection.immutable.Map) m.updated("k" + i, "v" + i);
        }
        return m;
    }

    static Object call(Object target, String method, Object... args) throws Exception {
        for (Method m : target.getClass().getMethods()) {
            if (m.getName().equals(method) && m.getParameterCount() == args.length) {
                return m.invoke(target, args);
            }
        }
        throw new NoSuchMethodException(method);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static void main(String[] a) throws Exception {
        dir = new File(a[0]);
        dir.mkdirs();
        write("some_string", new scala.Some("x"));
        write("some_int", new scala.Some(Integer.valueOf(4)));
        write("none", scala.None$.MODULE$);
        List<String> jl = Arrays.asList("a", "b", "c");
        scala.collection.immutable.List list = scala.collection.JavaConverters.asScalaBufferConverter(jl).asScala().toList();
        write("list", list);
        write("list_empty", scala.collection.immutable.Nil$.MODULE$);
        write("vector", list.toVector());
        scala.collection.mutable.ArrayBuffer ab = new scala.collection.mutable.ArrayBuffer();
        ab.$plus$eq("a");
        ab.$plus$eq("b");
        write("arraybuffer", ab);
        write("wrappedarray", scala.Predef.wrapRefArray(new String[] {"a", "b"}));
        try {
            Class<?> as = Class.forName("scala.collection.immutable.ArraySeq");
            Object seq = as.getMethod("unsafeWrapArray", Object.class).invoke(null, (Object) new String[] {"a", "b"});
            write("arrayseq", seq);
        } catch (ClassNotFoundException e) {
            // Scala before 2.13 has no immutable.ArraySeq.
        }
        try {
            // 2.11/2.12 mutable.ArraySeq (Spark 3.x Command.javaOpts); abstract in 2.13.
            Class<?> mas = Class.forName("scala.collection.mutable.ArraySeq");
            if (!java.lang.reflect.Modifier.isAbstract(mas.getModifiers())) {
                Object seq = mas.getConstructor(int.class).newInstance(2);
                call(seq, "update", 0, "a");
                call(seq, "update", 1, "b");
                write("mutable_arrayseq", seq);
            }
        } catch (ClassNotFoundException e) {
            // always present; kept for symmetry with the other probes
        }
        for (int n = 0; n <= 5; n++) {
            write("map" + n, imap(n));
        }
        // Spark 4 puts sys.env, a Map.WithDefault, into Command.environment.
        write("map_withdefault", imap(2).withDefaultValue("d"));
        scala.collection.mutable.HashMap mm = new scala.collection.mutable.HashMap();
        mm.put("k1", "v1");
        mm.put("k2", Integer.valueOf(2));
        write("mutable_hashmap", mm);
        scala.collection.mutable.HashSet hs = new scala.collection.mutable.HashSet();
        hs.$plus$eq("0");
        hs.$plus$eq("1");
        write("mutable_hashset", hs);
        // immutable.Set: Set1..Set4 keep fields, 5 elements make a HashSet (a
        // SerializationProxy in 2.11/2.12, DefaultSerializationProxy in 2.13).
        scala.collection.immutable.Set set = scala.collection.immutable.Set$.MODULE$.empty();
        for (int i = 1; i <= 5; i++) {
            // By reflection: javac links set.$plus to a bridge 2.11's Set lacks.
            set = (scala.collection.immutable.Set) call(set, "$plus", "e" + i);
            if (i == 2 || i == 5) {
                write("set" + i, set);
            }
        }
        write("tuple2", new scala.Tuple2("a", Integer.valueOf(1)));
        write("date", new Date(1704207845123L));
        write("uri", new URI("file:/tmp/spark-events"));
        write("string_array", new String[] {"0", "1"});
        try {
            Object states = Class.forName("org.apache.spark.deploy.master.ApplicationState$").getField("MODULE$").get(null);
            write("enum_app_running", call(states, "RUNNING"));
        } catch (ClassNotFoundException e) {
            // Only when spark-core is on the class path.
        }
    }
}
