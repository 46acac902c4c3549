// Gen writes the test streams for codec/javaser with the JVM's own
// java.io.ObjectOutputStream, and next to each NAME.ser a NAME.json that
// describes, from the JVM's point of view (reflection and
// ObjectStreamClass), what the stream holds: class names, SUIDs, serialized
// fields in stream order, their values, and for writeObject/Externalizable
// classes the expected annotation items. The Go test compares the decoder's
// tree against that description, so it does not check our output against
// itself.
//
// Run through gen.sh (it needs --add-opens to read JDK private fields).
import java.io.*;
import java.lang.reflect.*;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class Gen {
    // ---- test classes -------------------------------------------------------

    static class Prims implements Serializable {
        private static final long serialVersionUID = 0x0123456789abcdefL;
        byte b = -7; short s = -300; int i = 123456789; long l = -1234567890123456789L;
        float f = 3.25f; double d = -2.5e300; boolean z = true; char c = '\u00e9';
        Integer boxedInt = 77; Long boxedLong = 1L << 40; Character boxedChar = 'Q';
        Boolean boxedBool = false; Double boxedDouble = 0.1; Byte boxedByte = (byte) 5;
        Short boxedShort = (short) 9; Float boxedFloat = Float.NaN; String str = "prims";
        Object nothing = null;
    }

    static class A implements Serializable { int x = 1; String name = "a-name"; }
    static class B extends A { int x = 2; long y = 22; }
    static class C extends B { int x = 3; String name = "c-name"; Object other; }

    static class Node implements Serializable { String name; Node next; Object any; Node(String n) { name = n; } }

    static class WithExtra implements Serializable {
        int n = 5; String label = "extra-label";
        private void writeObject(ObjectOutputStream out) throws IOException {
            out.defaultWriteObject();
            out.writeInt(42);
            out.writeUTF("extra \u00fc");
            out.writeObject("an object");
            out.writeLong(-1L);
            out.writeObject(new int[] {1, 2});
        }
        static List<Object> expected(WithExtra w) throws IOException {
            List<Object> l = new ArrayList<>();
            l.add(bd(o -> { o.writeInt(42); o.writeUTF("extra \u00fc"); }));
            l.add("an object");
            l.add(bd(o -> o.writeLong(-1L)));
            l.add(new int[] {1, 2}); // compared by content
            return l;
        }
    }

    static class Ext implements Externalizable {
        int v = 9; String s = "ext-string";
        public Ext() {}
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeInt(v); out.writeUTF(s); out.writeObject("ext-object");
        }
        public void readExternal(ObjectInput in) throws IOException, ClassNotFoundException {
            v = in.readInt(); s = in.readUTF(); in.readObject();
        }
        static List<Object> expected(Ext e) throws IOException {
            List<Object> l = new ArrayList<>();
            l.add(bd(o -> { o.writeInt(e.v); o.writeUTF(e.s); }));
            l.add("ext-object");
            return l;
        }
    }

    static class Holder implements Serializable { int before = 1; Object bad = new Object(); }

    enum Color { RED, GREEN, BLUE }
    enum Shape { SQUARE { int sides() { return 4; } }, CIRCLE; int sides() { return 0; } }

    static class Handler implements InvocationHandler, Serializable {
        String tag = "handler-tag";
        public Object invoke(Object p, Method m, Object[] a) { return null; }
    }

    static class Bean implements Serializable {
        Color color = Color.GREEN; Shape shape = Shape.SQUARE; Class<?> kind = String.class;
        Date when = new Date(1764300000123L);
    }

    // ---- writing --------------------------------------------------------------

    interface W { void w(ObjectOutputStream o) throws Exception; }

    /** Items as the describer sees them; a Reset entry clears ids, a Raw entry is top-level block data. */
    static final Object RESET = new Object();
    static final class Raw { final byte[] b; Raw(byte[] b) { this.b = b; } }
    static final class Thrown { final Throwable t; Thrown(Throwable t) { this.t = t; } }
    static final class BD { final byte[] b; BD(byte[] b) { this.b = b; } }

    interface DW { void w(DataOutputStream o) throws IOException; }
    static BD bd(DW f) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(bo);
        f.w(o); o.flush();
        return new BD(bo.toByteArray());
    }

    static void gen(File dir, String name, Object... items) throws Exception {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        ObjectOutputStream out = new ObjectOutputStream(bo);
        List<Object> described = new ArrayList<>();
        for (Object it : items) {
            if (it == RESET) {
                out.reset();
            } else if (it instanceof Raw r) {
                out.write(r.b);
                out.flush();
            } else {
                try {
                    out.writeObject(it);
                    out.flush();
                } catch (IOException e) {
                    it = new Thrown(e);
                }
            }
            described.add(it);
        }
        out.close();
        // Block data is a byte stream without message boundaries: adjacent raw
        // writes are one run of block data, as any reader sees them.
        for (int i = described.size() - 1; i > 0; i--) {
            if (described.get(i) instanceof Raw r2 && described.get(i - 1) instanceof Raw r1) {
                byte[] m = Arrays.copyOf(r1.b, r1.b.length + r2.b.length);
                System.arraycopy(r2.b, 0, m, r1.b.length, r2.b.length);
                described.set(i - 1, new Raw(m));
                described.remove(i);
            }
        }
        try (FileOutputStream f = new FileOutputStream(new File(dir, name + ".ser"))) { f.write(bo.toByteArray()); }
        Describer d = new Describer();
        StringBuilder sb = new StringBuilder("{\"items\": [\n");
        boolean first = true;
        for (Object it : described) {
            if (it == RESET) { d.ids.clear(); continue; }
            if (!first) sb.append(",\n");
            first = false;
            if (it instanceof Raw r) {
                sb.append("{\"blockdata\": \"").append(hex(r.b)).append("\"}");
            } else if (it instanceof Thrown t) {
                d.ids.clear(); // the writer resets around an exception
                sb.append("{\"exception\": ").append(str(t.t.getClass().getName()))
                  .append(", \"message\": ").append(str(t.t.getMessage())).append("}");
            } else {
                d.value(sb, it);
            }
        }
        sb.append("\n]}\n");
        try (Writer w = new OutputStreamWriter(new FileOutputStream(new File(dir, name + ".json")), StandardCharsets.UTF_8)) { w.write(sb.toString()); }
    }

    // ---- describing -------------------------------------------------------------

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    static String str(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20 || c >= 0x7f) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static final class Describer {
        final IdentityHashMap<Object, Integer> ids = new IdentityHashMap<>();
        int next = 1;

        void value(StringBuilder sb, Object v) throws Exception {
            if (v == null) { sb.append("null"); return; }
            if (v instanceof String s) { sb.append("{\"s\": ").append(str(s)).append("}"); return; }
            if (v instanceof BD b) { sb.append("{\"blockdata\": \"").append(hex(b.b)).append("\"}"); return; }
            if (v instanceof Enum<?> e) {
                sb.append("{\"enum\": ").append(str(e.getDeclaringClass().getName())).append(", \"name\": ").append(str(e.name())).append("}");
                return;
            }
            if (v instanceof Class<?> c) {
                if (Proxy.isProxyClass(c)) {
                    sb.append("{\"class\": \"\", \"proxy\": [");
                    Class<?>[] is = c.getInterfaces();
                    for (int i = 0; i < is.length; i++) { if (i > 0) sb.append(", "); sb.append(str(is[i].getName())); }
                    sb.append("]}");
                } else {
                    sb.append("{\"class\": ").append(str(c.getName())).append("}");
                }
                return;
            }
            if (v instanceof ObjectStreamClass osc) {
                sb.append("{\"classdesc\": ").append(str(osc.getName())).append(", \"suid\": \"").append(osc.getSerialVersionUID()).append("\", \"fields\": ");
                fields(sb, osc);
                sb.append("}");
                return;
            }
            Integer id = ids.get(v);
            if (id != null) { sb.append("{\"ref\": ").append(id).append("}"); return; }
            // ObjectOutputStream writes what writeReplace returns, and maps
            // later writes of the original to the same replacement.
            Object orig = v;
            v = replace(v);
            if (v != orig) {
                id = ids.get(v);
                if (id != null) { ids.put(orig, id); sb.append("{\"ref\": ").append(id).append("}"); return; }
                if (v instanceof String || v instanceof Enum<?> || v instanceof Class<?> || v == null) { value(sb, v); return; }
            }
            id = next++;
            ids.put(v, id);
            ids.put(orig, id);
            Class<?> cl = v.getClass();
            if (cl.isArray()) {
                sb.append("{\"id\": ").append(id).append(", \"array\": ").append(str(cl.getName())).append(", \"elems\": [");
                int n = Array.getLength(v);
                char t = cl.getName().charAt(1);
                for (int i = 0; i < n; i++) {
                    if (i > 0) sb.append(", ");
                    prim(sb, t, Array.get(v, i));
                }
                sb.append("]}");
                return;
            }
            sb.append("{\"id\": ").append(id).append(", \"object\": ").append(str(Proxy.isProxyClass(cl) ? "" : cl.getName()));
            if (Proxy.isProxyClass(cl)) {
                sb.append(", \"proxy\": [");
                Class<?>[] is = cl.getInterfaces();
                for (int i = 0; i < is.length; i++) { if (i > 0) sb.append(", "); sb.append(str(is[i].getName())); }
                sb.append("]");
            }
            sb.append(", \"classes\": [");
            List<Class<?>> chain = new ArrayList<>();
            if (v instanceof Externalizable) {
                chain.add(cl);
            } else {
                for (Class<?> c = cl; c != null && ObjectStreamClass.lookup(c) != null; c = c.getSuperclass()) chain.add(0, c);
            }
            boolean firstClass = true;
            for (Class<?> c : chain) {
                if (!firstClass) sb.append(", ");
                firstClass = false;
                ObjectStreamClass osc = ObjectStreamClass.lookup(c);
                boolean ext = v instanceof Externalizable;
                boolean wm = !ext && hasWriteObject(c);
                sb.append("{\"name\": ").append(str(Proxy.isProxyClass(c) ? "" : c.getName()))
                  .append(", \"suid\": \"").append(osc.getSerialVersionUID()).append("\"")
                  .append(", \"write\": ").append(wm).append(", \"ext\": ").append(ext)
                  .append(", \"fields\": ");
                fields(sb, osc);
                sb.append(", \"values\": [");
                if (!ext) {
                    ObjectStreamField[] fs = osc.getFields();
                    for (int i = 0; i < fs.length; i++) {
                        if (i > 0) sb.append(", ");
                        Object fv;
                        try {
                            Field f = c.getDeclaredField(fs[i].getName());
                            f.setAccessible(true);
                            fv = f.get(v);
                        } catch (NoSuchFieldException e) {
                            sb.append("{\"unknown\": true}");
                            continue;
                        }
                        if (fs[i].isPrimitive()) prim(sb, fs[i].getTypeCode(), fv); else value(sb, fv);
                    }
                }
                sb.append("]");
                List<Object> ann = ext || wm ? annotation(v, c) : null;
                if (ann != null) {
                    sb.append(", \"annotation\": [");
                    for (int i = 0; i < ann.size(); i++) { if (i > 0) sb.append(", "); value(sb, ann.get(i)); }
                    sb.append("]");
                }
                sb.append("}");
            }
            sb.append("]}");
        }

        void fields(StringBuilder sb, ObjectStreamClass osc) {
            sb.append("[");
            ObjectStreamField[] fs = osc.getFields();
            for (int i = 0; i < fs.length; i++) {
                if (i > 0) sb.append(", ");
                sb.append("{\"name\": ").append(str(fs[i].getName())).append(", \"type\": \"").append(fs[i].getTypeCode())
                  .append("\", \"sig\": ").append(fs[i].isPrimitive() ? "\"\"" : str(fs[i].getTypeString())).append("}");
            }
            sb.append("]");
        }

        void prim(StringBuilder sb, char t, Object v) throws Exception {
            switch (t) {
                case 'B': sb.append((byte) v); break;
                case 'S': sb.append((short) v); break;
                case 'I': sb.append((int) v); break;
                case 'C': sb.append((int) (char) v); break;
                case 'Z': sb.append((boolean) v); break;
                case 'J': sb.append("\"j:").append((long) v).append("\""); break;
                case 'F': sb.append(String.format("\"f:%08x\"", Float.floatToRawIntBits((float) v))); break;
                case 'D': sb.append(String.format("\"d:%016x\"", Double.doubleToRawLongBits((double) v))); break;
                default: value(sb, v);
            }
        }
    }

    static Object replace(Object v) throws Exception {
        for (int guard = 0; v != null && guard < 10; guard++) {
            Method m = null;
            for (Class<?> c = v.getClass(); c != null && m == null; c = c.getSuperclass()) {
                try { m = c.getDeclaredMethod("writeReplace"); } catch (NoSuchMethodException e) { /* up */ }
            }
            if (m == null || !(v instanceof Serializable)) return v;
            m.setAccessible(true);
            Object r = m.invoke(v);
            if (r == null || r.getClass() == v.getClass()) return r;
            v = r;
        }
        return v;
    }

    static Object field(Object v, Class<?> c, String suffix) throws Exception {
        for (Field f : c.getDeclaredFields()) {
            if (f.getName().equals(suffix) || f.getName().endsWith("$" + suffix)) { f.setAccessible(true); return f.get(v); }
        }
        throw new NoSuchFieldException(c.getName() + "." + suffix);
    }

    static List<Object> elements(Object coll) throws Exception {
        Class<?> iterable = Class.forName("scala.collection.Iterable");
        Class<?> iterator = Class.forName("scala.collection.Iterator");
        Object it = iterable.getMethod("iterator").invoke(coll);
        List<Object> l = new ArrayList<>();
        while ((boolean) iterator.getMethod("hasNext").invoke(it)) l.add(iterator.getMethod("next").invoke(it));
        return l;
    }

    static Object module(String name) throws Exception { return Class.forName(name).getField("MODULE$").get(null); }

    static boolean hasWriteObject(Class<?> c) {
        try {
            Method m = c.getDeclaredMethod("writeObject", ObjectOutputStream.class);
            return Modifier.isPrivate(m.getModifiers()) && !Modifier.isStatic(m.getModifiers());
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** The annotation the class's writeObject/writeExternal produced, or null when we do not know it. */
    static List<Object> annotation(Object v, Class<?> c) throws Exception {
        List<Object> l = new ArrayList<>();
        if (c == Date.class) {
            l.add(bd(o -> o.writeLong(((Date) v).getTime())));
        } else if (c == ArrayList.class) {
            ArrayList<?> a = (ArrayList<?>) v;
            l.add(bd(o -> o.writeInt(a.size())));
            l.addAll(a);
        } else if (c == HashMap.class) {
            HashMap<?, ?> m = (HashMap<?, ?>) v;
            Method cap = HashMap.class.getDeclaredMethod("capacity");
            cap.setAccessible(true);
            int capacity = (int) cap.invoke(m);
            l.add(bd(o -> { o.writeInt(capacity); o.writeInt(m.size()); }));
            for (Map.Entry<?, ?> e : m.entrySet()) { l.add(e.getKey()); l.add(e.getValue()); }
        } else if (c.getName().equals("scala.collection.immutable.List$SerializationProxy")) {
            // Scala 2.12: elements, then the ListSerializeEnd marker object.
            l.addAll(elements(field(v, c, "orig")));
            l.add(module("scala.collection.immutable.ListSerializeEnd$"));
        } else if (c.getName().equals("scala.collection.generic.DefaultSerializationProxy")) {
            // Scala 2.13: knownSize, elements, and SerializeEnd when the size was unknown.
            Object coll = field(v, c, "coll");
            int k = (int) Class.forName("scala.collection.IterableOnce").getMethod("knownSize").invoke(coll);
            l.add(bd(o -> o.writeInt(k)));
            l.addAll(elements(coll));
            if (k < 0) l.add(module("scala.collection.generic.SerializeEnd$"));
        } else if (c.getName().equals("scala.collection.immutable.HashMap$SerializationProxy")) {
            // Scala 2.12: size, then key and value of each entry.
            Object orig = field(v, c, "orig");
            List<Object> es = elements(orig);
            l.add(bd(o -> o.writeInt(es.size())));
            for (Object e : es) { l.add(field(e, e.getClass(), "_1")); l.add(field(e, e.getClass(), "_2")); }
        } else if (c == URI.class) {
            // defaultWriteObject only
        } else if (c == WithExtra.class) {
            l.addAll(WithExtra.expected((WithExtra) v));
        } else if (c == Ext.class) {
            l.addAll(Ext.expected((Ext) v));
        } else {
            return null;
        }
        return l;
    }

    // ---- the corpus ---------------------------------------------------------------

    public static void main(String[] args) throws Exception {
        File dir = new File(args.length > 0 ? args[0] : ".");
        dir.mkdirs();

        gen(dir, "primitives", new Prims(), 42, 7L, 'x', true, 1.5, 2.5f, (byte) -1, (short) -2);

        Object[] mixed = {"one", 2, null, new int[] {3}, Color.BLUE};
        gen(dir, "arrays",
            new byte[] {0, 1, -1, 127, -128}, new short[] {0, -1, 32767, -32768}, new char[] {'a', '\u00e9', '\ud83d', '\ude00', 0},
            new int[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}, new long[] {0, -1, Long.MAX_VALUE, Long.MIN_VALUE},
            new float[] {0f, -0f, 1.5f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE},
            new double[] {0d, -0d, Math.PI, Double.NaN, Double.NEGATIVE_INFINITY, Double.MAX_VALUE},
            new boolean[] {true, false, true}, new String[] {"x", null, "y"}, mixed,
            new int[][] {{1, 2}, {}, null}, new Object[0], new long[0], new byte[3000]);

        String shared = "shared-string";
        gen(dir, "strings", "", "hello", "h\u00e9llo w\u00f6rld", "\u65e5\u672c\u8a9e", "emoji \ud83d\ude00 and \ud834\udd1e",
            "nul\u0000inside", shared, shared, "\u0001\u007f\u0080\u07ff\u0800\uffff");

        StringBuilder lsb = new StringBuilder();
        for (int i = 0; i < 70000; i++) lsb.append((char) ('a' + i % 26));
        lsb.append("\u00e9\ud83d\ude00\u0000end");
        gen(dir, "longstring", lsb.toString(), "short after long");

        gen(dir, "enums", Color.RED, Color.GREEN, Color.RED, Shape.SQUARE, Shape.CIRCLE, new Bean(),
            Color.BLUE);

        Runnable proxy = (Runnable) Proxy.newProxyInstance(Gen.class.getClassLoader(), new Class<?>[] {Runnable.class, Serializable.class}, new Handler());
        gen(dir, "proxy", proxy, proxy.getClass(), proxy);

        HashMap<String, Object> map = new HashMap<>();
        map.put("k1", 1); map.put("k2", "v2"); map.put("k3", null); map.put("k4", new ArrayList<>(List.of("n")));
        ArrayList<Object> list = new ArrayList<>(List.of("a", "b", 3));
        list.add(null);
        gen(dir, "collections", map, list, new Date(1764300000123L), new URI("spark://host-1:7077/path?q=1#frag"),
            new WithExtra(), new HashMap<>(), new ArrayList<>());

        gen(dir, "externalizable", new Ext(), new Ext());

        Node keep = new Node("kept");
        byte[] big = new byte[2000];
        for (int i = 0; i < big.length; i++) big[i] = (byte) i;
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        new DataOutputStream(raw).writeInt(0x01020304);
        gen(dir, "reset", keep, keep, RESET, keep, new Raw(raw.toByteArray()), new Raw(big), "after raw", RESET, "x");

        gen(dir, "classes", String.class, int[].class, C.class, Color.class, ObjectStreamClass.lookup(C.class),
            ObjectStreamClass.lookup(C.class), C.class);

        gen(dir, "exception", "before", new Holder(), "after");

        Node self = new Node("self");
        self.next = self;
        Node a = new Node("a"), b = new Node("b");
        a.next = b; b.next = a;
        Object[] arr = new Object[2];
        arr[0] = arr; arr[1] = a;
        self.any = arr;
        gen(dir, "selfref", self, a, arr);

        C c = new C();
        c.other = new B();
        gen(dir, "hierarchy", c, new A());
    }
}
