package javaser

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func decodeAll(t *testing.T, name string) []Value {
	t.Helper()
	data, err := os.ReadFile("testdata/gen/" + name + ".ser")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(data, Options{Record: name})
	var out []Value
	for d.More() {
		v, err := d.ReadContent()
		if err != nil && !isException(err) {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestFieldLookup(t *testing.T) {
	c := decodeAll(t, "hierarchy")[0].(*Object)
	for _, tc := range []struct {
		class, name string
		want        Value
	}{
		{"", "x", int32(3)}, {"Gen$A", "x", int32(1)}, {"Gen$B", "x", int32(2)}, {"Gen$C", "x", int32(3)},
		{"", "y", int64(22)}, {"", "name", "c-name"}, {"Gen$A", "name", "a-name"},
	} {
		var got Value
		var ok bool
		if tc.class == "" {
			got, ok = c.Field(tc.name)
		} else {
			got, ok = c.FieldIn(tc.class, tc.name)
		}
		if !ok || got != tc.want {
			t.Errorf("%s.%s = %#v, %v; want %#v", tc.class, tc.name, got, ok, tc.want)
		}
	}
	if _, ok := c.Field("nope"); ok {
		t.Error("Field found a field that does not exist")
	}
	if _, ok := c.FieldIn("Gen$B", "name"); ok {
		t.Error("FieldIn found name in Gen$B, which does not declare it")
	}
	if c.Data("java.lang.Object") != nil {
		t.Error("Data found a class outside the hierarchy")
	}
}

// TestAnnotationReader rebuilds writeObject data the way the classes'
// readObject methods read it.
func TestAnnotationReader(t *testing.T) {
	items := decodeAll(t, "collections")
	hm := items[0].(*Object).Data("java.util.HashMap").Annotation()
	capacity, err1 := hm.ReadInt()
	size, err2 := hm.ReadInt()
	if err1 != nil || err2 != nil || capacity != 16 || size != 4 {
		t.Fatalf("HashMap capacity %d size %d: %v %v", capacity, size, err1, err2)
	}
	m := map[string]Value{}
	for range size {
		k, err := hm.ReadObject()
		if err != nil {
			t.Fatal(err)
		}
		v, err := hm.ReadObject()
		if err != nil {
			t.Fatal(err)
		}
		m[k.(string)] = v
	}
	if !hm.Done() || m["k2"] != "v2" || m["k3"] != nil || len(m) != 4 {
		t.Errorf("HashMap entries %v", m)
	}
	if _, err := hm.ReadObject(); !errors.Is(err, ErrTruncated) {
		t.Errorf("read past the end: %v", err)
	}

	date := items[2].(*Object).Data("java.util.Date").Annotation()
	if ms, err := date.ReadLong(); err != nil || ms != 1764300000123 {
		t.Errorf("Date = %d, %v", ms, err)
	}

	ex := items[4].(*Object).Data("Gen$WithExtra").Annotation()
	if _, err := ex.ReadObject(); !errors.Is(err, ErrAnnotation) {
		t.Errorf("ReadObject over block data: %v, want ErrAnnotation", err)
	}
	n, err := ex.ReadInt()
	if err != nil || n != 42 {
		t.Fatalf("ReadInt = %d, %v", n, err)
	}
	if _, err := ex.ReadObject(); !errors.Is(err, ErrAnnotation) {
		t.Errorf("ReadObject with block data left: %v, want ErrAnnotation", err)
	}
	if s, err := ex.ReadUTF(); err != nil || s != "extra ü" {
		t.Errorf("ReadUTF = %q, %v", s, err)
	}
	if o, err := ex.ReadObject(); err != nil || o != "an object" {
		t.Errorf("ReadObject = %v, %v", o, err)
	}
	if l, err := ex.ReadLong(); err != nil || l != -1 {
		t.Errorf("ReadLong = %d, %v", l, err)
	}
	if a, err := ex.ReadObject(); err != nil || a.(*Array).Data.([]int32)[1] != 2 {
		t.Errorf("ReadObject = %v, %v", a, err)
	}
	if _, err := ex.ReadInt(); !errors.Is(err, ErrTruncated) || !ex.Done() {
		t.Errorf("ReadInt at the end: %v", err)
	}
}

func TestSharedAndCyclic(t *testing.T) {
	items := decodeAll(t, "selfref")
	self := items[0].(*Object)
	if next, _ := self.Field("next"); next != self {
		t.Error("self.next is not self")
	}
	a := items[1].(*Object)
	b, _ := a.Field("next")
	if back, _ := b.(*Object).Field("next"); back != a {
		t.Error("a.next.next is not a")
	}
	arr := items[2].(*Array)
	if arr.Data.([]Value)[0] != arr {
		t.Error("array does not contain itself")
	}
	n := 0
	Walk(self, func(Value) bool { n++; return true })
	// self, the array, a, b, and the strings and nulls in their fields.
	if n < 4 || n > 20 {
		t.Errorf("Walk visited %d values", n)
	}
	var buf bytes.Buffer
	if err := Dump(&buf, self); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Gen$Node @7e0004 (see above)") {
		t.Errorf("Dump does not show the back reference:\n%s", buf.String())
	}
}

func TestReset(t *testing.T) {
	items := decodeAll(t, "reset")
	first, second, afterReset := items[0].(*Object), items[1], items[2].(*Object)
	if second != first {
		t.Error("second write of the same object is not a back reference")
	}
	// After a reset the same object is written afresh and numbering restarts.
	if afterReset == first || afterReset.Handle != first.Handle {
		t.Errorf("after reset: same value %v, handles %x %x", afterReset == first, first.Handle, afterReset.Handle)
	}
}

func TestErrorMessage(t *testing.T) {
	data := newStream().b(tcObject, tcBlockDataLong).Bytes()
	_, _, err := Decode(data, Options{Record: "app_app-20261124101010-0000"})
	want := "app_app-20261124101010-0000: offset 5: expected TC_CLASSDESC, got TC_BLOCKDATALONG"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	data = newStream().b(tcObject, 0x6f).Bytes()
	_, _, err = Decode(data, Options{})
	if err == nil || err.Error() != "offset 5: expected TC_CLASSDESC, got 0x6f" {
		t.Errorf("error %q", err)
	}
	_, _, err = Decode(newStream().b(tcString, 0).Bytes(), Options{Record: "r"})
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) || fe.Record != "r" || fe.Offset != 5 {
		t.Errorf("truncated: %#v", err)
	}
}

func TestException(t *testing.T) {
	data, err := os.ReadFile("testdata/gen/exception.ser")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(data, Options{Record: "rec"})
	if v, err := d.ReadObject(); err != nil || v != "before" {
		t.Fatalf("first item %v, %v", v, err)
	}
	_, err = d.ReadObject()
	var ee *ExceptionError
	if !errors.As(err, &ee) || ee.ExceptionClass() != "java.io.NotSerializableException" || ee.Message() != "java.lang.Object" {
		t.Fatalf("want the writer's exception, got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "rec: offset 80: stream holds an exception written by the serializer: java.io.NotSerializableException: java.lang.Object") {
		t.Errorf("message %q", err)
	}
	if v, err := d.ReadObject(); err != nil || v != "after" {
		t.Errorf("item after the exception: %v, %v", v, err)
	}
	if d.More() {
		t.Error("bytes left")
	}
}

func TestStickyError(t *testing.T) {
	d := NewDecoder(newStream().b(0x01, tcNull).Bytes(), Options{})
	_, err1 := d.ReadContent()
	_, err2 := d.ReadContent()
	if err1 == nil || err1 != err2 || d.More() {
		t.Errorf("errors %v, %v", err1, err2)
	}
}

func TestAnnotationReaderPrimitives(t *testing.T) {
	// DataOutputStream bytes of: writeBoolean(true) writeByte(-2)
	// writeShort(-3) writeChar('é') writeFloat(1.5) writeDouble(-0.25), split
	// over two block data items to cross a boundary, then 3 raw bytes.
	r := NewAnnotationReader([]Value{
		BlockData{0x01, 0xFE, 0xFF, 0xFD, 0x00, 0xE9, 0x3F, 0xC0, 0x00, 0x00},
		BlockData{0xBF, 0xD0, 0, 0, 0, 0, 0, 0, 7, 8, 9},
	})
	b, err1 := r.ReadBool()
	i8, err2 := r.ReadInt8()
	s, err3 := r.ReadShort()
	c, err4 := r.ReadChar()
	f, err5 := r.ReadFloat()
	d, err6 := r.ReadDouble()
	raw, err7 := r.ReadBytes(3)
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		t.Fatal(err)
	}
	if !b || i8 != -2 || s != -3 || c != 0xE9 || f != 1.5 || d != -0.25 || !bytes.Equal(raw, []byte{7, 8, 9}) || !r.Done() {
		t.Errorf("got %v %v %v %v %v %v %v", b, i8, s, c, f, d, raw)
	}
}

func TestArrayElemTypes(t *testing.T) {
	want := []byte{'B', 'S', 'C', 'I', 'J', 'F', 'D', 'Z', 'L', 'L', '['}
	for i, v := range decodeAll(t, "arrays")[:len(want)] {
		if got := v.(*Array).ElemType(); got != want[i] {
			t.Errorf("array %d: element type %c, want %c", i, got, want[i])
		}
	}
}

func TestEndOfStream(t *testing.T) {
	// A stream may end with a reset (ObjectOutputStream.reset then close).
	d := NewDecoder(newStream().b(tcNull, tcReset, tcReset).Bytes(), Options{})
	if v, err := d.ReadContent(); v != nil || err != nil {
		t.Fatalf("first item %v, %v", v, err)
	}
	if _, err := d.ReadContent(); err != io.EOF {
		t.Errorf("after trailing resets: %v, want io.EOF", err)
	}
	if _, end, err := Decode(newStream().Bytes(), Options{}); !errors.Is(err, ErrTruncated) || end != 4 {
		t.Errorf("Decode of a bare header: %d, %v", end, err)
	}
}

// plainASCII must agree with a byte-by-byte test at every length and
// position of a zero or high byte.
func TestPlainASCII(t *testing.T) {
	slow := func(b []byte) bool {
		for _, c := range b {
			if c == 0 || c >= 0x80 {
				return false
			}
		}
		return true
	}
	for n := 0; n <= 40; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + i%26)
		}
		if !plainASCII(b) {
			t.Fatalf("len %d: letters not ASCII", n)
		}
		for i := range b {
			for _, c := range []byte{0, 0x80, 0xc0, 0xff, 0x7f, 0x01} {
				old := b[i]
				b[i] = c
				if got, want := plainASCII(b), slow(b); got != want {
					t.Fatalf("len %d, byte %d = %#x: got %v, want %v", n, i, c, got, want)
				}
				b[i] = old
			}
		}
	}
}
