import java.io.Externalizable;
import java.io.ObjectStreamClass;
import java.io.ObjectStreamField;
import java.io.PrintWriter;
import java.io.Serializable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes, as JSON, the class descriptors a JVM with one Spark release's jars on its class path would use to read
 * recovery records: ObjectStreamClass.lookup on every seed class and, transitively, on super classes, the types of
 * serializable fields and array components. Probe classes (gadget chain classes) are only checked for presence with
 * Class.forName(name, false, loader): nothing of theirs is initialized or run.
 *
 * usage: java -cp 'gen:SPARK_HOME/jars/*' ClassDescGen SPARK SCALA seeds.txt probes.txt out.json
 */
public final class ClassDescGen {
  public static void main(String[] args) throws Exception {
    String spark = args[0], scala = args[1];
    List<String> seeds = readList(Path.of(args[2]));
    List<String> probes = readList(Path.of(args[3]));
    ClassLoader loader = ClassDescGen.class.getClassLoader();

    TreeMap<String, String> classes = new TreeMap<>();
    TreeSet<String> missing = new TreeSet<>();
    Set<String> fieldTypes = new TreeSet<>();
    TreeMap<String, Class<?>> loaded = new TreeMap<>();
    Deque<String> queue = new ArrayDeque<>(seeds);
    Set<String> done = new LinkedHashSet<>();
    while (!queue.isEmpty() && done.size() < 20000) {
      String name = queue.poll();
      if (!done.add(name)) continue;
      Class<?> cl;
      try {
        cl = Class.forName(name, false, loader);
      } catch (ClassNotFoundException e) {
        missing.add(name);
        continue;
      } catch (LinkageError e) {
        // Present but not loadable here: a jar the generator did not fetch, not a class the release lacks.
        errors.add(name + ": " + e);
        continue;
      }
      loaded.put(name, cl);
      if (cl.isArray()) {
        Class<?> c = cl.getComponentType();
        if (!c.isPrimitive()) queue.add(c.getName());
      }
      if (cl.getSuperclass() != null) queue.add(cl.getSuperclass().getName());
      ObjectStreamClass osc = lookup(cl);
      if (osc != null) {
        for (ObjectStreamField f : osc.getFields()) {
          String sig = f.getTypeString();
          if (sig == null) continue;
          String n = sig.startsWith("[") ? sig.replace('/', '.') : sig.substring(1, sig.length() - 1).replace('/', '.');
          fieldTypes.add(n);
          queue.add(n);
        }
      }
    }
    for (var e : loaded.entrySet()) classes.put(e.getKey(), describe(e.getValue(), fieldTypes));
    if (!errors.isEmpty()) {
      for (String e : errors) System.err.println("ClassDescGen " + spark + "-" + scala + ": " + e);
      System.exit(1);
    }

    TreeMap<String, Boolean> probed = new TreeMap<>();
    for (String p : probes) {
      try {
        Class.forName(p, false, loader);
        probed.put(p, true);
      } catch (ClassNotFoundException | LinkageError e) {
        probed.put(p, false);
      }
    }

    String scalaLib = "";
    try {
      Class<?> props = Class.forName("scala.util.Properties", true, loader);
      scalaLib = (String) props.getMethod("versionNumberString").invoke(null);
    } catch (Exception e) {
      // not fatal: the release's Scala binary version is known from the caller
    }
    try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Path.of(args[4]), StandardCharsets.UTF_8))) {
      out.println("{");
      out.println("  \"spark\": " + q(spark) + ",");
      out.println("  \"scala\": " + q(scala) + ",");
      out.println("  \"scalaLibrary\": " + q(scalaLib) + ",");
      out.println("  \"java\": " + q(System.getProperty("java.version")) + ",");
      out.println("  \"classes\": [");
      int i = 0;
      for (String c : classes.values()) out.println("    " + c + (++i < classes.size() ? "," : ""));
      out.println("  ],");
      out.println("  \"missing\": [" + join(missing) + "],");
      StringBuilder pb = new StringBuilder();
      for (var e : probed.entrySet()) {
        if (pb.length() > 0) pb.append(", ");
        pb.append(q(e.getKey())).append(": ").append(e.getValue());
      }
      out.println("  \"probes\": {" + pb + "}");
      out.println("}");
    }
  }

  static final Set<String> errors = new TreeSet<>();

  /** null for a class that is not serializable; a failure (a type of a member that does not load) is an error. */
  static ObjectStreamClass lookup(Class<?> cl) {
    try {
      return ObjectStreamClass.lookup(cl);
    } catch (Throwable t) {
      errors.add(cl.getName() + ": ObjectStreamClass.lookup: " + t);
      return null;
    }
  }

  static String describe(Class<?> cl, Set<String> fieldTypes) {
    StringBuilder b = new StringBuilder("{\"name\": ").append(q(cl.getName()));
    ObjectStreamClass osc = lookup(cl);
    boolean ser = Serializable.class.isAssignableFrom(cl);
    boolean ext = Externalizable.class.isAssignableFrom(cl);
    if (osc != null) b.append(", \"suid\": ").append(osc.getSerialVersionUID());
    if (ser) b.append(", \"serializable\": true");
    if (ext) b.append(", \"externalizable\": true");
    // ObjectStreamClass's own test: java.lang.Enum and constant bodies count as enums too.
    if (Enum.class.isAssignableFrom(cl)) b.append(", \"enum\": true");
    if (cl.isInterface()) b.append(", \"interface\": true");
    if (cl.isArray()) b.append(", \"array\": true");
    if (cl.isRecord()) b.append(", \"record\": true");
    if (java.lang.reflect.Proxy.isProxyClass(cl)) b.append(", \"proxy\": true");
    if (cl.getSuperclass() != null) b.append(", \"super\": ").append(q(cl.getSuperclass().getName()));
    if (ser && !ext && !Enum.class.isAssignableFrom(cl)) {
      if (privateMethod(cl, "writeObject", java.io.ObjectOutputStream.class)) b.append(", \"writeObject\": true");
      if (privateMethod(cl, "readObject", java.io.ObjectInputStream.class)) b.append(", \"readObject\": true");
      if (privateMethod(cl, "readObjectNoData")) b.append(", \"readObjectNoData\": true");
    }
    if (ser || ext) {
      if (inheritableMethod(cl, "writeReplace")) b.append(", \"writeReplace\": true");
      if (inheritableMethod(cl, "readResolve")) b.append(", \"readResolve\": true");
    }
    if (cl.isEnum()) {
      List<String> names = new ArrayList<>();
      for (Object c : cl.getEnumConstants()) names.add(((Enum<?>) c).name());
      b.append(", \"enumConstants\": [").append(join(names)).append("]");
    }
    // Only the super types that some field in the table is declared as:
    // that is all an assignability check (ClassCastException) needs.
    TreeSet<String> sup = new TreeSet<>();
    collectSupertypes(cl, sup);
    sup.retainAll(fieldTypes);
    sup.remove(cl.getName());
    if (!sup.isEmpty()) b.append(", \"assignableTo\": [").append(join(sup)).append("]");
    if (osc != null && osc.getFields().length > 0) {
      b.append(", \"fields\": [");
      int i = 0;
      for (ObjectStreamField f : osc.getFields()) {
        if (i++ > 0) b.append(", ");
        String t = f.getTypeString() != null ? f.getTypeString() : String.valueOf(f.getTypeCode());
        b.append("{\"name\": ").append(q(f.getName())).append(", \"type\": ").append(q(t)).append("}");
      }
      b.append("]");
    }
    return b.append("}").toString();
  }

  static void collectSupertypes(Class<?> cl, Set<String> out) {
    if (cl == null || !out.add(cl.getName())) return;
    collectSupertypes(cl.getSuperclass(), out);
    for (Class<?> i : cl.getInterfaces()) collectSupertypes(i, out);
  }

  /** What ObjectStreamClass.getPrivateMethod finds: a private, non-static method declared by cl itself. */
  static boolean privateMethod(Class<?> cl, String name, Class<?>... params) {
    try {
      Method m = cl.getDeclaredMethod(name, params);
      int mods = m.getModifiers();
      return m.getReturnType() == void.class && (mods & Modifier.STATIC) == 0 && (mods & Modifier.PRIVATE) != 0;
    } catch (NoSuchMethodException | LinkageError e) {
      return false;
    }
  }

  /** What ObjectStreamClass.getInheritableMethod finds for writeReplace/readResolve. */
  static boolean inheritableMethod(Class<?> cl, String name) {
    Class<?> defCl = cl;
    Method meth = null;
    while (defCl != null) {
      try {
        meth = defCl.getDeclaredMethod(name);
        break;
      } catch (NoSuchMethodException ex) {
        defCl = defCl.getSuperclass();
      } catch (LinkageError e) {
        return false;
      }
    }
    if (meth == null || meth.getReturnType() != Object.class) return false;
    int mods = meth.getModifiers();
    if ((mods & (Modifier.STATIC | Modifier.ABSTRACT)) != 0) return false;
    if ((mods & (Modifier.PUBLIC | Modifier.PROTECTED)) != 0) return true;
    if ((mods & Modifier.PRIVATE) != 0) return cl == defCl;
    return cl.getPackageName().equals(defCl.getPackageName()) && cl.getClassLoader() == defCl.getClassLoader();
  }

  static List<String> readList(Path p) throws Exception {
    List<String> out = new ArrayList<>();
    for (String l : Files.readAllLines(p, StandardCharsets.UTF_8)) {
      l = l.strip();
      if (!l.isEmpty() && !l.startsWith("#")) out.add(l);
    }
    return out;
  }

  static String join(Iterable<String> xs) {
    StringBuilder b = new StringBuilder();
    for (String x : xs) {
      if (b.length() > 0) b.append(", ");
      b.append(q(x));
    }
    return b.toString();
  }

  static String q(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
