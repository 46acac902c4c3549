package javaser

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	streamMagic   = 0xACED
	streamVersion = 5

	tcNull           = 0x70
	tcReference      = 0x71
	tcClassDesc      = 0x72
	tcObject         = 0x73
	tcString         = 0x74
	tcArray          = 0x75
	tcClass          = 0x76
	tcBlockData      = 0x77
	tcEndBlockData   = 0x78
	tcReset          = 0x79
	tcBlockDataLong  = 0x7A
	tcException      = 0x7B
	tcLongString     = 0x7C
	tcProxyClassDesc = 0x7D
	tcEnum           = 0x7E
)

var tcNames = [...]string{
	"TC_NULL", "TC_REFERENCE", "TC_CLASSDESC", "TC_OBJECT", "TC_STRING", "TC_ARRAY", "TC_CLASS",
	"TC_BLOCKDATA", "TC_ENDBLOCKDATA", "TC_RESET", "TC_BLOCKDATALONG", "TC_EXCEPTION",
	"TC_LONGSTRING", "TC_PROXYCLASSDESC", "TC_ENUM",
}

func tcName(b byte) string {
	if b >= tcNull && b <= tcEnum {
		return tcNames[b-tcNull]
	}
	return fmt.Sprintf("0x%02x", b)
}

const maxDepthCap = 10000

// Options bound the work and memory a decode may use. Zero fields take the
// defaults shown.
type Options struct {
	// Record names the record in errors (e.g. "app_app-2026...").
	Record string
	// MaxDepth bounds nesting of objects and class descriptor chains (512;
	// at most 10000, which keeps the decoder's recursion well inside Go's
	// stack limit).
	MaxDepth int
	// MaxHandles bounds the handle table (1<<20).
	MaxHandles int
	// MaxStringLen bounds one string, in bytes of modified UTF-8 (16 MiB).
	MaxStringLen int
	// MaxArrayLen bounds the element count of one array (16 Mi).
	MaxArrayLen int
	// MaxAlloc is the budget, in bytes, of what a decode may allocate (64 MiB),
	// including one copy of the input that ASCII strings share. Accounting is
	// approximate but never below the real figure by more than a constant per
	// item.
	MaxAlloc int64
}

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = 512
	}
	o.MaxDepth = min(o.MaxDepth, maxDepthCap)
	if o.MaxHandles <= 0 {
		o.MaxHandles = 1 << 20
	}
	if o.MaxStringLen <= 0 {
		o.MaxStringLen = 16 << 20
	}
	if o.MaxArrayLen <= 0 {
		o.MaxArrayLen = 16 << 20
	}
	if o.MaxAlloc <= 0 {
		o.MaxAlloc = 64 << 20
	}
	return o
}

// Decoder reads a serialization stream held in a byte slice, keeping its
// offset. Use ReadHeader once, then ReadObject or ReadContent for each
// top-level item. After an error other than *ExceptionError the Decoder
// returns the same error forever.
type Decoder struct {
	data    []byte
	str     string // copy of data, made once, so ASCII strings are substrings
	off     int
	opts    Options
	handles []handle
	arena   arena
	scratch []Value // stack of annotation items being read
	depth   int
	used    int64
	header  bool
	err     error
}

// NewDecoder returns a Decoder over data.
func NewDecoder(data []byte, opts Options) *Decoder {
	return &Decoder{data: data, opts: opts.withDefaults()}
}

// Reset points d at a new stream (with opts) and reuses the memory of what it decoded
// before: every Value d returned so far becomes invalid. It serves callers
// that are done with each tree before they decode the next (a listing
// encodes each record as it goes), sparing the allocation of a new tree.
func (d *Decoder) Reset(data []byte, opts Options) {
	d.arena.reset()
	clear(d.handles)
	clear(d.scratch)
	*d = Decoder{data: data, opts: opts.withDefaults(), handles: d.handles[:0], arena: d.arena, scratch: d.scratch[:0]}
}

// Decode reads the stream header and one top-level object, the shape of a
// Spark recovery record. end is the offset just past that object; end <
// len(data) means trailing bytes the caller may want to flag.
func Decode(data []byte, opts Options) (v Value, end int, err error) {
	return NewDecoder(data, opts).DecodeRecord()
}

// DecodeRecord is Decode on the stream d was made or Reset for.
func (d *Decoder) DecodeRecord() (v Value, end int, err error) {
	if err := d.ReadHeader(); err != nil {
		return nil, d.off, err
	}
	v, err = d.ReadObject()
	if err == io.EOF {
		err = d.errf(d.off, "object", "end of input", ErrTruncated)
	}
	return v, d.off, err
}

// Offset is the number of bytes consumed so far.
func (d *Decoder) Offset() int { return d.off }

// ClassDescs yields the class descriptors read since the last TC_RESET, in
// stream order: what a stream declares about its classes, without walking
// the objects that use them.
func (d *Decoder) ClassDescs(yield func(*ClassDesc) bool) {
	for i := range d.handles {
		if cd, ok := d.handles[i].v.(*ClassDesc); ok && !yield(cd) {
			return
		}
	}
}

// More reports whether input remains after the current offset.
func (d *Decoder) More() bool { return d.err == nil && d.off < len(d.data) }

// ReadHeader reads the stream magic and version (AC ED 00 05).
func (d *Decoder) ReadHeader() error {
	if d.err != nil {
		return d.err
	}
	if d.header {
		return nil
	}
	if len(d.data) < 4 {
		return d.fail(d.errf(0, "stream header 0xaced0005", fmt.Sprintf("%d bytes", len(d.data)), ErrTruncated))
	}
	m := binary.BigEndian.Uint16(d.data)
	v := binary.BigEndian.Uint16(d.data[2:])
	if m != streamMagic || v != streamVersion {
		return d.fail(d.errf(0, "stream header 0xaced0005", fmt.Sprintf("0x%04x%04x", m, v), nil))
	}
	d.off = 4
	d.header = true
	return nil
}

// ReadObject reads the next top-level object, skipping TC_RESET markers.
// Top-level block data is an error here; use ReadContent to accept it.
// At the end of the input (after any resets) it returns io.EOF.
func (d *Decoder) ReadObject() (Value, error) {
	return d.readTop(false)
}

// ReadContent reads the next top-level content: an object or BlockData.
// It is meant for auditors walking every item of a stream; like ReadObject
// it returns io.EOF at the end of the input.
func (d *Decoder) ReadContent() (Value, error) {
	return d.readTop(true)
}

func (d *Decoder) readTop(blockOK bool) (Value, error) {
	if d.err != nil {
		return nil, d.err
	}
	if !d.header {
		if err := d.ReadHeader(); err != nil {
			return nil, err
		}
	}
	for d.off < len(d.data) && d.data[d.off] == tcReset {
		d.off++
		d.resetHandles()
	}
	if d.off == len(d.data) {
		return nil, io.EOF
	}
	if d.off < len(d.data) && (d.data[d.off] == tcBlockData || d.data[d.off] == tcBlockDataLong) {
		if !blockOK {
			return nil, d.fail(d.errf(d.off, "object", tcName(d.data[d.off]), nil))
		}
		var bd BlockData
		for d.off < len(d.data) && (d.data[d.off] == tcBlockData || d.data[d.off] == tcBlockDataLong) {
			var err error
			if bd, err = d.readBlock(bd); err != nil {
				return nil, d.fail(err)
			}
		}
		return bd, nil
	}
	v, err := d.readObject()
	if err != nil {
		if _, ok := err.(*ExceptionError); ok {
			return nil, err
		}
		return nil, d.fail(err)
	}
	return v, nil
}

func (d *Decoder) resetHandles() {
	clear(d.handles) // let the old tree go
	d.handles = d.handles[:0]
}

func (d *Decoder) fail(err error) error {
	d.err = err
	return err
}

func (d *Decoder) errf(off int, want, got string, err error) *FormatError {
	return &FormatError{Record: d.opts.Record, Offset: int64(off), Want: want, Got: got, Err: err}
}

func (d *Decoder) truncated(what string, n int) error {
	return d.errf(d.off, what, fmt.Sprintf("%d of %d bytes", len(d.data)-d.off, n), ErrTruncated)
}

func (d *Decoder) remaining() int { return len(d.data) - d.off }

// charge accounts n bytes against the allocation budget before they are
// allocated.
func (d *Decoder) charge(n int64, what string, at int) error {
	if n < 0 || d.used+n > d.opts.MaxAlloc {
		return d.errf(at, "", fmt.Sprintf("%s needs %d bytes beyond the %d byte budget", what, n, d.opts.MaxAlloc-d.used), ErrLimit)
	}
	d.used += n
	return nil
}

func (d *Decoder) u8(what string) (byte, error) {
	if d.off >= len(d.data) {
		return 0, d.truncated(what, 1)
	}
	b := d.data[d.off]
	d.off++
	return b, nil
}

func (d *Decoder) u16(what string) (uint16, error) {
	if d.remaining() < 2 {
		return 0, d.truncated(what, 2)
	}
	v := binary.BigEndian.Uint16(d.data[d.off:])
	d.off += 2
	return v, nil
}

func (d *Decoder) u32(what string) (uint32, error) {
	if d.remaining() < 4 {
		return 0, d.truncated(what, 4)
	}
	v := binary.BigEndian.Uint32(d.data[d.off:])
	d.off += 4
	return v, nil
}

func (d *Decoder) u64(what string) (uint64, error) {
	if d.remaining() < 8 {
		return 0, d.truncated(what, 8)
	}
	v := binary.BigEndian.Uint64(d.data[d.off:])
	d.off += 8
	return v, nil
}

// handle is one entry of the handle table. Strings are kept unboxed until
// they are used as a Value: a field's type signature never needs boxing, and
// boxing costs an allocation per string.
type handle struct {
	v     Value
	s     string
	isStr bool
}

func (d *Decoder) assign(v Value, at int) (int32, error) {
	return d.assignHandle(handle{v: v}, at)
}

func (d *Decoder) assignHandle(h handle, at int) (int32, error) {
	if len(d.handles) >= d.opts.MaxHandles {
		return 0, d.errf(at, "", fmt.Sprintf("more than %d handles", d.opts.MaxHandles), ErrLimit)
	}
	if d.handles == nil {
		// Roughly one handle per 24 bytes of a typical record; saves regrowth.
		d.handles = make([]handle, 0, min(len(d.data)/24+8, 4096))
	}
	d.handles = append(d.handles, h)
	return int32(BaseHandle + len(d.handles) - 1), nil
}

func (d *Decoder) enter(at int) error {
	if d.depth >= d.opts.MaxDepth {
		return d.errf(at, "", fmt.Sprintf("nesting deeper than %d", d.opts.MaxDepth), ErrLimit)
	}
	d.depth++
	return nil
}

// readHandle reads the 4-byte handle after TC_REFERENCE at start.
func (d *Decoder) readHandle(start int) (Value, error) {
	e, err := d.readHandleEntry(start)
	if err != nil {
		return nil, err
	}
	if e.isStr && e.v == nil {
		e.v = Value(e.s)
	}
	return e.v, nil
}

func (d *Decoder) readHandleEntry(start int) (*handle, error) {
	h, err := d.u32("handle")
	if err != nil {
		return nil, err
	}
	idx := int64(int32(h)) - BaseHandle
	if idx < 0 || idx >= int64(len(d.handles)) {
		return nil, d.errf(start+1, fmt.Sprintf("handle in [0x%x, 0x%x)", BaseHandle, BaseHandle+len(d.handles)), fmt.Sprintf("0x%x", h), nil)
	}
	return &d.handles[idx], nil
}

// readObject reads one object: the grammar's "object" production.
func (d *Decoder) readObject() (Value, error) {
	start := d.off
	if err := d.enter(start); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	tc, err := d.u8("type code")
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		return d.readHandle(start)
	case tcClassDesc, tcProxyClassDesc:
		cd, err := d.readNewClassDesc(tc, start)
		if err != nil {
			return nil, err
		}
		return cd, nil
	case tcObject:
		return d.readNewObject(start)
	case tcString, tcLongString:
		s, err := d.readNewString(tc, start)
		if err != nil {
			return nil, err
		}
		v := Value(s)
		d.handles[len(d.handles)-1].v = v
		return v, nil
	case tcArray:
		return d.readNewArray(start)
	case tcClass:
		return d.readNewClass(start)
	case tcEnum:
		return d.readNewEnum(start)
	case tcException:
		return nil, d.readException(start)
	case tcReset:
		// The writer only resets between top-level objects (reset() throws
		// inside writeObject), as ObjectInputStream enforces.
		return nil, d.errf(start, "object", "TC_RESET inside an object", nil)
	}
	return nil, d.errf(start, "object", tcName(tc), nil)
}

func (d *Decoder) readException(start int) error {
	d.resetHandles()
	v, err := d.readObject()
	if err != nil {
		return err
	}
	d.resetHandles()
	return &ExceptionError{Record: d.opts.Record, Offset: int64(start), Exception: v}
}

// readClassDesc reads the grammar's "classDesc": a new descriptor, a
// reference to one, or null.
func (d *Decoder) readClassDesc() (*ClassDesc, error) {
	start := d.off
	tc, err := d.u8("class descriptor")
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		v, err := d.readHandle(start)
		if err != nil {
			return nil, err
		}
		cd, ok := v.(*ClassDesc)
		if !ok {
			return nil, d.errf(start, "reference to a class descriptor", fmt.Sprintf("reference to %s", kindOf(v)), nil)
		}
		return cd, nil
	case tcClassDesc, tcProxyClassDesc:
		if err := d.enter(start); err != nil {
			return nil, err
		}
		defer func() { d.depth-- }()
		return d.readNewClassDesc(tc, start)
	case tcException:
		return nil, d.readException(start)
	}
	return nil, d.errf(start, "TC_CLASSDESC", tcName(tc), nil)
}

func kindOf(v Value) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case *Object:
		return "object"
	case *Array:
		return "array"
	case *Enum:
		return "enum"
	case *Class:
		return "class"
	case *ClassDesc:
		return "class descriptor"
	}
	return fmt.Sprintf("%T", v)
}

func (d *Decoder) readNewClassDesc(tc byte, start int) (*ClassDesc, error) {
	if err := d.charge(96, "class descriptor", start); err != nil {
		return nil, err
	}
	cd := &take(&d.arena.descs, 1, d.arena.size(len(d.data)))[0]
	h, err := d.assign(cd, start)
	if err != nil {
		return nil, err
	}
	cd.Handle = h
	if tc == tcProxyClassDesc {
		cd.Proxy = true
		cd.Flags = SCSerializable
		n, err := d.u32("interface count")
		if err != nil {
			return nil, err
		}
		// Each name takes at least its 2-byte length.
		if int32(n) < 0 || int(n) > d.remaining()/2 {
			return nil, d.errf(d.off-4, "interface count within the input", fmt.Sprint(int32(n)), ErrTruncated)
		}
		if err := d.charge(int64(n)*16, "interface list", start); err != nil {
			return nil, err
		}
		cd.Interfaces = make([]string, n)
		for i := range cd.Interfaces {
			if cd.Interfaces[i], err = d.readUTF("interface name"); err != nil {
				return nil, err
			}
		}
	} else {
		if cd.Name, err = d.readUTF("class name"); err != nil {
			return nil, err
		}
		suid, err := d.u64("serialVersionUID")
		if err != nil {
			return nil, err
		}
		cd.SUID = int64(suid)
		if cd.Flags, err = d.u8("class flags"); err != nil {
			return nil, err
		}
		if cd.Flags&SCSerializable != 0 && cd.Flags&SCExternalizable != 0 {
			return nil, d.errf(d.off-1, "either SC_SERIALIZABLE or SC_EXTERNALIZABLE", fmt.Sprintf("flags 0x%02x", cd.Flags), nil)
		}
		n, err := d.u16("field count")
		if err != nil {
			return nil, err
		}
		if int16(n) < 0 {
			return nil, d.errf(d.off-2, "field count", fmt.Sprint(int16(n)), nil)
		}
		// A field takes at least a type code and a 2-byte name length.
		if int(n) > d.remaining()/3 {
			return nil, d.errf(d.off-2, "field count within the input", fmt.Sprint(n), ErrTruncated)
		}
		if n > 0 {
			if err := d.charge(int64(n)*48, "field list", start); err != nil {
				return nil, err
			}
			cd.Fields = take(&d.arena.fields, int(n), 4*d.arena.size(len(d.data)))
		}
		for i := range cd.Fields {
			f := &cd.Fields[i]
			at := d.off
			if f.Type, err = d.u8("field type code"); err != nil {
				return nil, err
			}
			if f.Name, err = d.readUTF("field name"); err != nil {
				return nil, err
			}
			switch f.Type {
			case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
			case 'L', '[':
				if f.ClassName, err = d.readTypeString(); err != nil {
					return nil, err
				}
			default:
				return nil, d.errf(at, "field type code", fmt.Sprintf("0x%02x", f.Type), nil)
			}
		}
	}
	if cd.Annotations, err = d.readAnnotation(); err != nil {
		return nil, err
	}
	superAt := d.off
	if cd.Super, err = d.readClassDesc(); err != nil {
		return nil, err
	}
	// A hostile stream can name a descriptor still being read as a super
	// class; refuse the cycle instead of looping over it later.
	n := 0
	for s := cd.Super; s != nil; s = s.Super {
		if s == cd || n > d.opts.MaxDepth {
			return nil, d.errf(superAt, "acyclic super class chain", "a cycle through "+cd.Name, nil)
		}
		n++
	}
	cd.finish(&d.arena, len(d.data))
	return cd, nil
}

// finish computes the data layout once the descriptor is fully read.
func (cd *ClassDesc) finish(a *arena, inputLen int) {
	depth := 1
	for s := cd.Super; s != nil; s = s.Super {
		depth++
	}
	cd.layout = take(&a.layouts, depth, 2*a.size(inputLen))
	i := depth - 1
	for s := cd; s != nil; s = s.Super {
		cd.layout[i] = s
		cd.nfields += len(s.Fields)
		i--
	}
	cd.complete = true
}

// readTypeString reads a field's class name: a string object or a reference
// to one.
func (d *Decoder) readTypeString() (string, error) {
	start := d.off
	tc, err := d.u8("field class name")
	if err != nil {
		return "", err
	}
	switch tc {
	case tcNull:
		return "", nil
	case tcString, tcLongString:
		return d.readNewString(tc, start)
	case tcReference:
		e, err := d.readHandleEntry(start)
		if err != nil {
			return "", err
		}
		if e.isStr {
			return e.s, nil
		}
		return "", d.errf(start, "reference to a string", "reference to "+kindOf(e.v), nil)
	}
	return "", d.errf(start, "TC_STRING", tcName(tc), nil)
}

// emptyAnnotation tells an empty annotation (the class has a writeObject
// that wrote nothing extra) from none at all.
var emptyAnnotation = []Value{}

// readAnnotation reads contents up to and including TC_ENDBLOCKDATA. Items
// are collected on a stack shared by nested annotations and copied out once.
func (d *Decoder) readAnnotation() ([]Value, error) {
	base := len(d.scratch)
	defer func() {
		clear(d.scratch[base:])
		d.scratch = d.scratch[:base]
	}()
	for {
		if d.off >= len(d.data) {
			return nil, d.truncated("TC_ENDBLOCKDATA", 1)
		}
		switch d.data[d.off] {
		case tcEndBlockData:
			d.off++
			n := len(d.scratch) - base
			if n == 0 {
				return emptyAnnotation, nil
			}
			out := take(&d.arena.values, n, 4*d.arena.size(len(d.data)))
			copy(out, d.scratch[base:])
			return out, nil
		case tcBlockData, tcBlockDataLong:
			var prev BlockData
			merge := false
			if len(d.scratch) > base {
				prev, merge = d.scratch[len(d.scratch)-1].(BlockData)
			}
			bd, err := d.readBlock(prev)
			if err != nil {
				return nil, err
			}
			if merge {
				d.scratch[len(d.scratch)-1] = bd
			} else {
				d.scratch = append(d.scratch, bd)
			}
		default:
			v, err := d.readObject()
			if err != nil {
				return nil, err
			}
			d.scratch = append(d.scratch, v)
		}
	}
}

// readBlock reads one block data chunk and appends it to prev.
func (d *Decoder) readBlock(prev BlockData) (BlockData, error) {
	tc := d.data[d.off]
	d.off++
	var n int
	if tc == tcBlockData {
		b, err := d.u8("block length")
		if err != nil {
			return nil, err
		}
		n = int(b)
	} else {
		v, err := d.u32("block length")
		if err != nil {
			return nil, err
		}
		if int32(v) < 0 {
			return nil, d.errf(d.off-4, "block length", fmt.Sprint(int32(v)), nil)
		}
		n = int(v)
	}
	if n > d.remaining() {
		return nil, d.truncated("block data", n)
	}
	chunk := d.data[d.off : d.off+n : d.off+n]
	d.off += n
	if prev == nil {
		return BlockData(chunk), nil
	}
	// The first chunk is shared with the input and capped there, so append
	// copies it once; later chunks append in place, linear overall.
	cost := int64(n)
	if cap(prev)-len(prev) < n {
		cost += int64(len(prev)) * 2
	}
	if err := d.charge(cost, "block data", d.off-n); err != nil {
		return nil, err
	}
	return append(prev, chunk...), nil
}

func (d *Decoder) readNewObject(start int) (Value, error) {
	cd, err := d.readClassDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil {
		return nil, d.errf(start+1, "class descriptor of an object", "TC_NULL", nil)
	}
	if !cd.complete {
		return nil, d.errf(start, "", "object of class "+cd.Name+" whose descriptor is still being read", nil)
	}
	if err := d.charge(64+int64(cd.nfields)*16+int64(len(cd.layout))*56, "object", start); err != nil {
		return nil, err
	}
	size := d.arena.size(len(d.data))
	obj := &take(&d.arena.objs, 1, size)[0]
	obj.Desc = cd
	if obj.Handle, err = d.assign(obj, start); err != nil {
		return nil, err
	}
	if cd.IsExternalizable() {
		if cd.Flags&SCBlockData == 0 {
			return nil, d.errf(d.off, "", "externalizable class "+cd.Name+" written with protocol version 1", ErrUnsupported)
		}
		obj.Classes = take(&d.arena.cdata, 1, size)
		obj.Classes[0].Desc = cd
		if obj.Classes[0].Annotations, err = d.readAnnotation(); err != nil {
			return nil, err
		}
		return obj, nil
	}
	obj.Classes = take(&d.arena.cdata, len(cd.layout), 2*size)
	var values []Value
	if cd.nfields > 0 {
		values = take(&d.arena.values, cd.nfields, 4*size)
	}
	for i, c := range cd.layout {
		cdata := &obj.Classes[i]
		cdata.Desc = c
		if c.Flags&SCSerializable == 0 {
			continue
		}
		cdata.Values = values[:len(c.Fields):len(c.Fields)]
		values = values[len(c.Fields):]
		for j := range c.Fields {
			if cdata.Values[j], err = d.readFieldValue(c.Fields[j].Type); err != nil {
				return nil, err
			}
		}
		if c.Flags&SCWriteMethod != 0 {
			if cdata.Annotations, err = d.readAnnotation(); err != nil {
				return nil, err
			}
		}
	}
	return obj, nil
}

// Boxing small values through these avoids an allocation per field.
var (
	boolTrue  Value = true
	boolFalse Value = false
)

func (d *Decoder) readFieldValue(t byte) (Value, error) {
	switch t {
	case 'B':
		b, err := d.u8("byte field")
		return int8(b), err
	case 'C':
		v, err := d.u16("char field")
		return v, err
	case 'D':
		v, err := d.u64("double field")
		return math.Float64frombits(v), err
	case 'F':
		v, err := d.u32("float field")
		return math.Float32frombits(v), err
	case 'I':
		v, err := d.u32("int field")
		return int32(v), err
	case 'J':
		v, err := d.u64("long field")
		return int64(v), err
	case 'S':
		v, err := d.u16("short field")
		return int16(v), err
	case 'Z':
		b, err := d.u8("boolean field")
		if b != 0 {
			return boolTrue, err
		}
		return boolFalse, err
	}
	return d.readObject()
}

// readNewString reads a TC_STRING or TC_LONGSTRING body and gives it a
// handle; the caller boxes it if it needs a Value.
func (d *Decoder) readNewString(tc byte, start int) (string, error) {
	at := d.off
	var n int
	if tc == tcString {
		v, err := d.u16("string length")
		if err != nil {
			return "", err
		}
		n = int(v)
	} else {
		v, err := d.u64("long string length")
		if err != nil {
			return "", err
		}
		if v > uint64(d.remaining()) {
			return "", d.errf(at, fmt.Sprintf("string length within the %d bytes left", d.remaining()), fmt.Sprint(int64(v)), ErrTruncated)
		}
		n = int(v)
	}
	s, err := d.modifiedUTF(n, "string", start)
	if err != nil {
		return "", err
	}
	if _, err := d.assignHandle(handle{s: s, isStr: true}, start); err != nil {
		return "", err
	}
	return s, nil
}

// readUTF reads a writeUTF string (2-byte length) that is not an object.
func (d *Decoder) readUTF(what string) (string, error) {
	at := d.off
	if d.remaining() < 2 {
		return "", d.truncated(what+" length", 2)
	}
	n := binary.BigEndian.Uint16(d.data[d.off:])
	d.off += 2
	return d.modifiedUTF(int(n), what, at)
}

// modifiedUTF decodes n bytes of Java's modified UTF-8 (DataInput.readUTF):
// NUL as C0 80, supplementary characters as two 3-byte surrogates.
// plainASCII reports whether b holds only bytes 0x01 to 0x7f, which modified
// UTF-8 and Go strings encode the same way. Eight bytes are tested at a time:
// names and class names make up most of a record.
func plainASCII(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		// A high bit anywhere, or a zero byte (w-ones borrows into its
		// high bit where the byte was 0 and w's own high bit was clear).
		if w&highs != 0 || (w-ones)&^w&highs != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}

func (d *Decoder) modifiedUTF(n int, what string, at int) (string, error) {
	if n > d.remaining() {
		return "", d.truncated(what, n)
	}
	if n > d.opts.MaxStringLen {
		return "", d.errf(at, "", fmt.Sprintf("%s of %d bytes, more than %d", what, n, d.opts.MaxStringLen), ErrLimit)
	}
	b := d.data[d.off : d.off+n]
	if plainASCII(b) {
		if d.str == "" && len(d.data) > 0 {
			if err := d.charge(int64(len(d.data)), "string table", at); err != nil {
				return "", err
			}
			d.str = string(d.data)
		}
		s := d.str[d.off : d.off+n]
		d.off += n
		return s, nil
	}
	// Worst case a 1-byte unit turns into 1 byte and a 3-byte surrogate pair
	// half into 2 of a 4-byte rune, so n bytes suffice.
	if err := d.charge(int64(n)*2, what, at); err != nil {
		return "", err
	}
	out := make([]byte, 0, n)
	var pending rune = -1 // high surrogate waiting for its pair
	flush := func() {
		if pending >= 0 {
			out = utf8.AppendRune(out, utf8.RuneError)
			pending = -1
		}
	}
	for i := 0; i < n; {
		c := b[i]
		var r rune
		switch c >> 4 {
		case 0, 1, 2, 3, 4, 5, 6, 7:
			r = rune(c)
			i++
		case 12, 13:
			if i+1 >= n || b[i+1]&0xC0 != 0x80 {
				return "", d.errf(d.off+i, "modified UTF-8 in "+what, fmt.Sprintf("bad 2-byte sequence at 0x%02x", c), nil)
			}
			r = rune(c&0x1F)<<6 | rune(b[i+1]&0x3F)
			i += 2
		case 14:
			if i+2 >= n || b[i+1]&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 {
				return "", d.errf(d.off+i, "modified UTF-8 in "+what, fmt.Sprintf("bad 3-byte sequence at 0x%02x", c), nil)
			}
			r = rune(c&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F)
			i += 3
		default:
			return "", d.errf(d.off+i, "modified UTF-8 in "+what, fmt.Sprintf("byte 0x%02x", c), nil)
		}
		switch {
		case utf16.IsSurrogate(r) && r < 0xDC00:
			flush()
			pending = r
		case utf16.IsSurrogate(r):
			if pending >= 0 {
				out = utf8.AppendRune(out, utf16.DecodeRune(pending, r))
				pending = -1
			} else {
				out = utf8.AppendRune(out, utf8.RuneError)
			}
		default:
			flush()
			out = utf8.AppendRune(out, r)
		}
	}
	flush()
	d.off += n
	return string(out), nil
}

var elemSize = [256]int{'B': 1, 'C': 2, 'D': 8, 'F': 4, 'I': 4, 'J': 8, 'S': 2, 'Z': 1, 'L': 1, '[': 1}

func (d *Decoder) readNewArray(start int) (Value, error) {
	descAt := d.off
	cd, err := d.readClassDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil || len(cd.Name) < 2 || cd.Name[0] != '[' || elemSize[cd.Name[1]] == 0 {
		name := "null"
		if cd != nil {
			name = fmt.Sprintf("%q", cd.Name)
		}
		return nil, d.errf(descAt, "array class descriptor", name, nil)
	}
	et := cd.Name[1]
	at := d.off
	ln, err := d.u32("array length")
	if err != nil {
		return nil, err
	}
	n := int(int32(ln))
	if n < 0 {
		return nil, d.errf(at, "array length", fmt.Sprint(n), nil)
	}
	// Every element takes at least elemSize bytes (an object at least its
	// type code), so a length the input cannot hold fails before allocating.
	if int64(n)*int64(elemSize[et]) > int64(d.remaining()) {
		return nil, d.errf(at, fmt.Sprintf("array length within the %d bytes left", d.remaining()), fmt.Sprint(n), ErrTruncated)
	}
	if n > d.opts.MaxArrayLen {
		return nil, d.errf(at, "", fmt.Sprintf("array of %d elements, more than %d", n, d.opts.MaxArrayLen), ErrLimit)
	}
	size := int64(elemSize[et])
	if et == 'L' || et == '[' {
		size = 16
	} else if et == 'B' {
		size = 0 // shares the input
	}
	if err := d.charge(48+int64(n)*size, "array", start); err != nil {
		return nil, err
	}
	arr := &Array{Desc: cd}
	if arr.Handle, err = d.assign(arr, start); err != nil {
		return nil, err
	}
	p := d.data[d.off:]
	be := binary.BigEndian
	switch et {
	case 'B':
		arr.Data = d.data[d.off : d.off+n : d.off+n]
	case 'C':
		a := make([]uint16, n)
		for i := range a {
			a[i] = be.Uint16(p[2*i:])
		}
		arr.Data = a
	case 'S':
		a := make([]int16, n)
		for i := range a {
			a[i] = int16(be.Uint16(p[2*i:]))
		}
		arr.Data = a
	case 'I':
		a := make([]int32, n)
		for i := range a {
			a[i] = int32(be.Uint32(p[4*i:]))
		}
		arr.Data = a
	case 'F':
		a := make([]float32, n)
		for i := range a {
			a[i] = math.Float32frombits(be.Uint32(p[4*i:]))
		}
		arr.Data = a
	case 'J':
		a := make([]int64, n)
		for i := range a {
			a[i] = int64(be.Uint64(p[8*i:]))
		}
		arr.Data = a
	case 'D':
		a := make([]float64, n)
		for i := range a {
			a[i] = math.Float64frombits(be.Uint64(p[8*i:]))
		}
		arr.Data = a
	case 'Z':
		a := make([]bool, n)
		for i := range a {
			a[i] = p[i] != 0
		}
		arr.Data = a
	default:
		a := make([]Value, n)
		arr.Data = a
		for i := range a {
			if a[i], err = d.readObject(); err != nil {
				return nil, err
			}
		}
		return arr, nil
	}
	d.off += n * elemSize[et]
	return arr, nil
}

func (d *Decoder) readNewClass(start int) (Value, error) {
	cd, err := d.readClassDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil {
		return nil, d.errf(start+1, "class descriptor of a class", "TC_NULL", nil)
	}
	if err := d.charge(32, "class", start); err != nil {
		return nil, err
	}
	c := &Class{Desc: cd}
	if c.Handle, err = d.assign(c, start); err != nil {
		return nil, err
	}
	return c, nil
}

func (d *Decoder) readNewEnum(start int) (Value, error) {
	descAt := d.off
	cd, err := d.readClassDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil || !cd.IsEnum() {
		return nil, d.errf(descAt, "enum class descriptor (SC_ENUM)", "a non-enum class", nil)
	}
	if err := d.charge(48, "enum", start); err != nil {
		return nil, err
	}
	e := &Enum{Desc: cd}
	if e.Handle, err = d.assign(e, start); err != nil {
		return nil, err
	}
	if e.Constant, err = d.readTypeString(); err != nil {
		return nil, err
	}
	return e, nil
}
