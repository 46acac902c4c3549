// Package classdesc holds the class descriptors of every Spark release on
// Maven Central from 2.4.0 on, for each Scala line it was published for, as
// ObjectStreamClass.lookup computed them from that release's jars
// (testdata/classdesc/gen.sh): the one source of truth both for what a
// Master of a release would refuse (package classes) and for which releases
// could have written a record (codec's fingerprint).
//
// Releases whose descriptors are identical share one table, and a
// descriptor shared by several tables is stored once. Nothing is
// decompressed or parsed until a table is asked for: a process that never
// looks at a record (recoverctl --version) pays nothing for the tables.
//
// It does not judge streams (package classes does) and never prints.
package classdesc

import (
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// Class is a class as a target JVM sees it: what ObjectStreamClass.lookup
// computed from that release's jars.
type Class struct {
	Name             string   `json:"name"`
	SUID             *int64   `json:"suid,omitempty"` // nil: not serializable
	Serializable     bool     `json:"serializable,omitempty"`
	Externalizable   bool     `json:"externalizable,omitempty"`
	Enum             bool     `json:"enum,omitempty"`
	Interface        bool     `json:"interface,omitempty"`
	Array            bool     `json:"array,omitempty"`
	Record           bool     `json:"record,omitempty"`
	Proxy            bool     `json:"proxy,omitempty"`
	Super            string   `json:"super,omitempty"`
	WriteObject      bool     `json:"writeObject,omitempty"`
	ReadObject       bool     `json:"readObject,omitempty"`
	ReadObjectNoData bool     `json:"readObjectNoData,omitempty"`
	WriteReplace     bool     `json:"writeReplace,omitempty"`
	ReadResolve      bool     `json:"readResolve,omitempty"`
	EnumConstants    []string `json:"enumConstants,omitempty"`
	AssignableTo     []string `json:"assignableTo,omitempty"`
	Fields           []Field  `json:"fields,omitempty"`
}

// Field is a serializable field: Type is a primitive code ("I") or a JVM
// signature ("Ljava/lang/String;", "[I").
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Primitive reports whether the field holds a primitive value.
func (f Field) Primitive() bool { return len(f.Type) == 1 }

// Release is one Spark release on one Scala line.
type Release struct {
	Spark        string `json:"spark"` // "3.5.8"
	Scala        string `json:"scala"` // "2.13"
	ScalaLibrary string `json:"scalaLibrary"`
	Table        int    `json:"table"`
	Probes       int    `json:"probes"` // index into the probe sets
}

// Name is "3.5.8-2.13".
func (r Release) Name() string { return r.Spark + "-" + r.Scala }

// Table is the class descriptors that one or more releases share.
type Table struct {
	ID       int
	Releases []Release // sorted by version
	byName   map[string]*Class
	missing  map[string]bool
}

// Lookup returns the class and whether it is known to be absent from the
// releases' class path (nil, false: the table does not know the name).
func (t *Table) Lookup(name string) (c *Class, absent bool) {
	if c, ok := t.byName[name]; ok {
		return c, false
	}
	if t.missing[name] {
		return nil, true
	}
	// An array class exists when its element class does.
	if b := baseClass(name); b != "" && b != name {
		if _, ok := t.byName[b]; ok {
			return &Class{Name: name, Serializable: true, Array: true, Super: "java.lang.Object"}, false
		}
		if t.missing[b] {
			return nil, true
		}
	} else if strings.HasPrefix(name, "[") && b == "" {
		return &Class{Name: name, Serializable: true, Array: true, Super: "java.lang.Object"}, false
	}
	return nil, false
}

// baseClass is the element class of an array name ("[[Lx.Y;" -> "x.Y"),
// "" for an array of primitives, the name itself otherwise.
func baseClass(name string) string {
	n := strings.TrimLeft(name, "[")
	if n == name {
		return name
	}
	if strings.HasPrefix(n, "L") && strings.HasSuffix(n, ";") {
		return n[1 : len(n)-1]
	}
	return ""
}

// Set is a set of tables (bit i: table i).
type Set [2]uint64

// MaxTables is what a Set holds.
const MaxTables = 128

func (s *Set) Add(i int)            { s[i/64] |= 1 << uint(i%64) }
func (s Set) Has(i int) bool        { return s[i/64]&(1<<uint(i%64)) != 0 }
func (s Set) And(o Set) Set         { return Set{s[0] & o[0], s[1] & o[1]} }
func (s Set) Or(o Set) Set          { return Set{s[0] | o[0], s[1] | o[1]} }
func (s Set) AndNot(o Set) Set      { return Set{s[0] &^ o[0], s[1] &^ o[1]} }
func (s Set) Empty() bool           { return s[0] == 0 && s[1] == 0 }
func (s Set) Equal(o Set) bool      { return s == o }
func (s Set) Intersects(o Set) bool { return !s.And(o).Empty() }

// Variant is one descriptor of a class and the tables that hold it.
type Variant struct {
	Class  *Class
	Tables Set
}

// Catalog is every table, parsed.
type Catalog struct {
	Java     string // the JDK whose classes the tables hold
	Releases []Release
	// Uncovered are releases on Maven Central the generator could not
	// dump (their artifacts were not served): no table, and a range of
	// releases never spans one.
	Uncovered []Release
	Tables    []*Table
	All       Set // every table
	probed    []string
	probes    [][]string
	variants  map[string][]Variant
	known     map[string]Set // tables that hold the class or list it missing
}

//go:embed classdesc.json.zst
var packed []byte

// releasesText is the list of releases the tables cover, one name a line,
// kept beside them (TestReleasesFile checks it against the tables) so that
// naming them, as `recoverctl --version` does, parses no table.
//
//go:embed releases.txt
var releasesText string

// ReleaseNames lists the releases the tables cover ("3.5.8-2.12"), in
// order, without loading a table.
func ReleaseNames() []string { return strings.Fields(releasesText) }

var (
	loads   atomic.Int64
	catalog = sync.OnceValues(load)
)

// Loads counts how often the embedded tables were decompressed and parsed:
// 0 until the first call that needs a table, 1 after it.
func Loads() int64 { return loads.Load() }

// Load returns the tables, decompressing and parsing them on first use.
func Load() (*Catalog, error) { return catalog() }

// packedDoc is what testdata/classdesc/pack writes.
type packedDoc struct {
	Java      string     `json:"java"`
	Releases  []Release  `json:"releases"`
	Uncovered []Release  `json:"uncovered,omitempty"`
	Probed    []string   `json:"probed"`
	Probes    [][]int    `json:"probes"` // per probe set, the indexes into Probed found present
	Classes   []Class    `json:"classes"`
	Tables    []packedTb `json:"tables"`
}

type packedTb struct {
	Classes []int    `json:"classes"`
	Missing []string `json:"missing"`
}

// maxUnpacked bounds the decompressed tables: they are embedded, but a bad
// regeneration must fail here, not exhaust memory.
const maxUnpacked = 64 << 20

func load() (*Catalog, error) {
	loads.Add(1)
	raw, err := unpack()
	if err != nil {
		return nil, err
	}
	return Parse(raw)
}

func unpack() ([]byte, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxUnpacked), zstd.WithDecoderMaxWindow(maxUnpacked))
	if err != nil {
		return nil, fmt.Errorf("classdesc: %w", err)
	}
	defer dec.Close()
	raw, err := dec.DecodeAll(packed, nil)
	if err != nil {
		return nil, fmt.Errorf("classdesc: decompress classdesc.json.zst: %w", err)
	}
	return raw, nil
}

// Parse reads the uncompressed tables as testdata/classdesc/pack writes them.
func Parse(raw []byte) (*Catalog, error) {
	var doc packedDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("classdesc: parse tables: %w", err)
	}
	if len(doc.Tables) > MaxTables {
		return nil, fmt.Errorf("classdesc: %d tables, a Set holds %d", len(doc.Tables), MaxTables)
	}
	c := &Catalog{Java: doc.Java, Releases: doc.Releases, Uncovered: doc.Uncovered, probed: doc.Probed,
		variants: map[string][]Variant{}, known: map[string]Set{}}
	for _, p := range doc.Probes {
		var names []string
		for _, i := range p {
			if i < 0 || i >= len(doc.Probed) {
				return nil, fmt.Errorf("classdesc: probe index %d out of range", i)
			}
			names = append(names, doc.Probed[i])
		}
		c.probes = append(c.probes, names)
	}
	variantOf := make([]int, len(doc.Classes)) // pool index -> index in variants[name]
	for i := range doc.Classes {
		cl := &doc.Classes[i]
		variantOf[i] = len(c.variants[cl.Name])
		c.variants[cl.Name] = append(c.variants[cl.Name], Variant{Class: cl})
	}
	for id, pt := range doc.Tables {
		t := &Table{ID: id, byName: make(map[string]*Class, len(pt.Classes)), missing: make(map[string]bool, len(pt.Missing))}
		for _, i := range pt.Classes {
			if i < 0 || i >= len(doc.Classes) {
				return nil, fmt.Errorf("classdesc: table %d: class index %d out of range", id, i)
			}
			cl := &doc.Classes[i]
			t.byName[cl.Name] = cl
			c.variants[cl.Name][variantOf[i]].Tables.Add(id)
			k := c.known[cl.Name]
			k.Add(id)
			c.known[cl.Name] = k
		}
		for _, m := range pt.Missing {
			t.missing[m] = true
			k := c.known[m]
			k.Add(id)
			c.known[m] = k
		}
		c.Tables = append(c.Tables, t)
		c.All.Add(id)
	}
	for _, r := range c.Releases {
		if r.Table < 0 || r.Table >= len(c.Tables) || r.Probes < 0 || r.Probes >= len(c.probes) {
			return nil, fmt.Errorf("classdesc: release %s: table %d or probe set %d out of range", r.Name(), r.Table, r.Probes)
		}
		c.Tables[r.Table].Releases = append(c.Tables[r.Table].Releases, r)
	}
	slices.SortFunc(c.Releases, CompareReleases)
	slices.SortFunc(c.Uncovered, CompareReleases)
	for _, t := range c.Tables {
		slices.SortFunc(t.Releases, CompareReleases)
	}
	return c, nil
}

// Variants returns the descriptors the tables hold for a class, and the
// tables that know the class at all (hold it, or list it as absent).
func (c *Catalog) Variants(name string) ([]Variant, Set) {
	return c.variants[name], c.known[name]
}

// Probes reports, for a release, which gadget classes are on its class
// path (known: false when the class was not probed).
func (c *Catalog) Probe(r Release, class string) (present, known bool) {
	if !slices.Contains(c.probed, class) {
		return false, false
	}
	return slices.Contains(c.probes[r.Probes], class), true
}

// Find returns a release by name, "3.5.8-2.13".
func (c *Catalog) Find(spark, scala string) (Release, bool) {
	for _, r := range c.Releases {
		if r.Spark == spark && r.Scala == scala {
			return r, true
		}
	}
	return Release{}, false
}

// ScalaLines lists the Scala lines a Spark release was published for.
func (c *Catalog) ScalaLines(spark string) []string {
	var out []string
	for _, r := range c.Releases {
		if r.Spark == spark {
			out = append(out, r.Scala)
		}
	}
	return out
}

// CompareReleases orders by Spark version, then Scala line.
func CompareReleases(a, b Release) int {
	if d := CompareVersions(a.Spark, b.Spark); d != 0 {
		return d
	}
	return CompareVersions(a.Scala, b.Scala)
}

// CompareVersions compares dotted numbers ("3.10" after "3.9") without
// allocating.
func CompareVersions(a, b string) int {
	for a != "" && b != "" {
		na, ra := leadingNumber(a)
		nb, rb := leadingNumber(b)
		if na != nb {
			return cmp.Compare(na, nb)
		}
		a, b = strings.TrimPrefix(ra, "."), strings.TrimPrefix(rb, ".")
	}
	return cmp.Compare(len(a), len(b))
}

func leadingNumber(s string) (int, string) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 && s != "" {
		i = 1 // skip a non-digit so the loop always advances
	}
	return n, s[i:]
}

// Names lists the classes the table holds, sorted.
func (t *Table) Names() []string {
	out := make([]string, 0, len(t.byName))
	for n := range t.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
