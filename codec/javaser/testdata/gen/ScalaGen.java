// ScalaGen writes streams of Scala library values (Option, List, Map,
// ArrayBuffer, wrapped arrays, Enumeration values) and a record shaped like
// Spark's ApplicationInfo, with the scala-library of the Scala version given
// on the class path, so the tests see the writeReplace proxies and
// annotations real Spark records carry: Scala 2.12's List$SerializationProxy
// and HashMap$SerializationProxy, Scala 2.13's DefaultSerializationProxy.
//
// It calls Scala through reflection so that one compiled class runs against
// both 2.12 and 2.13. Usage: java -cp build:scala-library.jar ScalaGen DIR PREFIX
import java.io.*;
import java.lang.reflect.*;
import java.net.URI;
import java.util.*;

public class ScalaGen {
    static Object call(Object target, String name, Object... args) throws Exception {
        Class<?> c = target instanceof Class<?> k ? k : target.getClass();
        Object self = target instanceof Class<?> ? null : target;
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Method m : k.getDeclaredMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                    m.setAccessible(true);
                    return m.invoke(self, args);
                }
            }
        }
        for (Method m : c.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                m.setAccessible(true);
                return m.invoke(self, args);
            }
        }
        throw new NoSuchMethodException(c.getName() + "." + name);
    }

    static Object module(String name) throws Exception { return Gen.module(name); }

    static Object list(Object... xs) throws Exception {
        Object l = module("scala.collection.immutable.Nil$");
        for (int i = xs.length - 1; i >= 0; i--) l = call(l, "$colon$colon", xs[i]);
        return l;
    }

    static Object map(Object... kv) throws Exception {
        Object m = call(module("scala.collection.immutable.Map$"), "empty");
        for (int i = 0; i < kv.length; i += 2) m = call(m, "updated", kv[i], kv[i + 1]);
        return m;
    }

    static Object some(Object x) throws Exception { return Class.forName("scala.Some").getConstructor(Object.class).newInstance(x); }
    static Object none() throws Exception { return module("scala.None$"); }
    static Object wrap(Object[] a) throws Exception { return Class.forName("scala.Predef").getMethod("wrapRefArray", Object[].class).invoke(null, (Object) a); }

    /** Like org.apache.spark.deploy.master.ApplicationState: an Enumeration with named values. */
    static final class AppState extends scala.Enumeration {
        final Object WAITING, RUNNING, FINISHED;
        AppState() throws Exception {
            Method v = scala.Enumeration.class.getDeclaredMethod("Value", String.class);
            v.setAccessible(true);
            WAITING = v.invoke(this, "WAITING");
            RUNNING = v.invoke(this, "RUNNING");
            FINISHED = v.invoke(this, "FINISHED");
        }
    }

    // Shaped like Spark's ApplicationInfo and friends (field names and types
    // follow Spark 3.x; the classes are ours).
    static class RpcAddress implements Serializable { String host = "10.0.0.17"; int port = 41234; }
    static class RpcEndpointAddress implements Serializable { RpcAddress rpcAddress = new RpcAddress(); String name = "AppClient"; }
    static class Command implements Serializable {
        String mainClass = "org.apache.spark.executor.CoarseGrainedExecutorBackend";
        scala.collection.Seq<?> arguments; scala.collection.Map<?, ?> environment;
        scala.collection.Seq<?> classPathEntries, libraryPathEntries, javaOpts;
    }
    static class ApplicationDescription implements Serializable {
        String name = "nightly-etl"; scala.Option<?> maxCores; int memoryPerExecutorMB = 4096;
        Command command = new Command(); String appUiUrl = "http://10.0.0.17:4040";
        scala.Option<?> eventLogDir, eventLogCodec, initialExecutorLimit; String user = "etl";
        scala.collection.Seq<?> resourceReqsPerExecutor;
    }
    static class ApplicationInfo implements Serializable {
        long startTime = 1764300000123L; String id = "app-20261128043000-0007";
        ApplicationDescription desc = new ApplicationDescription(); Date submitDate = new Date(1764300000000L);
        RpcEndpointAddress driver = new RpcEndpointAddress(); int defaultCores = Integer.MAX_VALUE;
        Object state; transient Object executors;
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        String prefix = args[1];
        AppState states = new AppState();

        Object big = map("a", 1, "b", 2, "c", 3, "d", 4, "e", 5, "f", 6);
        Object buf = Class.forName("scala.collection.mutable.ArrayBuffer").getConstructor().newInstance();
        call(buf, "$plus$eq", "x");
        call(buf, "$plus$eq", 2);
        Gen.gen(dir, prefix + "collections",
            some("value"), none(), list(1, "two", 3L), list(), map("k", "v"), big, buf,
            wrap(new Object[] {"w1", "w2"}), states.RUNNING, states.RUNNING, states.FINISHED, some(list("nested")));

        ApplicationInfo app = new ApplicationInfo();
        app.state = states.WAITING;
        Command c = app.desc.command;
        c.arguments = (scala.collection.Seq<?>) list("--driver-url", "spark://CoarseGrainedScheduler@10.0.0.17:41234",
            "--executor-id", "{{EXECUTOR_ID}}", "--hostname", "{{HOSTNAME}}", "--cores", "{{CORES}}",
            "--app-id", "{{APP_ID}}", "--worker-url", "{{WORKER_URL}}");
        c.environment = (scala.collection.Map<?, ?>) map("SPARK_USER", "etl", "SPARK_EXECUTOR_MEMORY", "4096m",
            "SPARK_HOME", "/opt/spark", "JAVA_HOME", "/usr/lib/jvm/java-17", "PYSPARK_PYTHON", "python3");
        c.classPathEntries = (scala.collection.Seq<?>) list();
        c.libraryPathEntries = (scala.collection.Seq<?>) list();
        c.javaOpts = (scala.collection.Seq<?>) list("-Dspark.driver.port=41234", "-Dspark.ui.port=4040",
            "-XX:+IgnoreUnrecognizedVMOptions", "--add-opens=java.base/java.lang=ALL-UNNAMED");
        app.desc.maxCores = (scala.Option<?>) some(16);
        app.desc.eventLogDir = (scala.Option<?>) some(new URI("hdfs://namenode:8020/spark-events"));
        app.desc.eventLogCodec = (scala.Option<?>) none();
        app.desc.initialExecutorLimit = (scala.Option<?>) none();
        app.desc.resourceReqsPerExecutor = (scala.collection.Seq<?>) list();
        Gen.gen(dir, prefix + "app", app);
    }
}
