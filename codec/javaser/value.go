package javaser

import "strings"

// Value is one decoded item; see the package documentation for the Go types
// it can hold.
type Value = any

// BlockData is raw data written with the primitive write methods of
// ObjectOutputStream (writeInt, writeUTF, write...), with adjacent
// TC_BLOCKDATA/TC_BLOCKDATALONG chunks merged.
type BlockData []byte

// Class descriptor flags (ObjectStreamConstants.SC_*).
const (
	SCWriteMethod    byte = 0x01
	SCSerializable   byte = 0x02
	SCExternalizable byte = 0x04
	SCBlockData      byte = 0x08
	SCEnum           byte = 0x10
)

// BaseHandle is the first handle number a stream assigns.
const BaseHandle = 0x7E0000

// ClassDesc is a class descriptor (TC_CLASSDESC or TC_PROXYCLASSDESC).
type ClassDesc struct {
	Name       string // binary name, e.g. "java.util.HashMap" or "[I"; empty for a proxy
	SUID       int64  // serialVersionUID
	Flags      byte   // SC_* bits; a proxy descriptor gets SCSerializable
	Fields     []Field
	Proxy      bool
	Interfaces []string // proxy interfaces
	// Annotations is the class annotation (what annotateClass or
	// annotateProxyClass wrote), normally empty.
	Annotations []Value
	Super       *ClassDesc
	Handle      int32

	complete bool
	layout   []*ClassDesc // superclass first, only set once complete
	nfields  int          // fields over the whole layout
}

// Field is one serializable field of a class descriptor.
type Field struct {
	Type byte   // 'B','C','D','F','I','J','S','Z' or '[' and 'L'
	Name string //
	// ClassName is the JVM type signature of an object or array field,
	// e.g. "Ljava/lang/String;" or "[I"; empty for primitives.
	ClassName string
}

// TypeName is the field's type as Java source spells it ("int",
// "java.lang.String", "long[]").
func (f Field) TypeName() string {
	if f.Type == 'L' || f.Type == '[' {
		if f.ClassName == "" {
			return "java.lang.Object"
		}
		return signatureName(f.ClassName)
	}
	return primitiveName(f.Type)
}

func primitiveName(t byte) string {
	switch t {
	case 'B':
		return "byte"
	case 'C':
		return "char"
	case 'D':
		return "double"
	case 'F':
		return "float"
	case 'I':
		return "int"
	case 'J':
		return "long"
	case 'S':
		return "short"
	case 'Z':
		return "boolean"
	}
	return "?"
}

// signatureName turns "Ljava/lang/String;" or "[[I" into "java.lang.String"
// or "int[][]"; it also accepts array class names like "[Ljava.lang.Object;".
func signatureName(sig string) string {
	dims := 0
	for dims < len(sig) && sig[dims] == '[' {
		dims++
	}
	base := sig[dims:]
	var name string
	switch {
	case len(base) >= 2 && base[0] == 'L' && base[len(base)-1] == ';':
		name = strings.ReplaceAll(base[1:len(base)-1], "/", ".")
	case len(base) == 1:
		name = primitiveName(base[0])
	default:
		name = base
	}
	return name + strings.Repeat("[]", dims)
}

// IsEnum, IsExternalizable and HasWriteMethod read the descriptor flags.
func (c *ClassDesc) IsEnum() bool { return c.Flags&SCEnum != 0 }

// IsExternalizable reports SC_EXTERNALIZABLE.
func (c *ClassDesc) IsExternalizable() bool { return c.Flags&SCExternalizable != 0 }

// HasWriteMethod reports SC_WRITE_METHOD: the class has a writeObject method,
// so its object data carries an annotation after the fields.
func (c *ClassDesc) HasWriteMethod() bool { return c.Flags&SCWriteMethod != 0 }

// Object is a TC_OBJECT.
type Object struct {
	Desc *ClassDesc
	// Classes holds the data of each class in the hierarchy, superclass
	// first, as in the stream. An Externalizable object has one entry whose
	// Annotations hold the writeExternal data.
	Classes []ClassData
	Handle  int32
}

// ClassData is one class's part of an object.
type ClassData struct {
	Desc   *ClassDesc
	Values []Value // parallel to Desc.Fields
	// Annotations is what the class's writeObject (or writeExternal) wrote
	// after the default fields: BlockData and object values in stream order.
	// Nil for classes without SC_WRITE_METHOD.
	Annotations []Value
}

// ClassName is the object's class name ("" for a proxy).
func (o *Object) ClassName() string {
	if o == nil || o.Desc == nil {
		return ""
	}
	return o.Desc.Name
}

// Field returns the value of the named field; when several classes in the
// hierarchy declare it, the most derived one wins, as in Java source.
func (o *Object) Field(name string) (Value, bool) {
	for i := len(o.Classes) - 1; i >= 0; i-- {
		if v, ok := o.Classes[i].Field(name); ok {
			return v, true
		}
	}
	return nil, false
}

// FieldIn returns the value of a field declared by the named class.
func (o *Object) FieldIn(class, name string) (Value, bool) {
	if cd := o.Data(class); cd != nil {
		return cd.Field(name)
	}
	return nil, false
}

// Data returns the named class's part of the object, or nil.
func (o *Object) Data(class string) *ClassData {
	for i := range o.Classes {
		if o.Classes[i].Desc.Name == class {
			return &o.Classes[i]
		}
	}
	return nil
}

// Field returns the value of a field of this class.
func (cd *ClassData) Field(name string) (Value, bool) {
	for i, f := range cd.Desc.Fields {
		if f.Name == name && i < len(cd.Values) {
			return cd.Values[i], true
		}
	}
	return nil, false
}

// Annotation returns a reader over the class's annotation.
func (cd *ClassData) Annotation() *AnnotationReader {
	return NewAnnotationReader(cd.Annotations)
}

// Array is a TC_ARRAY. Data holds []byte for byte[] (shared with the input),
// []uint16 for char[], []int16, []int32, []int64, []float32, []float64,
// []bool, and []Value for arrays of objects or arrays.
type Array struct {
	Desc   *ClassDesc // array class, e.g. "[I" or "[Ljava.lang.String;"
	Data   any
	Handle int32
}

// ElemType is the element type code: a primitive code, 'L' or '['.
func (a *Array) ElemType() byte {
	if a.Desc != nil && len(a.Desc.Name) > 1 {
		return a.Desc.Name[1]
	}
	return 0
}

// Len is the number of elements.
func (a *Array) Len() int {
	switch d := a.Data.(type) {
	case []byte:
		return len(d)
	case []uint16:
		return len(d)
	case []int16:
		return len(d)
	case []int32:
		return len(d)
	case []int64:
		return len(d)
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []bool:
		return len(d)
	case []Value:
		return len(d)
	}
	return 0
}

// Enum is a TC_ENUM constant.
type Enum struct {
	Desc     *ClassDesc
	Constant string
	Handle   int32
}

// Class is a TC_CLASS (a java.lang.Class object).
type Class struct {
	Desc   *ClassDesc
	Handle int32
}
