package classes

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/recoverctl/recoverctl/codec/classes/classdesc"
	"github.com/recoverctl/recoverctl/codec/javaser"
)

// LocalClass is a class as a target JVM sees it (package classdesc).
type LocalClass = classdesc.Class

// LocalField is a serializable field of a LocalClass.
type LocalField = classdesc.Field

// Table is the class descriptors of one Spark release on one Scala line:
// the release's share of a classdesc table, and the gadget classes found
// on its class path.
type Table struct {
	Spark        string
	Scala        string
	ScalaLibrary string
	Java         string // the JDK whose classes the table holds

	cat  *classdesc.Catalog
	rel  classdesc.Release
	desc *classdesc.Table
}

// Release is "3.5.8-2.12".
func (t *Table) Release() string { return t.rel.Name() }

// Same lists every release whose descriptors are identical to this one's
// (this one included): a record reads alike on all of them.
func (t *Table) Same() []string {
	var out []string
	for _, r := range t.desc.Releases {
		out = append(out, r.Name())
	}
	return out
}

// Lookup returns the class, and whether it is known to be absent.
func (t *Table) Lookup(name string) (c *LocalClass, absent bool) { return t.desc.Lookup(name) }

// Present reports whether a probed gadget class is on the release's class
// path (known: false when it was not probed).
func (t *Table) Present(class string) (present, known bool) { return t.cat.Probe(t.rel, class) }

// Releases lists the releases the tables cover ("2.4.0-2.11", ...), oldest
// first, without parsing a table.
func Releases() []string { return classdesc.ReleaseNames() }

// ErrNoTable is a --target-spark with no table.
var ErrNoTable = errors.New("no class descriptor table for that Spark release")

// TableFor finds the table of a release: "3.5.8-2.13" exactly, or "3.5.8"
// alone, which means the only Scala line the release was published for,
// or else the one its default distribution uses (note says which). A
// release outside the tables is an error naming the covered ranges.
func TableFor(release string) (t *Table, note string, err error) {
	cat, err := classdesc.Load()
	if err != nil {
		return nil, "", err
	}
	spark, scala, _ := strings.Cut(release, "-")
	lines := cat.ScalaLines(spark)
	if scala == "" {
		switch {
		case len(lines) == 1:
			scala = lines[0]
		case len(lines) > 1:
			scala = defaultScala(spark)
			note = fmt.Sprintf("Spark %s was published for Scala %s; assuming %s, the line of its default distribution (say %s-<scala> for another)",
				spark, strings.Join(lines, " and "), scala, spark)
		}
	}
	r, ok := cat.Find(spark, scala)
	if !ok {
		return nil, "", fmt.Errorf("%w: %s (the tables cover %s)", ErrNoTable, release, covered(cat))
	}
	return &Table{Spark: r.Spark, Scala: r.Scala, ScalaLibrary: r.ScalaLibrary, Java: cat.Java,
		cat: cat, rel: r, desc: cat.Tables[r.Table]}, note, nil
}

// defaultScala is the Scala line of a release's default binary
// distribution: 2.11 for 2.4 (except 2.4.2, built with 2.12), 2.12 for
// 3.x, 2.13 from 4.0.
func defaultScala(spark string) string {
	switch {
	case spark == "2.4.2":
		return "2.12"
	case strings.HasPrefix(spark, "2."):
		return "2.11"
	case strings.HasPrefix(spark, "3."):
		return "2.12"
	}
	return "2.13"
}

// covered sums the releases up per Scala line: "2.4.0-2.4.8 (Scala 2.11), ...".
func covered(cat *classdesc.Catalog) string {
	var parts []string
	for _, s := range []string{"2.11", "2.12", "2.13"} {
		lo, hi := "", ""
		for _, r := range cat.Releases {
			if r.Scala == s {
				if lo == "" {
					lo = r.Spark
				}
				hi = r.Spark
			}
		}
		if lo != "" {
			parts = append(parts, lo+"-"+hi+" (Scala "+s+")")
		}
	}
	return strings.Join(parts, ", ")
}

// Verdicts of a prediction.
const (
	VerdictOK      = "ok"      // a Master of the target release reads the record
	VerdictDropped = "dropped" // ZOOKEEPER engine: read fails, the Master deletes the znode
	VerdictFails   = "fails"   // FILESYSTEM before 4.3, ROCKSDB: read fails, the Master stops recovering
	// VerdictQuarantined: FILESYSTEM from 4.3: the file is renamed to
	// corrupted_<name> and the rest recovered.
	VerdictQuarantined = "quarantined"
	// VerdictSkipped: ZOOKEEPER from 4.3: a class the recovery filter
	// rejects; the znode is left as it is and not recovered.
	VerdictSkipped = "skipped"
	VerdictBroken  = "incompatible"
	VerdictUnknown = "unknown" // the record names classes the table does not know
)

// Problem is one reason a record would not deserialize.
type Problem struct {
	Class     string `json:"class"`
	Exception string `json:"exception"` // the Java exception ObjectInputStream throws
	Reason    string `json:"reason"`
	// Deferred problems (ClassNotFoundException) only fail the record when
	// the object is reachable through fields the target class still has.
	Deferred bool `json:"deferred,omitempty"`
}

// Prediction is what a Master of the target release would do with a record.
type Prediction struct {
	Record  string `json:"record"`
	Target  string `json:"target"`
	Verdict string `json:"verdict"`
	// Effect words the verdict by the target's engine: "deleted", "Master
	// will not become ALIVE", "quarantined as corrupted_<name>".
	Effect    string    `json:"effect,omitempty"`
	Class     string    `json:"class,omitempty"`
	Exception string    `json:"exception,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Problems  []Problem `json:"problems,omitempty"`
	Unknown   []string  `json:"unknown,omitempty"` // classes the table does not know
	Note      string    `json:"note,omitempty"`
}

// Predict applies the Java Object Serialization Specification's versioning
// rules (chapter 5) as ObjectInputStream implements them to the first
// top-level object of a stream (the one Spark's engines read), against the
// classes of table. engine is "zookeeper", "filesystem", "rocksdb" or ""
// (verdict "incompatible" instead of what the engine does, EngineOf).
//
// Immediate failures, thrown while the descriptor is read, whatever holds
// it: a serialVersionUID that differs from the local class's when both are
// serializable (arrays and records exempt), enum/non-enum or
// Serializable/Externalizable mismatches, a field whose primitive type
// changed (or changed between primitive and object), an enum constant the
// local enum lacks, an instance of a class that is no longer serializable,
// a field value the local field's type cannot hold (ClassCastException).
// Deferred failure: a class that is not found (ClassNotFoundException)
// fails the record only when its object is reachable from the root through
// fields the local classes still declare, or through readObject data;
// values of removed fields are read and discarded. Added fields take their
// defaults and removed ones are ignored, as the spec says.
func Predict(record string, s *Stream, t *Table, engine string) Prediction {
	p := Prediction{Record: record, Target: t.Release(), Verdict: VerdictOK}
	if len(s.Contents) == 0 {
		p.Reason = "no object in the stream"
		if s.Err != nil {
			p.Reason = s.Err.Error()
			p.Exception = "java.io.StreamCorruptedException"
		}
		p.fail(t, engine)
		return p
	}
	c := &compat{t: t, seenDesc: map[*javaser.ClassDesc]bool{}, cnf: map[any]bool{}, unknown: map[string]bool{}}
	root := s.Contents[0]
	c.descs(root)
	rootCNF := c.reach(root, map[any]bool{})
	for n := range c.unknown {
		p.Unknown = append(p.Unknown, n)
	}
	slices.Sort(p.Unknown)
	p.Problems = c.problems
	var first *Problem
	for i := range c.problems {
		if !c.problems[i].Deferred {
			first = &c.problems[i]
			break
		}
	}
	if first == nil && rootCNF != "" {
		for i := range c.problems {
			if c.problems[i].Class == rootCNF {
				first = &c.problems[i]
				break
			}
		}
	}
	switch {
	case first != nil:
		p.Class, p.Exception, p.Reason = first.Class, first.Exception, first.Reason
		p.fail(t, engine)
	case len(p.Unknown) > 0:
		p.Verdict = VerdictUnknown
		p.Reason = "the record names classes the " + t.Release() + " table does not hold: " + strings.Join(p.Unknown, ", ")
	}
	return p
}

// fail sets the verdict and effect of a record the target cannot read.
func (p *Prediction) fail(t *Table, engine string) {
	e, ok := EngineOf(t.Spark, engine)
	if !ok {
		p.Verdict = VerdictBroken
		return
	}
	p.Effect = e.Effect(p.Record)
	switch e.OnUnreadable {
	case OnUnreadableDelete:
		p.Verdict = VerdictDropped
	case OnUnreadableQuarantine:
		p.Verdict = VerdictQuarantined
	default:
		p.Verdict = VerdictFails
	}
}

// PredictCompressed is the prediction for a record compressed with
// spark.deploy.recoveryCompressionCodec, which only 4.0 and later read:
// an older Master hands the codec's bytes to ObjectInputStream, whose
// header check fails before any class is looked at. ok is false when the
// target reads compressed records.
func PredictCompressed(record string, raw []byte, t *Table, engine string) (p Prediction, ok bool) {
	if compareRelease(t.Spark, "4.0.0") >= 0 {
		return Prediction{}, false
	}
	p = Prediction{Record: record, Target: t.Release(), Exception: "java.io.StreamCorruptedException"}
	if len(raw) < 4 {
		p.Exception, p.Reason = "java.io.EOFException", ""
	} else {
		// ObjectInputStream.readStreamHeader: String.format("invalid stream header: %04X%04X", ...)
		p.Reason = fmt.Sprintf("invalid stream header: %02X%02X%02X%02X", raw[0], raw[1], raw[2], raw[3])
	}
	p.fail(t, engine)
	return p, true
}

type compat struct {
	t        *Table
	seenDesc map[*javaser.ClassDesc]bool
	problems []Problem
	cnf      map[any]bool // descriptors whose class is not found
	unknown  map[string]bool
}

func (c *compat) problem(p Problem) {
	for _, q := range c.problems {
		if q == p {
			return
		}
	}
	c.problems = append(c.problems, p)
}

// descs checks every descriptor and enum constant in the tree: those
// checks happen as the stream is read, discarded values included.
func (c *compat) descs(root javaser.Value) {
	visit := func(cd *javaser.ClassDesc) {
		for d := cd; d != nil && !c.seenDesc[d]; d = d.Super {
			c.seenDesc[d] = true
			c.checkDesc(d)
		}
	}
	javaser.Walk(root, func(v javaser.Value) bool {
		switch x := v.(type) {
		case *javaser.Object:
			if x != nil {
				visit(x.Desc)
				if lc, _ := c.t.Lookup(x.ClassName()); lc != nil && !x.Desc.Proxy && !lc.Serializable && !lc.Enum {
					c.problem(Problem{Class: x.ClassName(), Exception: "java.io.InvalidClassException",
						Reason: "class invalid for deserialization: the local class is not Serializable"})
				}
			}
		case *javaser.Array:
			if x != nil {
				visit(x.Desc)
			}
		case *javaser.Class:
			if x != nil {
				visit(x.Desc)
			}
		case *javaser.ClassDesc:
			visit(x)
		case *javaser.Enum:
			if x == nil {
				return true
			}
			visit(x.Desc)
			if lc, _ := c.t.Lookup(x.Desc.Name); lc != nil && lc.Enum && !slices.Contains(lc.EnumConstants, x.Constant) {
				c.problem(Problem{Class: x.Desc.Name, Exception: "java.io.InvalidObjectException",
					Reason: fmt.Sprintf("enum constant %s does not exist in %s", x.Constant, x.Desc.Name)})
			}
		}
		return true
	})
}

func (c *compat) checkDesc(d *javaser.ClassDesc) {
	if d.Proxy {
		for _, in := range d.Interfaces {
			lc, absent := c.t.Lookup(in)
			switch {
			case absent:
				c.cnf[d] = true
				c.problem(Problem{Class: in, Exception: "java.lang.ClassNotFoundException",
					Reason: "proxy interface " + in + " is not on " + c.t.Release() + "'s class path", Deferred: true})
			case lc == nil:
				c.unknown[in] = true
			}
		}
		return
	}
	lc, absent := c.t.Lookup(d.Name)
	if absent {
		c.cnf[d] = true
		c.problem(Problem{Class: d.Name, Exception: "java.lang.ClassNotFoundException",
			Reason: d.Name + " is not on " + c.t.Release() + "'s class path", Deferred: true})
		return
	}
	if lc == nil {
		c.unknown[d.Name] = true
		return
	}
	fail := func(reason string) {
		c.problem(Problem{Class: d.Name, Exception: "java.io.InvalidClassException", Reason: reason})
	}
	streamEnum := d.IsEnum()
	if lc.Proxy {
		fail("cannot bind non-proxy descriptor to a proxy class")
		return
	}
	if streamEnum != lc.Enum {
		if streamEnum {
			fail("cannot bind enum descriptor to a non-enum class")
		} else {
			fail("cannot bind non-enum descriptor to an enum class")
		}
		return
	}
	ext := d.IsExternalizable()
	ser := ext || d.Flags&javaser.SCSerializable != 0
	localSer := lc.Serializable || lc.Externalizable
	if ser == localSer && !lc.Array && !lc.Record && lc.SUID != nil && d.SUID != *lc.SUID {
		fail(fmt.Sprintf("local class incompatible: stream classdesc serialVersionUID = %d, local class serialVersionUID = %d", d.SUID, *lc.SUID))
		return
	}
	if !streamEnum && ser == localSer && ext != lc.Externalizable {
		fail("Serializable incompatible with Externalizable")
		return
	}
	for _, f := range d.Fields {
		for _, lf := range lc.Fields {
			if f.Name != lf.Name {
				continue
			}
			fPrim := f.Type != 'L' && f.Type != '['
			if (fPrim || lf.Primitive()) && f.Type != lf.Type[0] {
				fail("incompatible types for field " + f.Name + ": stream " + f.TypeName() + ", local " + sigName(lf.Type))
				return
			}
		}
	}
}

func sigName(sig string) string {
	return javaser.Field{Type: sig[0], ClassName: sig}.TypeName()
}

// reach reports the class of a ClassNotFoundException that reaches v's
// reader ("" for none), and checks the assignments that would be made.
func (c *compat) reach(v javaser.Value, seen map[any]bool) string {
	switch x := v.(type) {
	case *javaser.Object:
		if x == nil || seen[x] {
			return ""
		}
		seen[x] = true
		if x.Desc.Proxy {
			if c.cnf[x.Desc] {
				return c.proxyMissing(x.Desc)
			}
		} else if c.cnf[x.Desc] {
			return x.Desc.Name
		}
		lc, _ := c.t.Lookup(x.ClassName())
		local := map[string]*LocalClass{}
		for l := lc; l != nil; {
			local[l.Name] = l
			next, _ := c.t.Lookup(l.Super)
			if l.Super == "" || next == nil {
				break
			}
			l = next
		}
		found := ""
		for _, cd := range x.Classes {
			slot := local[cd.Desc.Name] // nil: no local class matches this slot
			for i, f := range cd.Desc.Fields {
				if i >= len(cd.Values) {
					break
				}
				var lf *LocalField
				if slot != nil {
					for j := range slot.Fields {
						if slot.Fields[j].Name == f.Name {
							lf = &slot.Fields[j]
						}
					}
				}
				r := c.reach(cd.Values[i], seen)
				if lf == nil {
					continue // read and discarded: no dependency
				}
				if r != "" && found == "" {
					found = r
				}
				if r == "" && !lf.Primitive() {
					c.assignable(slot.Name, *lf, cd.Values[i])
				}
			}
			for _, a := range cd.Annotations {
				if r := c.reach(a, seen); r != "" && found == "" && slot != nil {
					found = r
				}
			}
		}
		return found
	case *javaser.Array:
		if x == nil || seen[x] {
			return ""
		}
		seen[x] = true
		if c.cnf[x.Desc] {
			return x.Desc.Name
		}
		found := ""
		if vs, ok := x.Data.([]javaser.Value); ok {
			for _, e := range vs {
				if r := c.reach(e, seen); r != "" && found == "" {
					found = r
				}
			}
		}
		return found
	case *javaser.Enum:
		if x != nil && c.cnf[x.Desc] {
			return x.Desc.Name
		}
	case *javaser.Class:
		if x != nil && c.cnf[x.Desc] {
			return x.Desc.Name
		}
	}
	return ""
}

func (c *compat) proxyMissing(d *javaser.ClassDesc) string {
	for _, in := range d.Interfaces {
		if _, absent := c.t.Lookup(in); absent {
			return in
		}
	}
	return ""
}

// assignable checks that v fits the local field, as
// ObjectStreamClass.checkObjFieldValueTypes does before setting fields.
func (c *compat) assignable(owner string, lf LocalField, v javaser.Value) {
	want := sigName(lf.Type)
	if strings.HasPrefix(lf.Type, "[") || want == "java.lang.Object" {
		return // array covariance is not in the table; Object takes anything
	}
	var got string
	switch x := v.(type) {
	case nil:
		return
	case string:
		got = "java.lang.String"
	case *javaser.Object:
		if x == nil || x.Desc.Proxy {
			return
		}
		got = x.ClassName()
	case *javaser.Enum:
		got = x.Desc.Name
	case *javaser.Class:
		got = "java.lang.Class"
	case *javaser.Array:
		got = x.Desc.Name
	default:
		return
	}
	if got == want {
		return
	}
	lc, _ := c.t.Lookup(got)
	if lc == nil || lc.ReadResolve {
		return // unknown class, or readResolve decides the type at run time
	}
	if strings.HasPrefix(got, "[") {
		if want == "java.io.Serializable" || want == "java.lang.Cloneable" {
			return
		}
	} else if slices.Contains(lc.AssignableTo, want) {
		return
	}
	{
		c.problem(Problem{Class: owner, Exception: "java.lang.ClassCastException",
			Reason: fmt.Sprintf("cannot assign instance of %s to field %s.%s of type %s", got, owner, lf.Name, want)})
	}
}
