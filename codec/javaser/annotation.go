package javaser

import (
	"encoding/binary"
	"fmt"
	"math"
)

// AnnotationReader reads a class annotation the way the class's readObject
// reads its ObjectInputStream: primitives come out of the block data,
// objects out of the object items, in order. A rebuilder of, say,
// java.util.HashMap calls ReadInt twice (capacity, size) and then ReadObject
// for each key and value.
type AnnotationReader struct {
	items []Value
	i     int    // next item
	buf   []byte // unread rest of the current block data item
}

// NewAnnotationReader returns a reader over annotation items (BlockData and
// values), as found in ClassData.Annotations or ClassDesc.Annotations.
func NewAnnotationReader(items []Value) *AnnotationReader {
	return &AnnotationReader{items: items}
}

// bytes returns the next n bytes of block data.
func (r *AnnotationReader) bytes(n int) ([]byte, error) {
	for len(r.buf) == 0 {
		if r.i >= len(r.items) {
			return nil, fmt.Errorf("annotation: %d bytes of block data wanted at the end: %w", n, ErrTruncated)
		}
		bd, ok := r.items[r.i].(BlockData)
		if !ok {
			return nil, fmt.Errorf("annotation item %d: block data wanted, got %s: %w", r.i, kindOf(r.items[r.i]), ErrAnnotation)
		}
		r.i++
		r.buf = bd
	}
	if len(r.buf) < n {
		return nil, fmt.Errorf("annotation item %d: %d bytes of block data wanted, %d left: %w", r.i-1, n, len(r.buf), ErrAnnotation)
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b, nil
}

// ReadObject returns the next object item. Unread block data before it is an
// error, as in ObjectInputStream (OptionalDataException).
func (r *AnnotationReader) ReadObject() (Value, error) {
	if len(r.buf) > 0 {
		return nil, fmt.Errorf("annotation item %d: object wanted, %d bytes of block data unread: %w", r.i-1, len(r.buf), ErrAnnotation)
	}
	if r.i >= len(r.items) {
		return nil, fmt.Errorf("annotation: object wanted at the end: %w", ErrTruncated)
	}
	v := r.items[r.i]
	if _, ok := v.(BlockData); ok {
		return nil, fmt.Errorf("annotation item %d: object wanted, got block data: %w", r.i, ErrAnnotation)
	}
	r.i++
	return v, nil
}

// ReadBytes returns the next n bytes of block data.
func (r *AnnotationReader) ReadBytes(n int) ([]byte, error) { return r.bytes(n) }

// ReadBool reads a writeBoolean.
func (r *AnnotationReader) ReadBool() (bool, error) {
	b, err := r.bytes(1)
	if err != nil {
		return false, err
	}
	return b[0] != 0, nil
}

// ReadInt8 reads a writeByte.
func (r *AnnotationReader) ReadInt8() (int8, error) {
	b, err := r.bytes(1)
	if err != nil {
		return 0, err
	}
	return int8(b[0]), nil
}

// ReadShort reads a writeShort.
func (r *AnnotationReader) ReadShort() (int16, error) {
	b, err := r.bytes(2)
	if err != nil {
		return 0, err
	}
	return int16(binary.BigEndian.Uint16(b)), nil
}

// ReadChar reads a writeChar.
func (r *AnnotationReader) ReadChar() (uint16, error) {
	b, err := r.bytes(2)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(b), nil
}

// ReadInt reads a writeInt.
func (r *AnnotationReader) ReadInt() (int32, error) {
	b, err := r.bytes(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// ReadLong reads a writeLong.
func (r *AnnotationReader) ReadLong() (int64, error) {
	b, err := r.bytes(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// ReadFloat reads a writeFloat.
func (r *AnnotationReader) ReadFloat() (float32, error) {
	v, err := r.ReadInt()
	return math.Float32frombits(uint32(v)), err
}

// ReadDouble reads a writeDouble.
func (r *AnnotationReader) ReadDouble() (float64, error) {
	v, err := r.ReadLong()
	return math.Float64frombits(uint64(v)), err
}

// ReadUTF reads a writeUTF string.
func (r *AnnotationReader) ReadUTF() (string, error) {
	n, err := r.ReadChar()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(int(n))
	if err != nil {
		return "", err
	}
	d := NewDecoder(b, Options{})
	s, err := d.modifiedUTF(len(b), "annotation string", 0)
	if err != nil {
		return "", fmt.Errorf("annotation string: %w", err)
	}
	return s, nil
}

// Done reports whether every item and byte has been read.
func (r *AnnotationReader) Done() bool { return len(r.buf) == 0 && r.i >= len(r.items) }
