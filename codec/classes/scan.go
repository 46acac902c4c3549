package classes

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// Role says where a stream names a class. ObjectInputStream resolves every
// one of them (resolveClass, resolveProxyClass) and passes it to its
// serialization filter, so every role counts for the allow-list.
type Role string

const (
	RoleObject         Role = "object"          // class of a TC_OBJECT
	RoleSuper          Role = "super"           // super class descriptor
	RoleArray          Role = "array"           // array class of a TC_ARRAY
	RoleEnum           Role = "enum"            // class of a TC_ENUM
	RoleClass          Role = "class-object"    // a TC_CLASS (java.lang.Class value)
	RoleDescriptor     Role = "descriptor"      // a class descriptor written as a value
	RoleProxyInterface Role = "proxy-interface" // interface of a TC_PROXYCLASSDESC
	RoleRaw            Role = "raw"             // found by the byte scan of an undecodable stream
)

// ClassUse is one class a stream names.
type ClassUse struct {
	// Name is the binary name as written ("[Ljava.lang.String;" for arrays).
	Name string
	// Desc is the first descriptor that names it (nil for proxy interfaces
	// and raw-scan names).
	Desc  *javaser.ClassDesc
	Roles []Role
}

// Base is the class a JEP-290 filter checks: the element type of an array
// ("" for arrays of primitives).
func (u ClassUse) Base() string { return baseClass(u.Name) }

func baseClass(name string) string {
	if !strings.HasPrefix(name, "[") {
		return name
	}
	b := strings.TrimLeft(name, "[")
	if strings.HasPrefix(b, "L") && strings.HasSuffix(b, ";") {
		return b[1 : len(b)-1]
	}
	return ""
}

// Stream is what a walk over every top-level content found.
type Stream struct {
	// Contents are the top-level items in order (objects and BlockData).
	Contents []javaser.Value
	// End is the offset where decoding stopped: len(data) when the whole
	// stream parsed.
	End int
	// Err is the decoding error that stopped the walk, if any.
	Err error
	// Padding counts zero bytes after the last content. Spark's RocksDB
	// engine stores a serializer buffer's whole backing array, so its
	// records end in zeros; a JVM reading one object never looks at them.
	Padding int
	// Classes lists every class named, in first-seen order.
	Classes []ClassUse
	// Proxies are the proxy class descriptors (their interfaces are also in
	// Classes with RoleProxyInterface).
	Proxies []*javaser.ClassDesc
	// Depth is the deepest object nesting seen; Refs the number of values
	// that took a handle; MaxArray the longest array.
	Depth, Refs, MaxArray int
}

// maxWalk bounds the objects one walk visits; the decoder's own limits
// bound the tree, this bounds the audit's bookkeeping on top of it.
const maxWalk = 1 << 20

// Scan decodes data (a Java serialization stream, envelope already removed)
// content by content until the end or the first error, and collects every
// class it names. Unlike codec.Decode it does not stop after the first
// object: extra contents and what they name are part of the result.
func Scan(data []byte, opts javaser.Options) *Stream {
	s := &Stream{}
	d := javaser.NewDecoder(data, opts)
	w := newWalker(s)
	if err := d.ReadHeader(); err != nil {
		s.Err = err
		s.End = d.Offset()
		w.raw(data)
		return s
	}
	for {
		before := d.Offset()
		v, err := d.ReadContent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && len(s.Contents) > 0 && allZero(data[before:]) {
			s.Padding = len(data) - before
			s.End = before
			return s
		}
		if err != nil {
			s.Err = err
			var ee *javaser.ExceptionError
			if errors.As(err, &ee) {
				w.walk(ee.Exception)
			}
			break
		}
		s.Contents = append(s.Contents, v)
		w.walk(v)
	}
	s.End = d.Offset()
	if s.Err != nil {
		// The walk has the contents read before the error; the failed one
		// and what follows may still name classes a JVM would resolve
		// before failing, so scan the bytes for descriptors too.
		w.raw(data)
	}
	return s
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return len(b) > 0
}

type walker struct {
	s     *Stream
	index map[string]int
	seen  map[any]bool
	n     int
}

func newWalker(s *Stream) *walker {
	return &walker{s: s, index: map[string]int{}, seen: map[any]bool{}}
}

func (w *walker) add(name string, desc *javaser.ClassDesc, r Role) {
	i, ok := w.index[name]
	if !ok {
		i = len(w.s.Classes)
		w.index[name] = i
		w.s.Classes = append(w.s.Classes, ClassUse{Name: name, Desc: desc})
	}
	u := &w.s.Classes[i]
	if !slices.Contains(u.Roles, r) {
		u.Roles = append(u.Roles, r)
	}
}

// desc records a descriptor chain: the class in role r, its supers, and
// what their class annotations hold.
func (w *walker) desc(cd *javaser.ClassDesc, r Role, depth int) {
	for c := cd; c != nil; c = c.Super {
		if w.seen[c] {
			if c != cd {
				return
			}
			// Seen before in another role: record the role only.
			w.role(c, r)
			return
		}
		w.seen[c] = true
		w.s.Refs++
		w.role(c, r)
		for _, a := range c.Annotations {
			w.value(a, depth+1)
		}
		r = RoleSuper
	}
}

func (w *walker) role(c *javaser.ClassDesc, r Role) {
	if c.Proxy {
		if !slices.Contains(w.s.Proxies, c) {
			w.s.Proxies = append(w.s.Proxies, c)
		}
		for _, in := range c.Interfaces {
			w.add(in, nil, RoleProxyInterface)
		}
		return
	}
	w.add(c.Name, c, r)
}

func (w *walker) walk(v javaser.Value) { w.value(v, 1) }

// value walks one value with an explicit stack: hostile nesting must not
// grow the Go stack, and shared or cyclic structures are visited once.
func (w *walker) value(v javaser.Value, depth int) {
	type item struct {
		v     javaser.Value
		depth int
	}
	stack := []item{{v, depth}}
	for len(stack) > 0 && w.n < maxWalk {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		w.n++
		var kids []javaser.Value
		switch x := it.v.(type) {
		case *javaser.Object:
			if x == nil || w.seen[x] {
				continue
			}
			w.seen[x] = true
			w.s.Refs++
			w.s.Depth = max(w.s.Depth, it.depth)
			w.desc(x.Desc, RoleObject, it.depth)
			for _, cd := range x.Classes {
				kids = append(kids, cd.Values...)
				kids = append(kids, cd.Annotations...)
			}
		case *javaser.Array:
			if x == nil || w.seen[x] {
				continue
			}
			w.seen[x] = true
			w.s.Refs++
			w.s.Depth = max(w.s.Depth, it.depth)
			w.s.MaxArray = max(w.s.MaxArray, x.Len())
			w.desc(x.Desc, RoleArray, it.depth)
			if vs, ok := x.Data.([]javaser.Value); ok {
				kids = vs
			}
		case *javaser.Enum:
			if x == nil || w.seen[x] {
				continue
			}
			w.seen[x] = true
			w.s.Refs += 2 // the enum and its constant name
			w.desc(x.Desc, RoleEnum, it.depth)
		case *javaser.Class:
			if x == nil || w.seen[x] {
				continue
			}
			w.seen[x] = true
			w.s.Refs++
			w.desc(x.Desc, RoleClass, it.depth)
		case *javaser.ClassDesc:
			w.desc(x, RoleDescriptor, it.depth)
		case string:
			w.s.Refs++
		}
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, item{kids[i], it.depth + 1})
		}
	}
}

// raw scans bytes the decoder could not reach for what looks like a class
// descriptor (TC_CLASSDESC, a plausible binary class name, an SUID and
// valid flags) or a proxy descriptor's interface list. It is a heuristic
// for hostile or damaged streams only: a gadget whose stream is broken
// after its class descriptors still runs in a JVM before the error.
func (w *walker) raw(b []byte) {
	for i := 0; i+3 < len(b); i++ {
		switch b[i] {
		case 0x72: // TC_CLASSDESC
			n := int(b[i+1])<<8 | int(b[i+2])
			end := i + 3 + n
			if n == 0 || end+9 > len(b) {
				continue
			}
			name := string(b[i+3 : end])
			flags := b[end+8]
			if !plausibleClassName(name) || flags&^0x1f != 0 || flags&0x06 == 0x06 {
				continue
			}
			w.add(name, nil, RoleRaw)
		case 0x7d: // TC_PROXYCLASSDESC
			if i+5 > len(b) {
				continue
			}
			cnt := int(b[i+1])<<24 | int(b[i+2])<<16 | int(b[i+3])<<8 | int(b[i+4])
			if cnt <= 0 || cnt > 64 {
				continue
			}
			p := i + 5
			var names []string
			for k := 0; k < cnt && p+2 <= len(b); k++ {
				n := int(b[p])<<8 | int(b[p+1])
				if p+2+n > len(b) {
					break
				}
				names = append(names, string(b[p+2:p+2+n]))
				p += 2 + n
			}
			if len(names) != cnt || !all(names, plausibleClassName) {
				continue
			}
			for _, n := range names {
				w.add(n, nil, RoleRaw)
			}
		}
	}
}

func all(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

// plausibleClassName accepts binary names (a.b.C$D, arrays "[La.B;", "[I")
// of ASCII identifier characters with at least one package separator or an
// array prefix.
func plausibleClassName(s string) bool {
	if len(s) < 3 || len(s) > 512 {
		return false
	}
	if s[0] == '[' {
		b := baseClass(s)
		if b == "" {
			t := strings.TrimLeft(s, "[")
			return len(t) == 1 && strings.ContainsRune("BCDFIJSZ", rune(t[0]))
		}
		return plausibleClassName(b)
	}
	if !strings.Contains(s, ".") || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '$', c == '_':
		default:
			return false
		}
	}
	return true
}
