package classes

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/codec/classes/classdesc"
	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/codec/javaser"
	at "github.com/recoverctl/recoverctl/internal/streamtest"
)

// captures lists real records: testdata/spark/<spark>-<scala>/<variant>/records/*.
func captures(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("../../testdata/spark/*/*/records/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures under testdata/spark: %v", err)
	}
	out := map[string][]string{}
	for _, f := range files {
		rel := strings.Split(filepath.ToSlash(f), "/")
		release := rel[len(rel)-4]
		out[release] = append(out[release], f)
	}
	return out
}

// Every real capture audits clean, against its own release as target too.
func TestCapturesAuditClean(t *testing.T) {
	for release, files := range captures(t) {
		tb, note, err := TableFor(release)
		if err != nil || note != "" {
			t.Fatalf("%s: no table of its own: %v %s", release, err, note)
		}
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, engine := range []string{"zookeeper", "filesystem"} {
				r := Record(filepath.Base(f), b, Options{Target: tb, Engine: engine})
				if len(r.Findings) != 0 {
					t.Errorf("%s: %+v", f, r.Findings)
				}
				if r.Prediction == nil || r.Prediction.Verdict != VerdictOK {
					t.Errorf("%s against %s: %+v", f, release, r.Prediction)
				}
			}
		}
	}
}

// The class lists the generator and the allow-list start from cover every
// class a real capture names; a new capture with new classes fails here.
func TestSeedsAndAllowListCoverCaptures(t *testing.T) {
	seeds, err := os.ReadFile("../../testdata/classdesc/seeds.txt")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := classdesc.Load()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for l := range strings.SplitSeq(string(seeds), "\n") {
		known[strings.TrimSpace(l)] = true
	}
	for _, files := range captures(t) {
		for _, f := range files {
			b, _ := os.ReadFile(f)
			u, err := envelope.Open(b, envelope.Limits{})
			if err != nil {
				continue // Kryo captures name no Java classes
			}
			s := Scan(u.Payload, javaser.Options{})
			for _, c := range s.Classes {
				if lists().defaultAllow.Check(c.Name) != Allowed && c.Base() != "" {
					t.Errorf("%s: %s is not in allow.txt", f, c.Name)
				}
				if !known[c.Name] && !strings.HasPrefix(c.Name, "[") {
					if _, absent := cat.Tables[0].Lookup(c.Name); !absent && !inAnyTable(cat, c.Name) {
						t.Errorf("%s: %s is not in testdata/classdesc/seeds.txt (regenerate with testdata/classdesc/gen.sh)", f, c.Name)
					}
				}
			}
		}
	}
}

func inAnyTable(cat *classdesc.Catalog, name string) bool {
	for _, t := range cat.Tables {
		if c, _ := t.Lookup(name); c != nil {
			return true
		}
	}
	return false
}

var (
	objField = []at.Field{{Type: 'L', Name: "v", Sig: "Ljava/lang/Object;"}}
	proxyCl  = &at.Desc{Name: "java.lang.reflect.Proxy", SUID: -2222568056686623797, Fields: []at.Field{{Type: 'L', Name: "h", Sig: "Ljava/lang/reflect/InvocationHandler;"}}}
)

// chain nests the named classes, each holding the next in a field, like
// the object graph of a gadget chain (without any of its behaviour).
func chain(names ...string) []byte {
	var v at.Value = at.Nul()
	for i := len(names) - 1; i >= 0; i-- {
		v = at.Obj(&at.Desc{Name: names[i], SUID: int64(i + 1), Fields: objField}, v)
	}
	w := at.New()
	v(w)
	return w.Bytes()
}

// GadgetStreams are streams naming the classes of public gadget chains,
// each with the class the audit must name.
func GadgetStreams() map[string]struct {
	Data  []byte
	Class string
} {
	type s = struct {
		Data  []byte
		Class string
	}
	aih := "sun.reflect.annotation.AnnotationInvocationHandler"
	proxy := func(iface string) []byte {
		w := at.New()
		w.Object(&at.Desc{Proxy: []string{iface}, Super: proxyCl},
			at.Obj(&at.Desc{Name: aih, SUID: 6182022883658399397, Fields: []at.Field{{Type: 'L', Name: "memberValues", Sig: "Ljava/util/Map;"}, {Type: 'L', Name: "type", Sig: "Ljava/lang/Class;"}}}, at.Nul(), at.Nul()))
		return w.Bytes()
	}
	hashMap := &at.Desc{Name: "java.util.HashMap", SUID: 362498820763181265, Flags: 0x03,
		Fields: []at.Field{{Type: 'F', Name: "loadFactor"}, {Type: 'I', Name: "threshold"}}}
	urldns := at.New()
	urldns.ObjectWithData(hashMap, []at.Value{at.I(0x3f400000), at.I(12)}, []byte{0, 0, 0, 16, 0, 0, 0, 1},
		at.Data(&at.Desc{Name: "java.net.URL", SUID: -7627629688361524110, Flags: 0x03,
			Fields: []at.Field{{Type: 'I', Name: "hashCode"}, {Type: 'L', Name: "host", Sig: "Ljava/lang/String;"}}}, []at.Value{at.I(-1), at.Str("attacker.example")}, nil),
		at.Str("x"))
	cc := "org.apache.commons.collections."
	cc4 := "org.apache.commons.collections4."
	return map[string]s{
		"CommonsCollections1": {chain(aih, cc+"map.LazyMap", cc+"functors.ChainedTransformer", cc+"functors.ConstantTransformer", cc+"functors.InvokerTransformer"), cc + "functors.InvokerTransformer"},
		"CommonsCollections2": {chain("java.util.PriorityQueue", cc4+"comparators.TransformingComparator", cc4+"functors.InvokerTransformer", "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl"), cc4 + "functors.InvokerTransformer"},
		"CommonsCollections3": {chain(aih, cc+"map.LazyMap", cc+"functors.InstantiateTransformer", "com.sun.org.apache.xalan.internal.xsltc.trax.TrAXFilter"), cc + "functors.InstantiateTransformer"},
		"CommonsCollections5": {chain("javax.management.BadAttributeValueExpException", cc+"keyvalue.TiedMapEntry", cc+"map.LazyMap"), cc + "keyvalue.TiedMapEntry"},
		"CommonsBeanutils1":   {chain("java.util.PriorityQueue", "org.apache.commons.beanutils.BeanComparator"), "org.apache.commons.beanutils.BeanComparator"},
		"Groovy1":             {chain("org.codehaus.groovy.runtime.ConvertedClosure", "org.codehaus.groovy.runtime.MethodClosure"), "org.codehaus.groovy.runtime.MethodClosure"},
		"Spring1":             {chain("org.springframework.core.SerializableTypeWrapper$MethodInvokeTypeProvider", "org.springframework.beans.factory.support.AutowireUtils$ObjectFactoryDelegatingInvocationHandler"), "org.springframework.core.SerializableTypeWrapper$MethodInvokeTypeProvider"},
		"Spring1-proxy":       {proxy("org.springframework.beans.factory.ObjectFactory"), "org.springframework.beans.factory.ObjectFactory"},
		"Jdk7u21-proxy":       {proxy("javax.xml.transform.Templates"), "javax.xml.transform.Templates"},
		"C3P0":                {chain("com.mchange.v2.c3p0.PoolBackedDataSource"), "com.mchange.v2.c3p0.PoolBackedDataSource"},
		"BeanShell1":          {chain("bsh.XThis", "bsh.NameSpace"), "bsh.XThis"},
		"Jython1":             {chain("org.python.core.PyFunction"), "org.python.core.PyFunction"},
		"ROME":                {chain("com.sun.syndication.feed.impl.ObjectBean", "com.sun.syndication.feed.impl.ToStringBean"), "com.sun.syndication.feed.impl.ObjectBean"},
		"Hibernate1":          {chain("org.hibernate.engine.spi.TypedValue"), "org.hibernate.engine.spi.TypedValue"},
		"Clojure":             {chain("clojure.inspector.proxy$javax.swing.table.AbstractTableModel$ff19274a"), "clojure.inspector.proxy$javax.swing.table.AbstractTableModel$ff19274a"},
		"JRMPClient":          {chain("java.rmi.server.RemoteObjectInvocationHandler", "sun.rmi.server.UnicastRef"), "sun.rmi.server.UnicastRef"},
		"Click1":              {chain("org.apache.click.control.Column$ColumnComparator"), "org.apache.click.control.Column$ColumnComparator"},
		"Vaadin1":             {chain("com.vaadin.data.util.PropertysetItem", "com.vaadin.data.util.NestedMethodProperty"), "com.vaadin.data.util.NestedMethodProperty"},
		"FileUpload1":         {chain("org.apache.commons.fileupload.disk.DiskFileItem"), "org.apache.commons.fileupload.disk.DiskFileItem"},
		"Wicket1":             {chain("org.apache.wicket.util.upload.DiskFileItem"), "org.apache.wicket.util.upload.DiskFileItem"},
		"JBossInterceptors1":  {chain("org.jboss.interceptor.proxy.InterceptorMethodHandler"), "org.jboss.interceptor.proxy.InterceptorMethodHandler"},
		"MozillaRhino1":       {chain("org.mozilla.javascript.NativeError", "org.mozilla.javascript.NativeJavaObject"), "org.mozilla.javascript.NativeError"},
		"Myfaces1":            {chain("org.apache.myfaces.view.facelets.el.ValueExpressionMethodExpression"), "org.apache.myfaces.view.facelets.el.ValueExpressionMethodExpression"},
		"JSON1":               {chain("net.sf.json.JSONObject"), "net.sf.json.JSONObject"},
		"Jdk8u20":             {chain("java.beans.beancontext.BeanContextSupport"), "java.beans.beancontext.BeanContextSupport"},
		"URLDNS":              {urldns.Bytes(), "java.net.URL"},
	}
}

func TestGadgetStreamsFlagged(t *testing.T) {
	for name, g := range GadgetStreams() {
		r := Record("app_app-1", g.Data, Options{})
		found := false
		for _, f := range r.Findings {
			if f.Check == CheckGadget && f.Class == g.Class && f.Record == "app_app-1" && f.Severity == SeverityCritical {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no gadget finding naming %s: %+v", name, g.Class, r.Findings)
		}
	}
}

// A gadget after the first object, and trailing bytes, are found too.
func TestSeveralContentsAndTrailing(t *testing.T) {
	w := at.New()
	w.Object(at.Simple("java.util.Date"))
	w.Object(at.Holder("org.apache.commons.collections.functors.InvokerTransformer"), at.Nul())
	b := w.Bytes()
	r := Record("app_x", b, Options{})
	checks := map[string]bool{}
	for _, f := range r.Findings {
		checks[f.Check] = true
	}
	if !checks[CheckContents] || !checks[CheckGadget] {
		t.Errorf("several contents: %+v", r.Findings)
	}
	r = Record("app_x", append(slices.Clone(b), 0x00, 0x01), Options{})
	checks = map[string]bool{}
	for _, f := range r.Findings {
		checks[f.Check] = true
	}
	if !checks[CheckUndecodable] || !checks[CheckGadget] {
		t.Errorf("junk after contents: %+v", r.Findings)
	}
	// A stream broken right after a gadget's descriptor: the raw scan
	// still names the class a JVM would have resolved.
	broken := chain("org.apache.commons.collections.functors.InvokerTransformer")
	broken = append(broken[:len(broken)-1], 0x42) // the field value is garbage
	r = Record("app_x", broken, Options{})
	if !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Check == CheckGadget }) {
		t.Errorf("broken stream: %+v", r.Findings)
	}
}

func TestForeignClassAndAllow(t *testing.T) {
	data := chain("com.example.Custom")
	r := Record("", data, Options{})
	if len(r.Findings) != 1 || r.Findings[0].Check != CheckForeignClass || r.Findings[0].Class != "com.example.Custom" {
		t.Fatalf("foreign: %+v", r.Findings)
	}
	f, _ := ParseFilter("com.example.**")
	if r := Record("", data, Options{Allow: f}); len(r.Findings) != 0 {
		t.Errorf("allowed: %+v", r.Findings)
	}
	f, _ = ParseFilter("!java.util.Date")
	if r := Record("", chain("java.util.Date"), Options{Allow: f}); len(r.Findings) != 1 || r.Findings[0].Check != CheckRejected {
		t.Errorf("rejected: %+v", r.Findings)
	}
}

func release(t *testing.T, r string) *Table {
	tb, _, err := TableFor(r)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// A 3.5 (Scala 2.12) capture against 4.x, and the reverse with a record
// rebuilt from the 4.x table's own descriptors.
func TestPredictAcrossReleases(t *testing.T) {
	files := captures(t)["3.5.8-2.12"]
	if len(files) == 0 {
		t.Fatal("no 3.5.8-2.12 capture")
	}
	for _, target := range []string{"4.0.5", "4.3.0"} {
		tb := release(t, target)
		for _, f := range files {
			b, _ := os.ReadFile(f)
			// 4.3's FILESYSTEM engine quarantines what 4.0's stopped on.
			fsWant := map[string]string{"4.0.5": VerdictFails, "4.3.0": VerdictQuarantined}[target]
			for engine, want := range map[string]string{"zookeeper": VerdictDropped, "filesystem": fsWant, "rocksdb": VerdictFails} {
				p := Record(filepath.Base(f), b, Options{Target: tb, Engine: engine}).Prediction
				if p.Verdict != want || p.Exception != "java.io.InvalidClassException" || !strings.Contains(p.Reason, "serialVersionUID") || p.Class == "" {
					t.Errorf("%s -> %s (%s): %+v", filepath.Base(f), target, engine, p)
				}
			}
		}
	}
	// A 4.x (Scala 2.13) capture against 3.5 (Scala 2.12): every record fails.
	four := captures(t)["4.0.5-2.13"]
	if len(four) == 0 {
		t.Fatal("no 4.0.5-2.13 capture")
	}
	for _, f := range four {
		b, _ := os.ReadFile(f)
		p := Record(filepath.Base(f), b, Options{Target: release(t, "3.5.8"), Engine: "zookeeper"}).Prediction
		// A compressed record fails on the codec's magic bytes, before
		// any class: 3.5 has no recoveryCompressionCodec.
		compressed := strings.Contains(f, "filesystem-")
		if compressed && (p.Exception != "java.io.StreamCorruptedException" || !strings.HasPrefix(p.Reason, "invalid stream header: ") || p.Class != "") {
			t.Errorf("%s (compressed) -> 3.5.8: %+v", f, p)
		}
		if p.Verdict != VerdictDropped || p.Effect != "deleted" || (p.Class == "" && !compressed) || p.Exception == "" || p.Reason == "" {
			t.Errorf("%s -> 3.5.8: %+v", filepath.Base(f), p)
		}
	}
	// 3.5.8-2.12 to 3.4.4: the worker record's classes did not change, the
	// app record's did.
	tb := release(t, "3.4.4")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		p := Record(filepath.Base(f), b, Options{Target: tb, Engine: "zookeeper"}).Prediction
		if p.Verdict != VerdictOK && p.Verdict != VerdictDropped {
			t.Errorf("%s -> 3.4.4: %+v", f, p)
		}
	}
}

// descOf turns a table class into a stream descriptor with its super chain.
func descOf(t *testing.T, tb *Table, name string) *at.Desc {
	t.Helper()
	c, _ := tb.Lookup(name)
	if c == nil || c.SUID == nil {
		t.Fatalf("%s: %s not serializable in table", tb.Release(), name)
	}
	d := &at.Desc{Name: name, SUID: *c.SUID}
	if c.WriteObject {
		d.Flags = 0x03
	}
	for _, f := range c.Fields {
		af := at.Field{Type: f.Type[0], Name: f.Name}
		if len(f.Type) > 1 {
			af.Sig = f.Type
		}
		d.Fields = append(d.Fields, af)
	}
	if sup, _ := tb.Lookup(c.Super); sup != nil && sup.SUID != nil && c.Super != "java.lang.Object" {
		d.Super = descOf(t, tb, c.Super)
	}
	return d
}

func nulls(n int) []at.Value {
	out := make([]at.Value, n)
	for i := range out {
		out[i] = at.Nul()
	}
	return out
}

func TestPredictRules(t *testing.T) {
	t43, t35 := release(t, "4.3.0"), release(t, "3.5.8")
	// A Scala 2.13 scala.Some (same SUID on both lines) holding a
	// 2.13-only DefaultSerializationProxy: a 3.5 (2.12) Master has no such
	// class; the object is in a field Some still declares, so it fails.
	some := descOf(t, t43, "scala.Some")
	proxy := descOf(t, t43, "scala.collection.generic.DefaultSerializationProxy")
	w := at.New()
	w.Object(some, at.Data(proxy, nulls(len(proxy.Fields)), nil))
	s := Scan(w.Bytes(), javaser.Options{})
	if s.Err != nil {
		t.Fatal(s.Err)
	}
	p := Predict("app_x", s, t35, "zookeeper")
	if p.Verdict != VerdictDropped || p.Exception != "java.lang.ClassNotFoundException" || p.Class != "scala.collection.generic.DefaultSerializationProxy" {
		t.Errorf("2.13 proxy on a 2.12 Master: %+v", p)
	}
	if p := Predict("app_x", s, t43, "zookeeper"); p.Verdict != VerdictOK {
		t.Errorf("2.13 proxy on a 2.13 Master: %+v", p)
	}
	// The same missing class in a field the local class does not have is
	// read and discarded: no failure.
	someExtra := descOf(t, t43, "scala.Some")
	someExtra.Fields = append(someExtra.Fields, at.Field{Type: 'L', Name: "removedField", Sig: "Ljava/lang/Object;"})
	w = at.New()
	w.Object(someExtra, at.Str("kept"), at.Data(proxy, nulls(len(proxy.Fields)), nil))
	if p := Predict("app_x", Scan(w.Bytes(), javaser.Options{}), t35, "filesystem"); p.Verdict != VerdictOK {
		t.Errorf("missing class in a removed field: %+v", p)
	}
	// A primitive field whose type changed: InvalidClassException.
	rpc := descOf(t, t43, "org.apache.spark.rpc.RpcAddress")
	for i := range rpc.Fields {
		if rpc.Fields[i].Type == 'I' {
			rpc.Fields[i].Type = 'J'
		}
	}
	w = at.New()
	w.Object(rpc, func(w *at.Writer) { w.Raw(0, 0, 0, 0, 0, 0, 0, 1) }, at.Str("h"))
	p = Predict("app_x", Scan(w.Bytes(), javaser.Options{}), t43, "filesystem")
	if p.Verdict != VerdictQuarantined || p.Effect != "quarantined as corrupted_app_x" || !strings.Contains(p.Reason, "incompatible types for field") {
		t.Errorf("field type change: %+v", p)
	}
	// An enum constant the local enum lacks.
	w = at.New()
	w.Enum("java.util.concurrent.TimeUnit", "FORTNIGHTS")
	p = Predict("app_x", Scan(w.Bytes(), javaser.Options{}), t43, "filesystem")
	if p.Verdict != VerdictQuarantined || p.Exception != "java.io.InvalidObjectException" {
		t.Errorf("enum constant: %+v", p)
	}
	// A class the table does not know is neither ok nor a failure.
	if p := Predict("app_x", Scan(chain("com.example.Custom"), javaser.Options{}), t43, ""); p.Verdict != VerdictUnknown {
		t.Errorf("unknown class: %+v", p)
	}
}

func TestTableFor(t *testing.T) {
	for in, want := range map[string]string{"3.5.8": "3.5.8-2.12", "3.5.8-2.13": "3.5.8-2.13", "4.0.5": "4.0.5-2.13",
		"4.0.1": "4.0.1-2.13", "3.0.3": "3.0.3-2.12", "2.4.8": "2.4.8-2.11", "2.4.2": "2.4.2-2.12", "2.4.8-2.12": "2.4.8-2.12", "3.1.0": "3.1.0-2.12"} {
		tb, note, err := TableFor(in)
		if err != nil || tb.Release() != want {
			t.Errorf("TableFor(%s) = %v, %v; want %s", in, tb, err, want)
			continue
		}
		// A release published for several Scala lines says which it took.
		if strings.Contains(in, "-") != (note == "") && len(cat(t).ScalaLines(tb.Spark)) > 1 {
			t.Errorf("TableFor(%s): note %q", in, note)
		}
	}
	for _, bad := range []string{"9.9.9", "3.5.8-2.11", "4.0.5-2.12", "2.3.4", "x"} {
		if _, _, err := TableFor(bad); !errors.Is(err, ErrNoTable) {
			t.Errorf("TableFor(%s): %v, want ErrNoTable", bad, err)
		}
	}
	// Every release the tables cover is a valid --target-spark, by its
	// full name and, for its default Scala line, by its version alone.
	rs := Releases()
	if len(rs) < 80 {
		t.Errorf("the tables cover %d releases: %v", len(rs), rs)
	}
	for _, r := range rs {
		tb, note, err := TableFor(r)
		if err != nil || tb.Release() != r || note != "" {
			t.Errorf("TableFor(%s) = %v, %q, %v", r, tb, note, err)
		}
	}
}

func cat(t *testing.T) *classdesc.Catalog {
	t.Helper()
	c, err := classdesc.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Spark's RocksDB engine stores records followed by zeros (a serializer
// buffer's whole backing array): that padding is no finding, but anything
// else after the object still is.
func TestZeroPadding(t *testing.T) {
	w := at.New()
	w.Object(at.Simple("java.util.Date"))
	b := w.Bytes()
	padded := append(slices.Clone(b), make([]byte, 100)...)
	r := Record("app_x", padded, Options{})
	for _, f := range r.Findings {
		if f.Check == CheckUndecodable || f.Check == CheckTrailing {
			t.Errorf("zero padding flagged: %+v", f)
		}
	}
	r = Record("app_x", append(padded, 0x73), Options{})
	if !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Check == CheckUndecodable }) {
		t.Errorf("a byte after the padding is not flagged: %+v", r.Findings)
	}
}
