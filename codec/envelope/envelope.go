// Package envelope recognises the outer form of a Spark standalone Master recovery record
// (Java serialization, Kryo, or one of the compression codecs Spark 4.x can put around
// FILESYSTEM records) and removes the codec framing, giving the serializer's bytes.
//
// It does not decode the serialized objects themselves; that is the job of the Java
// serialization reader. Kryo records are recognised and their class name reported, but
// not decoded.
//
// Every length read from the input is checked against the remaining input and against
// Limits before anything is allocated, because recovery directories are read from
// machines whose state we are trying to repair, and a bad file must not take the tool down.
package envelope

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Form names what a byte sequence is.
type Form int

const (
	FormUnknown Form = iota
	FormJava         // java.io.ObjectOutputStream, AC ED 00 05
	FormKryo         // Kryo writeClassAndObject of an unregistered class
	FormLZ4          // lz4-java LZ4BlockOutputStream blocks ("LZ4Block")
	FormLZF          // compress-lzf chunks ("ZV")
	FormSnappy       // snappy-java SnappyOutputStream (0x82 "SNAPPY" 0x00 header)
	FormZstd         // Zstandard frames (zstd-jni)
)

var formNames = [...]string{"unknown", "java", "kryo", "lz4", "lzf", "snappy", "zstd"}

func (f Form) String() string {
	if f < 0 || int(f) >= len(formNames) {
		return fmt.Sprintf("Form(%d)", int(f))
	}
	return formNames[f]
}

// CodecForm is the one table of Spark's compression codec names: the
// framing of the codec that spark.deploy.recoveryCompressionCodec names,
// by its short name (lz4, lzf, snappy, zstd) or its class
// (org.apache.spark.io.LZ4CompressionCodec), in any case.
func CodecForm(name string) (Form, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if short, ok := strings.CutPrefix(n, "org.apache.spark.io."); ok {
		n, ok = strings.CutSuffix(short, "compressioncodec")
		if !ok {
			return FormUnknown, false
		}
	}
	for f := FormLZ4; f <= FormZstd; f++ {
		if formNames[f] == n {
			return f, true
		}
	}
	return FormUnknown, false
}

// IsCodec reports whether f is a compression framing rather than a serialization.
func (f Form) IsCodec() bool { return f >= FormLZ4 && f <= FormZstd }

// Magic bytes of each form.
var (
	magicJava   = []byte{0xAC, 0xED, 0x00, 0x05}
	magicLZ4    = []byte("LZ4Block")
	magicLZF    = []byte("ZV")
	magicSnappy = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00}
	magicZstd   = []byte{0x28, 0xB5, 0x2F, 0xFD}
)

// Detect names the outermost form of data from its first bytes. It does not validate
// anything past the marker; Open does.
func Detect(data []byte) Form {
	switch {
	case bytes.HasPrefix(data, magicJava):
		return FormJava
	case bytes.HasPrefix(data, magicLZ4):
		return FormLZ4
	case bytes.HasPrefix(data, magicSnappy):
		return FormSnappy
	case bytes.HasPrefix(data, magicZstd):
		return FormZstd
	case len(data) >= 3 && bytes.HasPrefix(data, magicLZF) && data[2] <= lzfTypeCompressed:
		return FormLZF
	}
	if _, ok := KryoClass(data); ok {
		return FormKryo
	}
	return FormUnknown
}

// Limits bound the work Open does on untrusted input.
type Limits struct {
	// MaxSize caps the decompressed size in bytes. Zero means DefaultMaxSize.
	MaxSize int64
	// MaxRatio caps the decompressed size at MaxRatio times the stored size (but never
	// below RatioFloor). Zero means DefaultMaxRatio; negative disables the ratio cap.
	MaxRatio int64
}

const (
	// DefaultMaxSize is far above any real record: a Master keeps a record per application,
	// driver and worker, and even an application with thousands of executors serializes to
	// a few hundred KiB.
	DefaultMaxSize = 64 << 20
	// DefaultMaxRatio: Java serialization already replaces repeated objects and strings by
	// back-references, so real records compress by well under 20:1 (the samples here: 1.2
	// to 3.5:1). lz4, lzf and snappy cannot exceed about 255:1 by construction; only zstd
	// (RLE blocks) can go to thousands, which is what a bomb uses.
	DefaultMaxRatio = 256
	// RatioFloor keeps the ratio cap from refusing small records, where a fixed header
	// overhead makes ratios meaningless.
	RatioFloor = 1 << 20
)

// capFor returns the decompressed-size cap for n stored bytes.
func (l Limits) capFor(n int) int64 {
	max := l.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	ratio := l.MaxRatio
	if ratio == 0 {
		ratio = DefaultMaxRatio
	}
	if ratio > 0 {
		byRatio := int64(n) * ratio
		if byRatio < RatioFloor {
			byRatio = RatioFloor
		}
		if byRatio < max {
			max = byRatio
		}
	}
	return max
}

func (l Limits) maxSize() int64 {
	if l.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return l.MaxSize
}

// Sentinel errors; test with errors.Is.
var (
	ErrUnknownForm = errors.New("unknown record form")
	//lint:ignore ST1005 Kryo is a name; the text is what a user reads for a Kryo record
	ErrKryo      = errors.New("Kryo serialization (spark.deploy.recoverySerializer=KRYO): not decoded field by field")
	ErrLimit     = errors.New("decompressed size limit exceeded")
	ErrTruncated = errors.New("truncated")
	ErrChecksum  = errors.New("checksum mismatch")
	ErrCorrupt   = errors.New("corrupt data")
)

// FormatError reports malformed input at an offset into the stored bytes.
type FormatError struct {
	Offset int64
	Want   string // what was expected, if known
	Got    string // what was found, if known
	Err    error  // what went wrong; wraps a sentinel
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("offset %d: %v", e.Offset, e.Err)
	if e.Want != "" || e.Got != "" {
		s += fmt.Sprintf(", want %s, got %s", e.Want, e.Got)
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(off int, want, got string, format string, args ...any) *FormatError {
	return &FormatError{Offset: int64(off), Want: want, Got: got, Err: fmt.Errorf(format, args...)}
}

// KryoError is returned for a Kryo-serialized record; it wraps ErrKryo.
type KryoError struct {
	Class string // the class name Kryo wrote, e.g. org.apache.spark.deploy.master.WorkerInfo
}

func (e *KryoError) Error() string { return e.Class + ": " + ErrKryo.Error() }
func (e *KryoError) Unwrap() error { return ErrKryo }

// Unwrapped is the result of Open.
type Unwrapped struct {
	// Codec is the compression framing that was removed, or FormUnknown when the record
	// was stored uncompressed.
	Codec Form
	// Serializer is FormJava, FormKryo, or FormUnknown if the payload has no known marker.
	Serializer Form
	// KryoClass is the class name of a Kryo record.
	KryoClass string
	// Payload is the serializer's bytes. When the record was not compressed it aliases
	// the input.
	Payload []byte
}

// Open removes any codec framing from a stored record (several concatenated streams of
// one codec are accepted, as Spark's input streams do) and identifies the serializer.
//
// For a Kryo record it returns the filled Unwrapped together with a *KryoError. For a
// payload with no known serializer marker it returns the Unwrapped with an error wrapping
// ErrUnknownForm.
func Open(data []byte, lim Limits) (Unwrapped, error) {
	if len(data) == 0 {
		return Unwrapped{}, formatErr(0, "", "", "empty record: %w", ErrTruncated)
	}
	f := Detect(data)
	if f == FormUnknown {
		if m := prefixOfMagic(data); m != "" {
			return Unwrapped{}, formatErr(len(data), m, "end of data", "%s marker: %w", m, ErrTruncated)
		}
		return Unwrapped{}, &FormatError{Want: "a known record form", Got: hexPrefix(data), Err: ErrUnknownForm}
	}
	if !f.IsCodec() {
		return identify(Unwrapped{Payload: data})
	}
	return OpenAs(f, data, lim)
}

// OpenAs removes the framing of codec c (from spark.deploy.recoveryCompressionCodec) from
// data without sniffing it. An empty data is a valid empty stream for codecs whose writer
// emits nothing for one (lzf).
func OpenAs(c Form, data []byte, lim Limits) (Unwrapped, error) {
	capacity := lim.capFor(len(data))
	var (
		p   []byte
		err error
	)
	switch c {
	case FormLZ4:
		p, err = openLZ4(data, capacity)
	case FormLZF:
		p, err = openLZF(data, capacity)
	case FormSnappy:
		p, err = openSnappy(data, capacity)
	case FormZstd:
		p, err = openZstd(data, capacity, lim.maxSize())
	default:
		return Unwrapped{}, &FormatError{Want: "a codec", Got: c.String(), Err: ErrUnknownForm}
	}
	if err != nil {
		return Unwrapped{Codec: c}, err
	}
	return identify(Unwrapped{Codec: c, Payload: p})
}

func identify(u Unwrapped) (Unwrapped, error) {
	if bytes.HasPrefix(u.Payload, magicJava) {
		u.Serializer = FormJava
		return u, nil
	}
	if name, ok := KryoClass(u.Payload); ok {
		u.Serializer = FormKryo
		u.KryoClass = name
		return u, &KryoError{Class: name}
	}
	if len(u.Payload) == 0 {
		return u, nil
	}
	return u, &FormatError{Want: "Java or Kryo serialization", Got: hexPrefix(u.Payload),
		Err: fmt.Errorf("%s payload: %w", u.Codec, ErrUnknownForm)}
}

// prefixOfMagic names the form whose marker data is a proper prefix of, so that a
// record cut short inside its marker reads as truncated rather than unknown.
func prefixOfMagic(data []byte) string {
	for _, m := range []struct {
		name  string
		magic []byte
	}{{"java", magicJava}, {"lz4", magicLZ4}, {"snappy", magicSnappy}, {"zstd", magicZstd}, {"lzf", magicLZF}} {
		if len(data) < len(m.magic) && bytes.HasPrefix(m.magic, data) {
			return m.name
		}
	}
	return ""
}

func hexPrefix(b []byte) string {
	if len(b) > 8 {
		return fmt.Sprintf("% x ...", b[:8])
	}
	return fmt.Sprintf("% x", b)
}
