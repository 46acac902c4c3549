package javaser

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// stream builds hostile inputs byte by byte.
type stream struct{ bytes.Buffer }

func newStream() *stream {
	s := &stream{}
	s.Write([]byte{0xAC, 0xED, 0x00, 0x05})
	return s
}

func (s *stream) b(bs ...byte) *stream { s.Write(bs); return s }
func (s *stream) u16(v uint16) *stream { s.Write(binary.BigEndian.AppendUint16(nil, v)); return s }
func (s *stream) u32(v uint32) *stream { s.Write(binary.BigEndian.AppendUint32(nil, v)); return s }
func (s *stream) u64(v uint64) *stream { s.Write(binary.BigEndian.AppendUint64(nil, v)); return s }
func (s *stream) utf(v string) *stream { s.u16(uint16(len(v))); s.WriteString(v); return s }

// classDesc writes a TC_CLASSDESC with no fields, no annotation and no super class.
func (s *stream) classDesc(name string, flags byte) *stream {
	return s.b(tcClassDesc).utf(name).u64(1).b(flags).u16(0).b(tcEndBlockData, tcNull)
}

func (s *stream) pad(n int) *stream { s.Write(make([]byte, n)); return s }

const objArray = "[Ljava.lang.Object;"

type hostileCase struct {
	name     string
	build    func() []byte
	opts     Options
	content  bool  // read with ReadContent instead of Decode
	sentinel error // nil: a plain *FormatError or *ExceptionError
	offset   int64
	msg      string // substring of the error message
	end      int    // for cases without error: expected end offset
}

var hostileCases = []hostileCase{
	{name: "int_array_2g_in_1k", sentinel: ErrTruncated, offset: 23, msg: "array length",
		build: func() []byte {
			return newStream().b(tcArray).classDesc("[I", SCSerializable).u32(0x7FFFFFFF).pad(1000).Bytes()
		}},
	{name: "long_array_2g_in_1k", sentinel: ErrTruncated, offset: 23,
		build: func() []byte {
			return newStream().b(tcArray).classDesc("[J", SCSerializable).u32(0x7FFFFFFF).pad(1000).Bytes()
		}},
	{name: "object_array_2g_in_1k", sentinel: ErrTruncated, offset: 40,
		build: func() []byte {
			return newStream().b(tcArray).classDesc(objArray, SCSerializable).u32(0x7FFFFFFF).pad(1000).Bytes()
		}},
	{name: "negative_array_length", offset: 23, msg: "array length",
		build: func() []byte { return newStream().b(tcArray).classDesc("[I", SCSerializable).u32(0xFFFFFFFF).Bytes() }},
	{name: "longstring_2g", sentinel: ErrTruncated, offset: 5, msg: "string length",
		build: func() []byte { return newStream().b(tcLongString).u64(0x7FFFFFFF).pad(1000).Bytes() }},
	{name: "longstring_2p63", sentinel: ErrTruncated, offset: 5,
		build: func() []byte { return newStream().b(tcLongString).u64(1 << 63).pad(100).Bytes() }},
	{name: "string_beyond_input", sentinel: ErrTruncated, offset: 7,
		build: func() []byte { return newStream().b(tcString).u16(0xFFFF).b('a', 'b', 'c').Bytes() }},
	{name: "blockdatalong_2g", sentinel: ErrTruncated, content: true, offset: 9,
		build: func() []byte { return newStream().b(tcBlockDataLong).u32(0x7FFFFFFF).pad(1000).Bytes() }},
	{name: "field_count_32k", sentinel: ErrTruncated, offset: 18, msg: "field count",
		build: func() []byte {
			return newStream().b(tcObject, tcClassDesc).utf("X").u64(1).b(SCSerializable).u16(0x7FFF).pad(1000).Bytes()
		}},
	{name: "proxy_interfaces_2g", sentinel: ErrTruncated, offset: 6, msg: "interface count",
		build: func() []byte { return newStream().b(tcObject, tcProxyClassDesc).u32(0x7FFFFFFF).pad(1000).Bytes() }},
	{name: "forward_handle", offset: 5, msg: "handle in [0x7e0000, 0x7e0000), got 0x7e0005",
		build: func() []byte { return newStream().b(tcReference).u32(BaseHandle + 5).Bytes() }},
	{name: "handle_below_base", offset: 5, msg: "got 0x10",
		build: func() []byte { return newStream().b(tcReference).u32(0x10).Bytes() }},
	{name: "self_referencing_super_class", offset: 21, msg: "acyclic super class chain",
		build: func() []byte {
			return newStream().b(tcObject, tcClassDesc).utf("X").u64(1).b(SCSerializable).u16(0).b(tcEndBlockData, tcReference).u32(BaseHandle).Bytes()
		}},
	{name: "object_of_a_string_class", offset: 49, msg: "expected reference to a class descriptor, got reference to string",
		build: func() []byte {
			// Object[]{"a", TC_OBJECT whose class descriptor is the handle of "a"}
			return newStream().b(tcArray).classDesc(objArray, SCSerializable).u32(2).
				b(tcString).utf("a").b(tcObject, tcReference).u32(BaseHandle + 2).Bytes()
		}},
	{name: "object_inside_own_class_annotation", offset: 20, msg: "still being read",
		build: func() []byte {
			return newStream().b(tcObject, tcClassDesc).utf("X").u64(1).b(SCSerializable).u16(0).
				b(tcObject, tcReference).u32(BaseHandle).Bytes()
		}},
	{name: "nesting_100000_objects", sentinel: ErrLimit, msg: "nesting deeper than 512",
		offset: 50 + 511*6, // 6 bytes a level after a 46 byte class descriptor
		build: func() []byte {
			// class N { Object next; } nested 100,000 times.
			s := newStream().b(tcObject, tcClassDesc).utf("N").u64(1).b(SCSerializable).u16(1).
				b('L').utf("next").b(tcString).utf("Ljava/lang/Object;").b(tcEndBlockData, tcNull)
			for range 100000 {
				s.b(tcObject, tcReference).u32(BaseHandle)
			}
			return s.b(tcNull).Bytes()
		}},
	{name: "nesting_1000_arrays", sentinel: ErrLimit, msg: "nesting deeper than 512",
		offset: 44 + 511*10,
		build: func() []byte {
			s := newStream().b(tcArray).classDesc(objArray, SCSerializable).u32(1)
			for range 1000 {
				s.b(tcArray, tcReference).u32(BaseHandle).u32(1)
			}
			return s.b(tcNull).Bytes()
		}},
	{name: "super_chain_10000", sentinel: ErrLimit, msg: "nesting deeper than 512",
		offset: 4 + 1 + 511*15,
		build: func() []byte {
			s := newStream().b(tcObject)
			for range 10000 {
				s.b(tcClassDesc).utf("").u64(1).b(SCSerializable).u16(0).b(tcEndBlockData)
			}
			return s.b(tcNull).Bytes()
		}},
	{name: "bad_utf8_4byte", offset: 7, msg: "modified UTF-8",
		build: func() []byte { return newStream().b(tcString).u16(4).b(0xF0, 0x9F, 0x98, 0x80).Bytes() }},
	{name: "bad_utf8_cut_sequence", offset: 8, msg: "bad 3-byte sequence",
		build: func() []byte { return newStream().b(tcString).u16(3).b('a', 0xE2, 0x82).Bytes() }},
	{name: "bad_utf8_continuation", offset: 7, msg: "bad 2-byte sequence",
		build: func() []byte { return newStream().b(tcString).u16(2).b(0xC3, 0x41).Bytes() }},
	{name: "unknown_type_code", offset: 4, msg: "expected object, got 0x7f",
		build: func() []byte { return newStream().b(0x7F).Bytes() }},
	{name: "type_code_below_range", offset: 4, msg: "got 0x00",
		build: func() []byte { return newStream().b(0x00).Bytes() }},
	{name: "unknown_field_type", offset: 20, msg: "field type code",
		build: func() []byte {
			return newStream().b(tcObject, tcClassDesc).utf("X").u64(1).b(SCSerializable).u16(1).b('Q').utf("f").Bytes()
		}},
	{name: "classdesc_where_string_wanted", offset: 5, msg: "expected TC_CLASSDESC, got TC_STRING",
		build: func() []byte { return newStream().b(tcObject, tcString).utf("x").Bytes() }},
	{name: "endblockdata_at_top", offset: 4, msg: "expected object, got TC_ENDBLOCKDATA",
		build: func() []byte { return newStream().b(tcEndBlockData).Bytes() }},
	{name: "blockdata_where_object_wanted", offset: 4, msg: "expected object, got TC_BLOCKDATA",
		build: func() []byte { return newStream().b(tcBlockData, 1, 0).Bytes() }},
	{name: "reset_inside_object", offset: 44, msg: "TC_RESET inside an object",
		build: func() []byte {
			return newStream().b(tcArray).classDesc(objArray, SCSerializable).u32(1).b(tcReset).Bytes()
		}},
	{name: "externalizable_protocol_1", sentinel: ErrUnsupported, offset: 22,
		build: func() []byte { return newStream().b(tcObject).classDesc("E", SCExternalizable).pad(8).Bytes() }},
	{name: "serializable_and_externalizable", offset: 17, msg: "either SC_SERIALIZABLE or SC_EXTERNALIZABLE",
		build: func() []byte { return newStream().b(tcObject).classDesc("E", SCExternalizable|SCSerializable).Bytes() }},
	{name: "enum_of_non_enum_class", offset: 5, msg: "enum class descriptor",
		build: func() []byte {
			return newStream().b(tcEnum).classDesc("E", SCSerializable).b(tcString).utf("A").Bytes()
		}},
	{name: "bad_magic", offset: 0, msg: "expected stream header 0xaced0005, got 0xcafebabe",
		build: func() []byte { return []byte{0xCA, 0xFE, 0xBA, 0xBE, tcNull} }},
	{name: "empty", offset: 0, sentinel: ErrTruncated,
		build: func() []byte { return nil }},
	{name: "header_only", offset: 4, sentinel: ErrTruncated, msg: "expected object, got end of input",
		build: func() []byte { return newStream().Bytes() }},
	{name: "too_many_handles", sentinel: ErrLimit, opts: Options{MaxHandles: 10}, offset: 44 + 8*4, msg: "more than 10 handles",
		build: func() []byte {
			s := newStream().b(tcArray).classDesc(objArray, SCSerializable).u32(20)
			for range 20 {
				s.b(tcString).utf("x")
			}
			return s.Bytes()
		}},
	{name: "string_over_limit", sentinel: ErrLimit, opts: Options{MaxStringLen: 100}, offset: 4,
		build: func() []byte { return newStream().b(tcString).utf(strings.Repeat("x", 101)).Bytes() }},
	{name: "array_over_limit", sentinel: ErrLimit, opts: Options{MaxArrayLen: 100}, offset: 23,
		build: func() []byte { return newStream().b(tcArray).classDesc("[B", SCSerializable).u32(101).pad(101).Bytes() }},
	{name: "alloc_budget", sentinel: ErrLimit, opts: Options{MaxAlloc: 16000}, msg: "budget", offset: 44 + 2*(3+1000),
		build: func() []byte {
			// The input is charged once (ASCII strings share one copy of it),
			// non-ASCII strings 2 bytes per input byte: the third string fails.
			s := newStream().b(tcArray).classDesc(objArray, SCSerializable).u32(10)
			for range 10 {
				s.b(tcString).utf(strings.Repeat("\u00e9", 500))
			}
			return s.Bytes()
		}},
	{name: "garbage_after_object", end: 12,
		build: func() []byte { return newStream().b(tcString).utf("hello").b('j', 'u', 'n', 'k').Bytes() }},
}

// TestHostile decodes each input under testdata/hostile and checks the
// error, its sentinel and its offset. The files are written from the table
// with -update so the corpus can be fed to other tools.
func TestHostile(t *testing.T) {
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", "hostile", tc.name+".bin")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tc.build(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(data, tc.build()) {
				t.Fatalf("%s differs from the table (run go test -update)", path)
			}
			var end int
			if tc.content {
				d := NewDecoder(data, tc.opts)
				_, err = d.ReadContent()
				end = d.Offset()
			} else {
				_, end, err = Decode(data, tc.opts)
			}
			if tc.sentinel == nil && tc.msg == "" {
				if err != nil || end != tc.end || end >= len(data) {
					t.Fatalf("Decode = end %d, %v; want end %d of %d and no error", end, err, tc.end, len(data))
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want %v at offset %d", tc.sentinel, tc.offset)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not match %v", err, tc.sentinel)
			}
			if tc.sentinel == nil && fe.Err != nil {
				t.Errorf("error %v carries sentinel %v, want none", err, fe.Err)
			}
			if fe.Offset != tc.offset {
				t.Errorf("offset %d, want %d: %v", fe.Offset, tc.offset, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// TestTruncatedEverywhere cuts every corpus stream at every length and
// expects ErrTruncated, or a clean stop when the cut falls between two
// top-level items (or two chunks of top-level block data); never a panic or
// another error.
func TestTruncatedEverywhere(t *testing.T) {
	for _, path := range corpus(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		step := 1
		if len(data) > 4000 {
			step = 97 // the long string stream: sample
		}
		for n := 0; n < len(data); n += step {
			d := NewDecoder(data[:n], Options{})
			err := d.ReadHeader()
			var last Value
			eof := false // the cut fell after a top-level TC_RESET
			for err == nil && d.More() {
				last, err = d.ReadContent()
				if err == io.EOF {
					eof = true
				}
				if isException(err) || err == io.EOF {
					err = nil
				}
			}
			if err == nil {
				if _, ok := last.(BlockData); !ok && !eof && !boundary(t, data, n) {
					t.Errorf("%s cut at %d: decoded cleanly", path, n)
				}
				continue
			}
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("%s cut at %d: %v, want ErrTruncated", path, n, err)
			}
		}
	}
}

// boundary reports whether n is where a top-level item of data ends.
func boundary(t *testing.T, data []byte, n int) bool {
	d := NewDecoder(data, Options{})
	if err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	for d.Offset() < n && d.More() {
		if _, err := d.ReadContent(); err != nil && !isException(err) {
			t.Fatal(err)
		}
	}
	return d.Offset() == n
}

func isException(err error) bool {
	var ee *ExceptionError
	return errors.As(err, &ee)
}

// TestHostileAllocation checks that a 1 KiB input declaring huge lengths
// allocates next to nothing.
func TestHostileAllocation(t *testing.T) {
	inputs := map[string][]byte{
		"ints":    newStream().b(tcArray).classDesc("[I", SCSerializable).u32(0x7FFFFFFF).pad(1000).Bytes(),
		"objects": newStream().b(tcArray).classDesc(objArray, SCSerializable).u32(0x7FFFFFFF).pad(1000).Bytes(),
		"string":  newStream().b(tcLongString).u64(0x7FFFFFFF).pad(1000).Bytes(),
		"block":   newStream().b(tcBlockDataLong).u32(0x7FFFFFFF).pad(1000).Bytes(),
	}
	for name, in := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range 100 {
			d := NewDecoder(in, Options{})
			if _, err := d.ReadContent(); !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 16<<10 {
			t.Errorf("%s: %d bytes allocated per decode of a %d byte input", name, per, len(in))
		}
		allocs := testing.AllocsPerRun(10, func() {
			d := NewDecoder(in, Options{})
			_, _ = d.ReadContent()
		})
		if allocs > 20 {
			t.Errorf("%s: %.0f allocations per decode", name, allocs)
		}
	}
}

// TestDepthCap checks that a caller asking for unbounded depth still gets an
// error, not a stack overflow, from a stream nested 100,000 deep.
func TestDepthCap(t *testing.T) {
	data, err := os.ReadFile("testdata/hostile/nesting_100000_objects.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Decode(data, Options{MaxDepth: 1 << 30})
	var fe *FormatError
	if !errors.Is(err, ErrLimit) || !errors.As(err, &fe) || fe.Offset != 50+(maxDepthCap-1)*6 {
		t.Errorf("got %v", err)
	}
}
