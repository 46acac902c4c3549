package javaser

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// corpus returns the streams written by testdata/gen/Gen.java.
func corpus(t testing.TB) []string {
	files, err := filepath.Glob("testdata/gen/*.ser")
	if err != nil || len(files) < 10 {
		t.Fatalf("corpus missing (run testdata/gen/gen.sh): %v %v", files, err)
	}
	return files
}

// TestAgainstJVM decodes every stream ObjectOutputStream wrote and compares
// each top-level item with what the JVM itself described in the .json file.
func TestAgainstJVM(t *testing.T) {
	for _, path := range corpus(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".ser")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			js, err := os.ReadFile(strings.TrimSuffix(path, ".ser") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var desc struct{ Items []any }
			dec := json.NewDecoder(bytes.NewReader(js))
			dec.UseNumber()
			if err := dec.Decode(&desc); err != nil {
				t.Fatal(err)
			}
			d := NewDecoder(data, Options{Record: name})
			c := &comparer{t: t, ids: map[int64]any{}}
			for i, want := range desc.Items {
				got, err := d.ReadContent()
				if m, ok := want.(map[string]any); ok && m["exception"] != nil {
					var ee *ExceptionError
					if !errors.As(err, &ee) {
						t.Fatalf("item %d: want *ExceptionError, got %v", i, err)
					}
					if ee.ExceptionClass() != m["exception"] || ee.Message() != m["message"] {
						t.Errorf("item %d: exception %s %q, JVM says %v %v", i, ee.ExceptionClass(), ee.Message(), m["exception"], m["message"])
					}
					clear(c.ids) // the writer reset its handles around the exception
					continue
				}
				if err != nil {
					t.Fatalf("item %d: %v", i, err)
				}
				c.cmp(fmt.Sprintf("item[%d]", i), want, got)
			}
			if d.More() {
				t.Errorf("%d bytes left after the described items", len(data)-d.Offset())
			}
		})
	}
}

type comparer struct {
	t   *testing.T
	ids map[int64]any
}

func (c *comparer) errorf(path, format string, args ...any) {
	c.t.Helper()
	c.t.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
}

func num(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// prim compares a JVM-described primitive (number, bool, "j:", "f:", "d:")
// with a decoded one.
func (c *comparer) prim(path string, want, got any) {
	c.t.Helper()
	if s, ok := want.(string); ok {
		switch {
		case strings.HasPrefix(s, "j:"):
			w, _ := strconv.ParseInt(s[2:], 10, 64)
			if g, ok := got.(int64); !ok || g != w {
				c.errorf(path, "long %d, got %#v", w, got)
			}
		case strings.HasPrefix(s, "f:"):
			w, _ := strconv.ParseUint(s[2:], 16, 32)
			if g, ok := got.(float32); !ok || math.Float32bits(g) != uint32(w) {
				c.errorf(path, "float bits %x, got %#v", w, got)
			}
		case strings.HasPrefix(s, "d:"):
			w, _ := strconv.ParseUint(s[2:], 16, 64)
			if g, ok := got.(float64); !ok || math.Float64bits(g) != w {
				c.errorf(path, "double bits %x, got %#v", w, got)
			}
		default:
			c.errorf(path, "bad description %q", s)
		}
		return
	}
	if b, ok := want.(bool); ok {
		if g, ok := got.(bool); !ok || g != b {
			c.errorf(path, "boolean %v, got %#v", b, got)
		}
		return
	}
	w, ok := num(want)
	if !ok {
		c.errorf(path, "bad description %#v", want)
		return
	}
	var g int64
	switch x := got.(type) {
	case int8:
		g = int64(x)
	case int16:
		g = int64(x)
	case int32:
		g = int64(x)
	case uint16:
		g = int64(x)
	default:
		c.errorf(path, "number %d, got %#v", w, got)
		return
	}
	if g != w {
		c.errorf(path, "number %d, got %d", w, g)
	}
}

func (c *comparer) cmp(path string, want, got any) {
	c.t.Helper()
	if want == nil {
		if got != nil {
			c.errorf(path, "null, got %#v", got)
		}
		return
	}
	m, ok := want.(map[string]any)
	if !ok {
		c.prim(path, want, got)
		return
	}
	if id, ok := num(m["ref"]); ok {
		if prev, ok := c.ids[id]; !ok || prev != got {
			c.errorf(path, "back reference to JVM object %d, got a different value %T", id, got)
		}
		return
	}
	if id, ok := num(m["id"]); ok {
		c.ids[id] = got
	}
	switch {
	case m["s"] != nil:
		if got != m["s"] {
			c.errorf(path, "string %q, got %#v", m["s"], got)
		}
	case m["blockdata"] != nil:
		w, _ := hex.DecodeString(m["blockdata"].(string))
		g, ok := got.(BlockData)
		if !ok || !bytes.Equal(g, w) {
			c.errorf(path, "block data of %d bytes %.32x..., got %T of %d bytes", len(w), w, got, len(g))
		}
	case m["enum"] != nil:
		e, ok := got.(*Enum)
		if !ok || e.Desc.Name != m["enum"] || e.Constant != m["name"] {
			c.errorf(path, "enum %v.%v, got %#v", m["enum"], m["name"], got)
		}
	case m["class"] != nil:
		cl, ok := got.(*Class)
		if !ok || cl.Desc.Name != m["class"] {
			c.errorf(path, "class %v, got %#v", m["class"], got)
			return
		}
		if m["proxy"] != nil {
			c.proxy(path, m["proxy"], cl.Desc)
		}
	case m["classdesc"] != nil:
		cd, ok := got.(*ClassDesc)
		if !ok || cd.Name != m["classdesc"] || strconv.FormatInt(cd.SUID, 10) != m["suid"] {
			c.errorf(path, "class descriptor %v suid %v, got %#v", m["classdesc"], m["suid"], got)
			return
		}
		c.fields(path, m["fields"], cd)
	case m["array"] != nil:
		c.array(path, m, got)
	case m["object"] != nil:
		c.object(path, m, got)
	default:
		c.errorf(path, "unknown description %v", m)
	}
}

func (c *comparer) proxy(path string, want any, cd *ClassDesc) {
	c.t.Helper()
	var w []string
	for _, s := range want.([]any) {
		w = append(w, s.(string))
	}
	if !cd.Proxy || strings.Join(w, ",") != strings.Join(cd.Interfaces, ",") {
		c.errorf(path, "proxy of %v, got %+v", w, cd)
	}
}

func (c *comparer) fields(path string, want any, cd *ClassDesc) {
	c.t.Helper()
	ws := want.([]any)
	if len(ws) != len(cd.Fields) {
		c.errorf(path, "%d fields in %s, got %d", len(ws), cd.Name, len(cd.Fields))
		return
	}
	for i, w := range ws {
		f := w.(map[string]any)
		g := cd.Fields[i]
		if f["name"] != g.Name || f["type"] != string(g.Type) || f["sig"] != g.ClassName {
			c.errorf(path, "field %d of %s: %v, got %+v", i, cd.Name, f, g)
		}
	}
}

func (c *comparer) array(path string, m map[string]any, got any) {
	c.t.Helper()
	a, ok := got.(*Array)
	if !ok || a.Desc.Name != m["array"] {
		c.errorf(path, "array %v, got %#v", m["array"], got)
		return
	}
	elems := m["elems"].([]any)
	if a.Len() != len(elems) {
		c.errorf(path, "%d elements, got %d", len(elems), a.Len())
		return
	}
	for i, w := range elems {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch d := a.Data.(type) {
		case []byte:
			c.prim(p, w, int8(d[i]))
		case []uint16:
			c.prim(p, w, d[i])
		case []int16:
			c.prim(p, w, d[i])
		case []int32:
			c.prim(p, w, d[i])
		case []int64:
			c.prim(p, w, d[i])
		case []float32:
			c.prim(p, w, d[i])
		case []float64:
			c.prim(p, w, d[i])
		case []bool:
			c.prim(p, w, d[i])
		case []Value:
			c.cmp(p, w, d[i])
		}
	}
}

func (c *comparer) object(path string, m map[string]any, got any) {
	c.t.Helper()
	o, ok := got.(*Object)
	if !ok || o.ClassName() != m["object"] {
		c.errorf(path, "object %v, got %#v", m["object"], got)
		return
	}
	if m["proxy"] != nil {
		c.proxy(path, m["proxy"], o.Desc)
	}
	classes := m["classes"].([]any)
	if len(classes) != len(o.Classes) {
		c.errorf(path, "%d classes in the hierarchy, got %d", len(classes), len(o.Classes))
		return
	}
	for i, cw := range classes {
		w := cw.(map[string]any)
		cd := &o.Classes[i]
		p := fmt.Sprintf("%s.%s", path, w["name"])
		if cd.Desc.Name != w["name"] || strconv.FormatInt(cd.Desc.SUID, 10) != w["suid"] {
			c.errorf(p, "class %v suid %v, got %s suid %d", w["name"], w["suid"], cd.Desc.Name, cd.Desc.SUID)
			continue
		}
		if cd.Desc.HasWriteMethod() != w["write"] || cd.Desc.IsExternalizable() != w["ext"] {
			c.errorf(p, "write method %v externalizable %v, got flags %s", w["write"], w["ext"], flagStr(cd.Desc.Flags))
		}
		c.fields(p, w["fields"], cd.Desc)
		vals := w["values"].([]any)
		if !cd.Desc.IsExternalizable() && len(vals) != len(cd.Values) {
			c.errorf(p, "%d values, got %d", len(vals), len(cd.Values))
			continue
		}
		for j, v := range vals {
			if vm, ok := v.(map[string]any); ok && vm["unknown"] != nil {
				continue
			}
			f := cd.Desc.Fields[j]
			fp := p + "." + f.Name
			if f.Type == 'L' || f.Type == '[' {
				c.cmp(fp, v, cd.Values[j])
			} else {
				c.prim(fp, v, cd.Values[j])
			}
		}
		if ann, ok := w["annotation"].([]any); ok {
			if len(ann) != len(cd.Annotations) {
				c.errorf(p, "%d annotation items, got %d", len(ann), len(cd.Annotations))
				continue
			}
			for j, a := range ann {
				c.cmp(fmt.Sprintf("%s.annotation[%d]", p, j), a, cd.Annotations[j])
			}
		}
	}
}

// TestGolden keeps a readable Dump of every corpus stream under
// testdata/golden, so a change in the decoded tree shows up in review.
func TestGolden(t *testing.T) {
	for _, path := range corpus(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".ser")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			d := NewDecoder(data, Options{Record: name})
			if err := d.ReadHeader(); err != nil {
				t.Fatal(err)
			}
			for i := 0; d.More(); i++ {
				start := d.Offset()
				v, err := d.ReadContent()
				fmt.Fprintf(&buf, "--- item %d, offsets %d..%d\n", i, start, d.Offset())
				if err != nil {
					fmt.Fprintf(&buf, "error: %v\n", err)
					var ee *ExceptionError
					if errors.As(err, &ee) {
						if err := Dump(&buf, ee.Exception); err != nil {
							t.Fatal(err)
						}
						continue
					}
					break
				}
				if err := Dump(&buf, v); err != nil {
					t.Fatal(err)
				}
			}
			golden := filepath.Join("testdata", "golden", name+".dump")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(want, buf.Bytes()) {
				t.Errorf("Dump differs from %s (run go test -update and review the diff)", golden)
			}
		})
	}
}
