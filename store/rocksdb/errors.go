package rocksdb

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, reachable with errors.Is through every *FormatError.
var (
	// ErrTruncated means a file ended inside a structure, or a length points
	// past what is left of it.
	ErrTruncated = errors.New("truncated")
	// ErrChecksum means a log record, block or footer fails its checksum.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrLimit means a declared size is above what this reader accepts.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupported marks valid RocksDB data this reader does not handle
	// (WAL compression, merge operands, plain/cuckoo tables, ...).
	ErrUnsupported = errors.New("unsupported")
)

// FormatError reports malformed or unsupported input at a byte offset of one
// file of the database directory.
type FormatError struct {
	File   string // base name in the directory: "000004.log", "MANIFEST-000005"
	Offset int64  // offset in the file where the offending item starts
	Want   string
	Got    string
	Err    error // ErrTruncated, ErrChecksum, ErrLimit, ErrUnsupported or nil
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("rocksdb: ")
	b.WriteString(e.File)
	b.WriteString(" offset ")
	b.WriteString(strconv.FormatInt(e.Offset, 10))
	b.WriteString(": ")
	switch {
	case e.Want != "" && e.Got != "":
		b.WriteString("expected " + e.Want + ", got " + e.Got)
	case e.Want != "":
		b.WriteString("expected " + e.Want)
	case e.Got != "":
		b.WriteString(e.Got)
	}
	if e.Err != nil {
		if e.Want != "" || e.Got != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

// cursor reads little-endian and varint fields from b, checking every length
// against what is left. base is the file offset of b[0], for error offsets.
type cursor struct {
	file string
	base int64
	b    []byte
	pos  int
}

func (c *cursor) off() int64 { return c.base + int64(c.pos) }
func (c *cursor) left() int  { return len(c.b) - c.pos }

func (c *cursor) errf(want, got string, err error) *FormatError {
	return &FormatError{File: c.file, Offset: c.off(), Want: want, Got: got, Err: err}
}

func (c *cursor) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(c.b[c.pos:])
	if n <= 0 {
		if n == 0 {
			return 0, c.errf(what+" (varint)", "end of data", ErrTruncated)
		}
		return 0, c.errf(what+" (varint of at most 10 bytes)", "an overlong varint", nil)
	}
	c.pos += n
	return v, nil
}

func (c *cursor) uvarint32(what string) (uint32, error) {
	start := c.pos
	v, err := c.uvarint(what)
	if err != nil {
		return 0, err
	}
	if v > 0xFFFFFFFF || c.pos-start > 5 {
		c.pos = start
		return 0, c.errf(what+" (32-bit varint)", "value "+strconv.FormatUint(v, 10), nil)
	}
	return uint32(v), nil
}

func (c *cursor) bytes(n uint64, what string) ([]byte, error) {
	if n > uint64(c.left()) {
		return nil, c.errf(what+" of "+strconv.FormatUint(n, 10)+" bytes", strconv.Itoa(c.left())+" bytes left", ErrTruncated)
	}
	b := c.b[c.pos : c.pos+int(n)]
	c.pos += int(n)
	return b, nil
}

// slice reads a varint32 length and that many bytes (RocksDB's
// length-prefixed Slice).
func (c *cursor) slice(what string) ([]byte, error) {
	n, err := c.uvarint32(what + " length")
	if err != nil {
		return nil, err
	}
	return c.bytes(uint64(n), what)
}
