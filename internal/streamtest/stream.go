// Package audittest writes Java serialization streams byte by byte for
// tests: class descriptors with any names, SUIDs and fields, objects,
// proxies, class annotations. It needs no JVM and no real class: a test
// can name the classes of a public gadget chain without having, building
// or running the chain.
package streamtest

import "encoding/binary"

// Field is one field of a descriptor: Type is a primitive code or 'L'/'['
// with Sig the JVM signature ("Ljava/lang/Object;").
type Field struct {
	Type byte
	Name string
	Sig  string
}

// Desc is a class descriptor to write. Proxy, when set, makes it a
// TC_PROXYCLASSDESC with those interfaces (Name is then unused).
type Desc struct {
	Name   string
	SUID   int64
	Flags  byte // 0 means SC_SERIALIZABLE
	Fields []Field
	Super  *Desc
	Proxy  []string
}

// Value writes one value into a stream.
type Value func(*Writer)

// Writer accumulates a stream. Descriptors are written in full each time
// (no back references), which the protocol allows.
type Writer struct{ b []byte }

// New starts a stream with its magic and version.
func New() *Writer { return &Writer{b: []byte{0xAC, 0xED, 0x00, 0x05}} }

// Bytes is the stream so far.
func (w *Writer) Bytes() []byte { return w.b }

// Raw appends bytes as they are (for trailing garbage).
func (w *Writer) Raw(b ...byte) *Writer { w.b = append(w.b, b...); return w }

func (w *Writer) utf(s string) {
	w.b = binary.BigEndian.AppendUint16(w.b, uint16(len(s)))
	w.b = append(w.b, s...)
}

func (w *Writer) desc(d *Desc) {
	if d == nil {
		w.b = append(w.b, 0x70) // TC_NULL
		return
	}
	if d.Proxy != nil {
		w.b = append(w.b, 0x7D)
		w.b = binary.BigEndian.AppendUint32(w.b, uint32(len(d.Proxy)))
		for _, i := range d.Proxy {
			w.utf(i)
		}
	} else {
		w.b = append(w.b, 0x72)
		w.utf(d.Name)
		w.b = binary.BigEndian.AppendUint64(w.b, uint64(d.SUID))
		f := d.Flags
		if f == 0 {
			f = 0x02
		}
		w.b = append(w.b, f)
		w.b = binary.BigEndian.AppendUint16(w.b, uint16(len(d.Fields)))
		for _, fl := range d.Fields {
			w.b = append(w.b, fl.Type)
			w.utf(fl.Name)
			if fl.Type == 'L' || fl.Type == '[' {
				w.String(fl.Sig)
			}
		}
	}
	w.b = append(w.b, 0x78) // end of class annotation
	w.desc(d.Super)
}

// String writes a TC_STRING.
func (w *Writer) String(s string) *Writer {
	w.b = append(w.b, 0x74)
	w.utf(s)
	return w
}

// Null writes TC_NULL.
func (w *Writer) Null() *Writer { w.b = append(w.b, 0x70); return w }

// Int appends a primitive int field value.
func (w *Writer) Int(v int32) *Writer { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)); return w }

// Object writes a TC_OBJECT of d; vals are the field values of the whole
// hierarchy, super class first, as the protocol orders them.
func (w *Writer) Object(d *Desc, vals ...Value) *Writer {
	w.b = append(w.b, 0x73)
	w.desc(d)
	for _, v := range vals {
		v(w)
	}
	return w
}

// ObjectWithData writes an object of a class with a writeObject method
// (flags SC_SERIALIZABLE|SC_WRITE_METHOD): fields, then block data, then
// objects, then TC_ENDBLOCKDATA.
func (w *Writer) ObjectWithData(d *Desc, fields []Value, block []byte, objs ...Value) *Writer {
	w.b = append(w.b, 0x73)
	w.desc(d)
	for _, v := range fields {
		v(w)
	}
	if len(block) > 0 {
		w.b = append(w.b, 0x77, byte(len(block)))
		w.b = append(w.b, block...)
	}
	for _, o := range objs {
		o(w)
	}
	w.b = append(w.b, 0x78)
	return w
}

// Array writes a TC_ARRAY of objects.
func (w *Writer) Array(class string, elems ...Value) *Writer {
	w.b = append(w.b, 0x75)
	w.desc(&Desc{Name: class})
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(len(elems)))
	for _, e := range elems {
		e(w)
	}
	return w
}

// Enum writes a TC_ENUM of class (its super is java.lang.Enum).
func (w *Writer) Enum(class, constant string) *Writer {
	w.b = append(w.b, 0x7E)
	w.desc(&Desc{Name: class, Flags: 0x12, Super: &Desc{Name: "java.lang.Enum", Flags: 0x12}})
	w.String(constant)
	return w
}

// Obj, Str, Nul and I are Values for nesting.
func Obj(d *Desc, vals ...Value) Value { return func(w *Writer) { w.Object(d, vals...) } }
func Str(s string) Value               { return func(w *Writer) { w.String(s) } }
func Nul() Value                       { return func(w *Writer) { w.Null() } }
func I(v int32) Value                  { return func(w *Writer) { w.Int(v) } }
func Data(d *Desc, fields []Value, block []byte, objs ...Value) Value {
	return func(w *Writer) { w.ObjectWithData(d, fields, block, objs...) }
}

// Simple is a descriptor with no fields and no super class.
func Simple(name string) *Desc { return &Desc{Name: name, SUID: 1} }

// Holder is a serializable class with one Object field "v", to nest values.
func Holder(name string) *Desc {
	return &Desc{Name: name, SUID: 1, Fields: []Field{{Type: 'L', Name: "v", Sig: "Ljava/lang/Object;"}}}
}
