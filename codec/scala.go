package codec

import (
	"encoding/binary"
	"strings"
	"time"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// This file turns the shapes Scala 2.11, 2.12 and 2.13 (and a few JDK classes)
// give their values in a Java serialization stream into plain Go values. The
// shapes differ by library version: 2.12 writes a List through
// List$SerializationProxy and a mutable.HashMap through HashTable.serializeTo,
// 2.13 writes almost every collection through DefaultSerializationProxy and
// every module (None, Nil, EmptyMap) through ModuleSerializationProxy. Each
// shape here was checked against streams in testdata/scala, written by the real
// libraries (testdata/scala/gen).

// Entry is one key/value pair of a Scala or Java map, in stream order.
type Entry struct {
	Key, Value javaser.Value
}

const (
	moduleProxy  = "scala.runtime.ModuleSerializationProxy"
	defaultProxy = "scala.collection.generic.DefaultSerializationProxy"
	serializeEnd = "scala.collection.generic.SerializeEnd$"
	listProxy    = "scala.collection.immutable.List$SerializationProxy"
	listEnd      = "scala.collection.immutable.ListSerializeEnd$"
)

// moduleName returns the class name of a Scala object (module) value, whether
// it was written directly (2.11, 2.12) or as a ModuleSerializationProxy (2.13).
func moduleName(v javaser.Value) (string, bool) {
	o, ok := v.(*javaser.Object)
	if !ok || o == nil {
		return "", false
	}
	name := o.ClassName()
	if name == moduleProxy {
		c, _ := o.Field("moduleClass")
		if cl, ok := c.(*javaser.Class); ok && cl.Desc != nil {
			return cl.Desc.Name, true
		}
		return "", false
	}
	if strings.HasSuffix(name, "$") {
		return name, true
	}
	return "", false
}

// scalaOption reports whether v is a scala.Option, and if so its content.
func scalaOption(v javaser.Value) (inner javaser.Value, present, isOption bool) {
	if m, ok := moduleName(v); ok && m == "scala.None$" {
		return nil, false, true
	}
	o, ok := v.(*javaser.Object)
	if !ok || o == nil || o.ClassName() != "scala.Some" {
		return nil, false, false
	}
	// 2.11 and 2.12 call the field x, 2.13 value.
	if x, ok := o.Field("value"); ok {
		return x, true, true
	}
	x, _ := o.Field("x")
	return x, true, true
}

// annotationValues returns the objects a writeObject method wrote for the
// named class, leaving out its primitive block data (sizes, load factors).
func annotationValues(o *javaser.Object, class string) []javaser.Value {
	cd := o.Data(class)
	if cd == nil {
		return nil
	}
	ann := cd.Annotations
	// The usual shape is leading block data (a size) then objects: return a
	// subslice then, and copy only when block data is interleaved.
	i := 0
	for i < len(ann) {
		if _, ok := ann[i].(javaser.BlockData); !ok {
			break
		}
		i++
	}
	rest := ann[i:]
	for _, a := range rest {
		if _, ok := a.(javaser.BlockData); ok {
			out := make([]javaser.Value, 0, len(rest))
			for _, a := range rest {
				if _, ok := a.(javaser.BlockData); !ok {
					out = append(out, a)
				}
			}
			return out
		}
	}
	return rest
}

// untilEnd cuts vals at the first end marker object of the given class.
func untilEnd(vals []javaser.Value, marker string) []javaser.Value {
	for i, v := range vals {
		if o, ok := v.(*javaser.Object); ok && o != nil {
			if n, _ := moduleName(o); n == marker || o.ClassName() == marker {
				return vals[:i]
			}
		}
	}
	return vals
}

// arrayValues returns the elements of an array of any element type as Values.
func arrayValues(a *javaser.Array) []javaser.Value {
	switch d := a.Data.(type) {
	case []javaser.Value:
		return d
	case []int32:
		out := make([]javaser.Value, len(d))
		for i, x := range d {
			out[i] = x
		}
		return out
	case []int64:
		out := make([]javaser.Value, len(d))
		for i, x := range d {
			out[i] = x
		}
		return out
	case []float64:
		out := make([]javaser.Value, len(d))
		for i, x := range d {
			out[i] = x
		}
		return out
	case []bool:
		out := make([]javaser.Value, len(d))
		for i, x := range d {
			out[i] = x
		}
		return out
	case []byte:
		out := make([]javaser.Value, len(d))
		for i, x := range d {
			out[i] = int8(x)
		}
		return out
	}
	return nil
}

// scalaSeq returns the elements of any sequence or set shape: Java arrays,
// List, Vector, ArrayBuffer, WrappedArray/ArraySeq, HashSet, java.util.ArrayList
// and the 2.13 serialization proxy. ok is false for anything else.
func scalaSeq(v javaser.Value) (elems []javaser.Value, ok bool) {
	switch t := v.(type) {
	case *javaser.Array:
		return arrayValues(t), true
	case *javaser.Object:
		if t == nil {
			return nil, false
		}
		return objectSeq(t)
	}
	return nil, false
}

func objectSeq(o *javaser.Object) ([]javaser.Value, bool) {
	name := o.ClassName()
	switch name {
	case listProxy:
		return untilEnd(annotationValues(o, name), listEnd), true
	case defaultProxy:
		return untilEnd(annotationValues(o, name), serializeEnd), true
	case "scala.collection.immutable.Nil$":
		return nil, true
	case "scala.collection.mutable.ArrayBuffer", "scala.collection.mutable.ArrayStack":
		arr, _ := o.Field("array")
		a, ok := arr.(*javaser.Array)
		if !ok {
			return nil, false
		}
		elems := arrayValues(a)
		if n, ok := o.Field("size0"); ok {
			if n, ok := n.(int32); ok && n >= 0 && int(n) <= len(elems) {
				elems = elems[:n]
			}
		}
		return elems, true
	case "scala.collection.immutable.Vector":
		return vectorElems(o)
	case "scala.collection.mutable.ArraySeq", "scala.collection.mutable.ResizableArray":
		// 2.11/2.12 mutable.ArraySeq: the array may be longer than length.
		arr, _ := o.Field("array")
		a, ok := arr.(*javaser.Array)
		if !ok {
			return nil, false
		}
		elems := arrayValues(a)
		if n, ok := o.Field("length"); ok {
			if n, ok := n.(int32); ok && n >= 0 && int(n) <= len(elems) {
				elems = elems[:n]
			}
		}
		return elems, true
	case "scala.collection.mutable.HashSet", "scala.collection.immutable.HashSet$SerializationProxy",
		"scala.collection.mutable.LinkedHashSet", "scala.collection.mutable.ListBuffer":
		return untilEnd(annotationValues(o, name), listEnd), true
	case "java.util.ArrayList", "java.util.LinkedList", "java.util.HashSet", "java.util.LinkedHashSet":
		return annotationValues(o, o.Desc.Name), true
	case "java.util.Arrays$ArrayList":
		a, _ := o.Field("a")
		return scalaSeq(a)
	}
	if m, ok := moduleName(o); ok {
		switch m {
		case "scala.collection.immutable.Nil$", "scala.collection.immutable.Set$EmptySet$",
			"scala.collection.immutable.Vector$", "scala.collection.immutable.List$":
			return nil, true
		}
		return nil, false
	}
	// WrappedArray$ofRef (2.11, 2.12), mutable.ArraySeq$ofRef and
	// immutable.ArraySeq$ofRef (2.13), and their primitive variants.
	if strings.Contains(name, "WrappedArray$of") || strings.Contains(name, "ArraySeq$of") {
		for _, f := range []string{"array", "unsafeArray"} {
			if arr, ok := o.Field(f); ok {
				if a, ok := arr.(*javaser.Array); ok {
					return arrayValues(a), true
				}
			}
		}
		return nil, false
	}
	if strings.HasPrefix(name, "scala.collection.immutable.Set$Set") {
		var out []javaser.Value
		for i := 1; i <= 4; i++ {
			if e, ok := mangledField(o, "elem"+string(rune('0'+i))); ok {
				out = append(out, e)
			}
		}
		return out, true
	}
	return nil, false
}

// vectorElems reads a 2.11/2.12 immutable.Vector from its display arrays, a
// trie of 32-way Object[] nodes whose root is display<depth-1>.
func vectorElems(o *javaser.Object) ([]javaser.Value, bool) {
	depth, _ := o.Field("depth")
	d, ok := depth.(int32)
	if !ok || d < 0 || d > 6 {
		return nil, false
	}
	if d == 0 {
		return nil, true
	}
	root, _ := o.Field("display" + string(rune('0'+d-1)))
	start, _ := o.Field("startIndex")
	end, _ := o.Field("endIndex")
	s, _ := start.(int32)
	e, _ := end.(int32)
	if s < 0 || s > e {
		return nil, false
	}
	// Shared subarrays could make the trie expand exponentially; no leaf
	// past endIndex (and never more than vectorMax) is collected.
	const vectorMax = 1 << 20
	want := int(e)
	if want > vectorMax {
		want = vectorMax
	}
	var leaves []javaser.Value
	visits := 0
	var walk func(v javaser.Value, level int32)
	walk = func(v javaser.Value, level int32) {
		visits++
		a, ok := v.(*javaser.Array)
		if !ok || len(leaves) >= want || visits > vectorMax {
			return
		}
		vals, _ := a.Data.([]javaser.Value)
		if level == 0 {
			if room := want - len(leaves); len(vals) > room {
				vals = vals[:room]
			}
			leaves = append(leaves, vals...)
			return
		}
		for _, c := range vals {
			if len(leaves) >= want {
				return
			}
			walk(c, level-1)
		}
	}
	walk(root, d-1)
	// Leaves of a sparse trie are missing, so the slice may be short; keep
	// what is there rather than invent elements.
	if int(s) > len(leaves) {
		return nil, false
	}
	if int(e) > len(leaves) {
		e = int32(len(leaves))
	}
	return leaves[s:e], true
}

// scalaMap returns the entries of any map shape: immutable Map1..Map4,
// EmptyMap, HashMap (2.11/2.12 proxy), mutable.HashMap, java.util.HashMap, and
// the 2.13 serialization proxy whose elements are Tuple2s.
func scalaMap(v javaser.Value) ([]Entry, bool) {
	return scalaMapDepth(v, 0)
}

func scalaMapDepth(v javaser.Value, depth int) ([]Entry, bool) {
	o, ok := v.(*javaser.Object)
	if !ok || o == nil {
		return nil, false
	}
	name := o.ClassName()
	switch {
	case strings.HasSuffix(name, "Map$WithDefault") && depth < 8:
		// m.withDefault(f) (sys.env in Spark 4's Command.environment): the
		// entries are the underlying map's; the default is a serialized
		// lambda, data we never run.
		u, _ := o.Field("underlying")
		return scalaMapDepth(u, depth+1)
	case strings.HasPrefix(name, "scala.collection.immutable.Map$Map"):
		var out []Entry
		for i := 1; i <= 4; i++ {
			k, ok := mangledField(o, "key"+string(rune('0'+i)))
			if !ok {
				break
			}
			val, _ := mangledField(o, "value"+string(rune('0'+i)))
			out = append(out, Entry{k, val})
		}
		return out, true
	case name == "scala.collection.immutable.HashMap$SerializationProxy",
		name == "scala.collection.mutable.HashMap", name == "scala.collection.mutable.LinkedHashMap",
		name == "java.util.HashMap", name == "java.util.LinkedHashMap", name == "java.util.Hashtable",
		name == "java.util.TreeMap":
		return pairs(annotationValues(o, name))
	case name == defaultProxy && proxyIsMap(o):
		elems := untilEnd(annotationValues(o, name), serializeEnd)
		out := make([]Entry, 0, len(elems))
		for _, e := range elems {
			t, ok := e.(*javaser.Object)
			if !ok || t == nil || t.ClassName() != "scala.Tuple2" {
				return nil, false
			}
			k, _ := t.Field("_1")
			val, _ := t.Field("_2")
			out = append(out, Entry{k, val})
		}
		return out, true
	}
	if m, ok := moduleName(o); ok && strings.Contains(m, "EmptyMap") {
		return nil, true
	}
	if m, ok := moduleName(o); ok && (m == "scala.collection.immutable.Map$" || m == "scala.collection.immutable.HashMap$") {
		return nil, true
	}
	return nil, false
}

// mangledField finds a field by its source name, also when scalac has
// mangled a private field to "scala$collection$immutable$Map$Map2$$key1" (2.13).
func mangledField(o *javaser.Object, name string) (javaser.Value, bool) {
	if v, ok := o.Field(name); ok {
		return v, true
	}
	for _, cd := range o.Classes {
		for i, f := range cd.Desc.Fields {
			if strings.HasSuffix(f.Name, "$$"+name) && i < len(cd.Values) {
				return cd.Values[i], true
			}
		}
	}
	return nil, false
}

// proxyIsMap tells a 2.13 DefaultSerializationProxy of a map from one of a
// sequence by its factory; an empty map and an empty list differ only there.
func proxyIsMap(o *javaser.Object) bool {
	f, _ := o.Field("factory")
	for depth := 0; depth < 4; depth++ {
		fo, ok := f.(*javaser.Object)
		if !ok || fo == nil {
			return false
		}
		if m, ok := moduleName(fo); ok {
			return strings.Contains(m, "Map")
		}
		if strings.Contains(fo.ClassName(), "Map") {
			return true
		}
		f, _ = fo.Field("factory")
	}
	return false
}

func pairs(vals []javaser.Value) ([]Entry, bool) {
	if len(vals)%2 != 0 {
		return nil, false
	}
	out := make([]Entry, 0, len(vals)/2)
	for i := 0; i < len(vals); i += 2 {
		out = append(out, Entry{vals[i], vals[i+1]})
	}
	return out, true
}

// boxed returns the primitive inside java.lang.Integer, Long and the other
// boxes (Scala boxes Int in Option[Int] and in generic collections).
func boxed(v javaser.Value) (javaser.Value, bool) {
	o, ok := v.(*javaser.Object)
	if !ok || o == nil {
		return nil, false
	}
	switch o.ClassName() {
	case "java.lang.Integer", "java.lang.Long", "java.lang.Double", "java.lang.Float",
		"java.lang.Short", "java.lang.Byte", "java.lang.Boolean", "java.lang.Character":
		x, ok := o.Field("value")
		return x, ok
	case "scala.runtime.BoxedUnit":
		return nil, true
	}
	return nil, false
}

// javaDate returns the epoch milliseconds of a java.util.Date, which its
// writeObject stores as one long in block data.
func javaDate(v javaser.Value) (int64, bool) {
	o, ok := v.(*javaser.Object)
	if !ok || o == nil {
		return 0, false
	}
	switch o.ClassName() {
	case "java.util.Date", "java.sql.Timestamp", "java.sql.Date":
	default:
		return 0, false
	}
	cd := o.Data("java.util.Date")
	if cd == nil {
		return 0, false
	}
	for _, a := range cd.Annotations {
		if b, ok := a.(javaser.BlockData); ok && len(b) >= 8 {
			return int64(binary.BigEndian.Uint64(b)), true
		}
	}
	return 0, false
}

// javaURI returns the text of a java.net.URI, its only serialized field.
func javaURI(v javaser.Value) (string, bool) {
	o, ok := v.(*javaser.Object)
	if !ok || o == nil || o.ClassName() != "java.net.URI" {
		return "", false
	}
	s, ok := o.Field("string")
	str, ok2 := s.(string)
	return str, ok && ok2
}

// Names of the Spark enumerations, by id, for 2.13 streams and for values
// created without a name: there the stream holds only the id and a proxy for
// the enumeration object, and the JVM finds names by reflection.
var enumNames = map[string][]string{
	"org.apache.spark.deploy.master.ApplicationState$": {"WAITING", "RUNNING", "FINISHED", "FAILED", "KILLED", "UNKNOWN"},
	"org.apache.spark.deploy.master.DriverState$":      {"SUBMITTED", "RUNNING", "FINISHED", "RELAUNCHING", "UNKNOWN", "KILLED", "FAILED", "ERROR"},
	"org.apache.spark.deploy.master.WorkerState$":      {"ALIVE", "DEAD", "DECOMMISSIONED", "UNKNOWN"},
	"org.apache.spark.deploy.master.RecoveryState$":    {"STANDBY", "ALIVE", "RECOVERING", "COMPLETING_RECOVERY"},
	"org.apache.spark.deploy.ExecutorState$":           {"LAUNCHING", "RUNNING", "KILLED", "FAILED", "LOST", "EXITED", "DECOMMISSIONED"},
}

// EnumValue is a scala.Enumeration value.
type EnumValue struct {
	Enum string `json:"enum"` // the enumeration object's class, e.g. org.apache.spark.deploy.master.ApplicationState$
	ID   int32  `json:"id"`
	Name string `json:"name,omitempty"`
}

func scalaEnum(v javaser.Value) (EnumValue, bool) {
	o, ok := v.(*javaser.Object)
	if !ok || o == nil || o.ClassName() != "scala.Enumeration$Val" {
		return EnumValue{}, false
	}
	var ev EnumValue
	// 2.11 names the id field scala$Enumeration$Val$$i: read as plain "i",
	// every 2.11 value would be id 0.
	if i, ok := mangledField(o, "i"); ok {
		ev.ID, _ = i.(int32)
	}
	if n, ok := o.Field("name"); ok {
		ev.Name, _ = n.(string)
	}
	if outer, ok := o.Field("scala$Enumeration$$outerEnum"); ok {
		if m, ok := moduleName(outer); ok {
			ev.Enum = m
		} else if oo, ok := outer.(*javaser.Object); ok && oo != nil {
			ev.Enum = oo.ClassName()
		}
	}
	if ev.Name == "" {
		if names := enumNames[ev.Enum]; ev.ID >= 0 && int(ev.ID) < len(names) {
			ev.Name = names[ev.ID]
		}
	}
	return ev, true
}

// plainLimit bounds how deep Plain descends and plainBudget how many values
// it converts: back references let a small hostile stream describe a DAG whose
// expansion is exponential, so depth alone is not enough.
const (
	plainLimit  = 32
	plainBudget = 1 << 14
)

type plainState struct {
	seen   map[*javaser.Object]bool
	budget int
}

// Plain converts a decoded value to a JSON-friendly Go value: Scala options
// become the value or nil, sequences []any, maps with string keys
// map[string]any (other maps a list of [key, value] pairs), boxes their
// primitive, Date a time.Time in UTC, URI its text, enumerations their name,
// and any other object {"class": name, "fields": {...}}. It is what records
// show for fields the model does not know.
func Plain(v javaser.Value) any {
	return newPlainState().plain(v, 0)
}

func newPlainState() *plainState {
	return &plainState{seen: map[*javaser.Object]bool{}, budget: plainBudget}
}

func (st *plainState) plain(v javaser.Value, depth int) any {
	if depth > plainLimit || st.budget <= 0 {
		return "…"
	}
	st.budget--
	seen := st.seen
	switch t := v.(type) {
	case nil, string, bool, int8, int16, int32, int64, float32, float64:
		return t
	case uint16:
		return string(rune(t))
	case javaser.BlockData:
		return []byte(t)
	case *javaser.Enum:
		return t.Constant
	case *javaser.Class:
		if t.Desc != nil {
			return "class " + t.Desc.Name
		}
		return "class ?"
	case *javaser.ClassDesc:
		return "classdesc " + t.Name
	case *javaser.Array:
		if b, ok := t.Data.([]byte); ok {
			return b
		}
		vals := arrayValues(t)
		out := make([]any, len(vals))
		for i, e := range vals {
			out[i] = st.plain(e, depth+1)
		}
		return out
	case *javaser.Object:
		if t == nil {
			return nil
		}
		if seen[t] {
			return map[string]any{"ref": t.ClassName()}
		}
		seen[t] = true
		defer delete(seen, t)
		if x, present, ok := scalaOption(t); ok {
			if !present {
				return nil
			}
			return st.plain(x, depth+1)
		}
		if x, ok := boxed(t); ok {
			return st.plain(x, depth+1)
		}
		if ms, ok := javaDate(t); ok {
			return time.UnixMilli(ms).UTC()
		}
		if s, ok := javaURI(t); ok {
			return s
		}
		if ev, ok := scalaEnum(t); ok {
			if ev.Name != "" {
				return ev.Name
			}
			return ev.ID
		}
		if entries, ok := scalaMap(t); ok {
			return st.plainMap(entries, depth)
		}
		if elems, ok := scalaSeq(t); ok {
			out := make([]any, len(elems))
			for i, e := range elems {
				out[i] = st.plain(e, depth+1)
			}
			return out
		}
		if m, ok := moduleName(t); ok {
			return map[string]any{"module": m}
		}
		if strings.HasPrefix(t.ClassName(), "scala.Tuple") {
			var out []any
			for _, cd := range t.Classes {
				for i := range cd.Desc.Fields {
					if i < len(cd.Values) {
						out = append(out, st.plain(cd.Values[i], depth+1))
					}
				}
			}
			return out
		}
		fields := map[string]any{}
		for _, cd := range t.Classes {
			for i, f := range cd.Desc.Fields {
				if i < len(cd.Values) {
					fields[f.Name] = st.plain(cd.Values[i], depth+1)
				}
			}
		}
		return map[string]any{"class": t.ClassName(), "fields": fields}
	}
	return nil
}

func (st *plainState) plainMap(entries []Entry, depth int) any {
	allString := true
	for _, e := range entries {
		if _, ok := e.Key.(string); !ok {
			allString = false
			break
		}
	}
	if allString {
		out := make(map[string]any, len(entries))
		for _, e := range entries {
			out[e.Key.(string)] = st.plain(e.Value, depth+1)
		}
		return out
	}
	out := make([]any, len(entries))
	for i, e := range entries {
		out[i] = []any{st.plain(e.Key, depth+1), st.plain(e.Value, depth+1)}
	}
	return out
}
