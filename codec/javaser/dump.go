package javaser

import (
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Dump limits: a dump is for people, so long strings and arrays are cut,
// saying how much was left out.
const (
	dumpMaxString = 512
	dumpMaxElems  = 64
	dumpMaxBytes  = 256
)

// Dump writes v as an indented tree: class names, serialVersionUIDs, flags,
// field names with types and values, annotations, and handle numbers. An
// object, array or descriptor met a second time (shared or cyclic) is printed
// as a back reference to its handle.
func Dump(w io.Writer, v Value) error {
	dp := &dumper{w: w, seen: make(map[any]bool)}
	dp.value(v, 0)
	if dp.err == nil {
		dp.printf("\n")
	}
	return dp.err
}

type dumper struct {
	w    io.Writer
	seen map[any]bool
	err  error
}

func (dp *dumper) printf(format string, args ...any) {
	if dp.err == nil {
		_, dp.err = fmt.Fprintf(dp.w, format, args...)
	}
}

func (dp *dumper) nl(depth int) {
	dp.printf("\n%s", strings.Repeat("  ", depth))
}

func handleStr(h int32) string { return "@" + strconv.FormatInt(int64(h), 16) }

func flagStr(f byte) string {
	var parts []string
	for _, n := range []struct {
		bit  byte
		name string
	}{{SCWriteMethod, "WRITE_METHOD"}, {SCSerializable, "SERIALIZABLE"}, {SCExternalizable, "EXTERNALIZABLE"}, {SCBlockData, "BLOCK_DATA"}, {SCEnum, "ENUM"}} {
		if f&n.bit != 0 {
			parts = append(parts, n.name)
		}
	}
	if rest := f &^ 0x1F; rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%02x", rest))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

func descName(c *ClassDesc) string {
	if c == nil {
		return "null"
	}
	if c.Proxy {
		return "proxy(" + strings.Join(c.Interfaces, ", ") + ")"
	}
	return c.Name
}

func quote(s string) string {
	if len(s) > dumpMaxString {
		cut := dumpMaxString
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

func (dp *dumper) value(v Value, depth int) {
	switch x := v.(type) {
	case nil:
		dp.printf("null")
	case string:
		dp.printf("%s", quote(x))
	case bool:
		dp.printf("%t", x)
	case int8, int16, int32, int64:
		dp.printf("%d", x)
	case uint16:
		dp.printf("%s", charStr(x))
	case float32:
		dp.printf("%s", strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		dp.printf("%s", strconv.FormatFloat(x, 'g', -1, 64))
	case BlockData:
		dp.blockData(x, depth)
	case *Enum:
		dp.printf("enum %s.%s %s", descName(x.Desc), x.Constant, handleStr(x.Handle))
	case *Class:
		dp.printf("class %s %s", descName(x.Desc), handleStr(x.Handle))
	case *ClassDesc:
		dp.classDesc(x, depth)
	case *Array:
		dp.array(x, depth)
	case *Object:
		dp.object(x, depth)
	default:
		dp.printf("?%T", x)
	}
}

func charStr(c uint16) string {
	if c >= 0xD800 && c < 0xE000 {
		return fmt.Sprintf("'\\u%04x'", c)
	}
	return strconv.QuoteRune(rune(c))
}

func (dp *dumper) blockData(b []byte, depth int) {
	dp.printf("blockdata [%d bytes]", len(b))
	shown := b
	if len(shown) > dumpMaxBytes {
		shown = shown[:dumpMaxBytes]
	}
	for i := 0; i < len(shown); i += 32 {
		dp.nl(depth + 1)
		dp.printf("%s", hex.EncodeToString(shown[i:min(i+32, len(shown))]))
	}
	if len(shown) < len(b) {
		dp.nl(depth + 1)
		dp.printf("... (%d more)", len(b)-len(shown))
	}
}

func (dp *dumper) classDesc(c *ClassDesc, depth int) {
	if c == nil {
		dp.printf("null")
		return
	}
	if dp.seen[c] {
		dp.printf("classdesc %s %s (see above)", descName(c), handleStr(c.Handle))
		return
	}
	dp.seen[c] = true
	dp.printf("classdesc %s %s suid=%d flags=%s", descName(c), handleStr(c.Handle), c.SUID, flagStr(c.Flags))
	for _, f := range c.Fields {
		dp.nl(depth + 1)
		dp.printf("field %s %s", f.TypeName(), f.Name)
	}
	dp.annotations("class annotation", c.Annotations, depth+1)
	if c.Super != nil {
		dp.nl(depth + 1)
		dp.printf("super ")
		dp.classDesc(c.Super, depth+1)
	}
}

func (dp *dumper) annotations(label string, items []Value, depth int) {
	if len(items) == 0 {
		return
	}
	dp.nl(depth)
	dp.printf("%s:", label)
	for _, it := range items {
		dp.nl(depth + 1)
		dp.value(it, depth+1)
	}
}

func (dp *dumper) array(a *Array, depth int) {
	if dp.seen[a] {
		dp.printf("%s %s (see above)", signatureName(descName(a.Desc)), handleStr(a.Handle))
		return
	}
	dp.seen[a] = true
	dp.printf("%s %s len=%d", signatureName(descName(a.Desc)), handleStr(a.Handle), a.Len())
	if b, ok := a.Data.([]byte); ok {
		dp.printf(" ")
		dp.blockData(b, depth)
		return
	}
	if vs, ok := a.Data.([]Value); ok {
		for i, v := range vs {
			if i == dumpMaxElems {
				dp.nl(depth + 1)
				dp.printf("... (%d more)", len(vs)-i)
				break
			}
			dp.nl(depth + 1)
			dp.printf("[%d] ", i)
			dp.value(v, depth+1)
		}
		return
	}
	var parts []string
	n := a.Len()
	for i := 0; i < n && i < dumpMaxElems; i++ {
		parts = append(parts, primString(a.Data, i))
	}
	if n > dumpMaxElems {
		parts = append(parts, fmt.Sprintf("... (%d more)", n-dumpMaxElems))
	}
	dp.printf(" [%s]", strings.Join(parts, ", "))
}

func primString(data any, i int) string {
	switch d := data.(type) {
	case []uint16:
		return charStr(d[i])
	case []int16:
		return strconv.Itoa(int(d[i]))
	case []int32:
		return strconv.Itoa(int(d[i]))
	case []int64:
		return strconv.FormatInt(d[i], 10)
	case []float32:
		return strconv.FormatFloat(float64(d[i]), 'g', -1, 32)
	case []float64:
		if math.IsNaN(d[i]) {
			return "NaN"
		}
		return strconv.FormatFloat(d[i], 'g', -1, 64)
	case []bool:
		return strconv.FormatBool(d[i])
	}
	return "?"
}

func (dp *dumper) object(o *Object, depth int) {
	if dp.seen[o] {
		dp.printf("%s %s (see above)", descName(o.Desc), handleStr(o.Handle))
		return
	}
	dp.seen[o] = true
	dp.printf("%s %s {", descName(o.Desc), handleStr(o.Handle))
	for i := range o.Classes {
		cd := &o.Classes[i]
		dp.nl(depth + 1)
		dp.printf("%s suid=%d flags=%s", descName(cd.Desc), cd.Desc.SUID, flagStr(cd.Desc.Flags))
		for j, f := range cd.Desc.Fields {
			if j >= len(cd.Values) {
				break
			}
			dp.nl(depth + 2)
			dp.printf("%s %s = ", f.TypeName(), f.Name)
			dp.value(cd.Values[j], depth+2)
		}
		label := "annotation"
		if cd.Desc.IsExternalizable() {
			label = "external data"
		}
		dp.annotations(label, cd.Annotations, depth+2)
	}
	dp.nl(depth)
	dp.printf("}")
}

// Walk calls fn for v and, depth first, for every value reachable from it:
// field values, annotation items, array elements. Each object, array and
// class descriptor is visited once, so cycles end. Class descriptors are
// visited only when they appear as values, not for every object. If fn
// returns false, Walk does not descend into that value.
func Walk(v Value, fn func(Value) bool) {
	seen := make(map[any]bool)
	stack := []Value{v}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch x := v.(type) {
		case *Object, *Array, *ClassDesc:
			if seen[x] {
				continue
			}
			seen[x] = true
		}
		if !fn(v) {
			continue
		}
		var kids []Value
		switch x := v.(type) {
		case *Object:
			for _, cd := range x.Classes {
				kids = append(kids, cd.Values...)
				kids = append(kids, cd.Annotations...)
			}
		case *Array:
			if vs, ok := x.Data.([]Value); ok {
				kids = vs
			}
		case *ClassDesc:
			kids = append(kids, x.Annotations...)
			if x.Super != nil {
				kids = append(kids, x.Super)
			}
		}
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
}
