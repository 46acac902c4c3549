// Package codec reads the records a Spark standalone Master persists for
// recovery (app_, driver_ and worker_ files or znodes) into a typed model:
// it removes any compression envelope, decodes the Java serialization stream
// without a JVM, and maps ApplicationInfo, DriverInfo and WorkerInfo of every
// Spark line from 3.0 (and the shapes of 2.4) to plain Go values whose JSON
// uses the Master's own /json field names.
//
// It does not write records, touch storage or print; Kryo records are
// recognised and reported, not decoded.
package codec

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/codec/javaser"
)

// Kind is what a record describes.
type Kind string

// Record kinds, named as the record name prefixes.
const (
	KindApp    Kind = "app"
	KindDriver Kind = "driver"
	KindWorker Kind = "worker"
)

// Sentinel errors for callers to branch on.
var (
	// ErrKryo: the record was written by Spark's Kryo recovery serializer.
	ErrKryo = envelope.ErrKryo
	// ErrName: the record name has none of the prefixes app_, driver_, worker_.
	ErrName = errors.New("not a recovery record name")
)

// ModelError reports a stream that decodes but does not hold what the Spark
// class should: a missing desc, a field of the wrong type, a record whose
// class does not match its name.
type ModelError struct {
	Record string
	Path   string // field path from the record's root object, e.g. "desc.command.arguments"
	Want   string
	Got    string
}

func (e *ModelError) Error() string {
	p := e.Path
	if p == "" {
		p = "root"
	}
	return fmt.Sprintf("%s: %s: expected %s, got %s", e.Record, p, e.Want, e.Got)
}

// Options tune Decode. The zero value is ready to use.
type Options struct {
	// Codec forces a compression codec ("lz4", "lzf", "snappy", "zstd", as in
	// spark.deploy.recoveryCompressionCodec) instead of sniffing magic bytes.
	Codec string
	// Location is the zone submit dates are printed in, as the Master's JVM
	// default zone does in its JSON; nil means UTC.
	Location *time.Location
	// Java bounds the Java stream decoder; Envelope bounds decompression.
	Java     javaser.Options
	Envelope envelope.Limits
}

// Record is one decoded recovery record.
type Record struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Codec is the compression envelope removed ("" when stored plain).
	Codec string `json:"codec,omitempty"`
	// Serializer is "java" or "kryo".
	Serializer string `json:"serializer"`
	// KryoClass is the class a Kryo record names.
	KryoClass string `json:"kryoclass,omitempty"`
	// Class is the top-level class in the Java stream.
	Class string `json:"class,omitempty"`
	// Trailing is the offset (in the decompressed payload) where bytes after
	// the record's object start, or -1 when the object ends the payload.
	Trailing int `json:"trailing"`
	// TrailingZeros is true when every trailing byte is zero: what the
	// RocksDB engine stores, since it writes the serializer's whole backing
	// array (ByteBufferOutputStream grows by doubling) rather than its used
	// part. Other trailing bytes are not Spark's and deserve a warning.
	TrailingZeros bool `json:"trailingzeros,omitempty"`
	// Size is the payload length after removing the envelope.
	Size    int            `json:"size"`
	Spark   Fingerprint    `json:"spark"`
	App     *App           `json:"app,omitempty"`
	Driver  *Driver        `json:"driver,omitempty"`
	Worker  *Worker        `json:"worker,omitempty"`
	Unknown []UnknownField `json:"unknown,omitempty"`
	Tree    javaser.Value  `json:"-"` // the generic tree, for show --raw
}

// KindOf returns the kind a record name announces.
func KindOf(name string) (Kind, bool) {
	switch {
	case strings.HasPrefix(name, "app_"):
		return KindApp, true
	case strings.HasPrefix(name, "driver_"):
		return KindDriver, true
	case strings.HasPrefix(name, "worker_"):
		return KindWorker, true
	}
	return "", false
}

var kindClass = map[Kind]string{KindApp: classAppInfo, KindDriver: classDriverInfo, KindWorker: classWorkerInfo}

func kindOfClass(class string) (Kind, bool) {
	for k, c := range kindClass {
		if c == class {
			return k, true
		}
	}
	return "", false
}

// Decode reads one stored record. name is the file or znode name (app_...,
// driver_..., worker_...); an empty name lets the class decide the kind.
//
// On error the returned Record, when not nil, holds what was learned (kind,
// codec, serializer: a Kryo record comes back with an error wrapping ErrKryo).
// Errors are *ModelError, a *javaser.FormatError carrying the record name,
// or an envelope error wrapped with the record name.
func Decode(name string, data []byte, opts Options) (*Record, error) {
	return decode(name, data, opts, nil)
}

// Decoder decodes records one after another and reuses the memory of the
// generic tree: the Tree and Unknown values of the Record it returns are
// valid only until its next Decode (the typed App, Driver and Worker hold
// strings of their own). A listing that encodes each record before the
// next one allocates a fraction of what Decode does. A Decoder is not safe
// for concurrent use.
type Decoder struct {
	opts Options
	java javaser.Decoder
}

// NewDecoder returns a Decoder with opts.
func NewDecoder(opts Options) *Decoder { return &Decoder{opts: opts} }

// Decode is the package's Decode, with the reuse described at Decoder.
func (d *Decoder) Decode(name string, data []byte) (*Record, error) {
	return decode(name, data, d.opts, &d.java)
}

func decode(name string, data []byte, opts Options, reuse *javaser.Decoder) (*Record, error) {
	rec := &Record{Name: name, Trailing: -1}
	kind, named := KindOf(name)
	if name != "" && !named {
		return nil, fmt.Errorf("%q: %w", name, ErrName)
	}
	rec.Kind = kind

	var (
		u   envelope.Unwrapped
		err error
	)
	if opts.Codec != "" {
		f, ok := envelope.CodecForm(opts.Codec)
		if !ok {
			return nil, fmt.Errorf("%s: unknown compression codec %q", name, opts.Codec)
		}
		u, err = envelope.OpenAs(f, data, opts.Envelope)
	} else {
		u, err = envelope.Open(data, opts.Envelope)
	}
	if u.Codec.IsCodec() {
		rec.Codec = u.Codec.String()
	}
	if u.Serializer == envelope.FormKryo {
		rec.Serializer = "kryo"
		rec.KryoClass = u.KryoClass
		if k, ok := kindOfClass(u.KryoClass); ok && (rec.Kind == "" || rec.Kind == k) {
			rec.Kind = k
		} else if u.KryoClass != kindClass[rec.Kind] {
			return rec, &ModelError{Record: name, Want: kindClass[rec.Kind], Got: "Kryo " + u.KryoClass}
		}
	}
	if err != nil {
		return rec, fmt.Errorf("%s: %w", name, err)
	}
	rec.Serializer = "java"
	rec.Size = len(u.Payload)

	jopts := opts.Java
	jopts.Record = name
	var (
		root javaser.Value
		end  int
	)
	java := reuse
	if java != nil {
		java.Reset(u.Payload, jopts)
	} else {
		java = javaser.NewDecoder(u.Payload, jopts)
	}
	root, end, err = java.DecodeRecord()
	if err != nil {
		if rec.Codec != "" {
			return rec, fmt.Errorf("%w (offset into the decompressed %s payload)", err, rec.Codec)
		}
		return rec, err
	}
	rec.Tree = root
	if end < len(u.Payload) {
		rec.Trailing = end
		rec.TrailingZeros = true
		for _, c := range u.Payload[end:] {
			if c != 0 {
				rec.TrailingZeros = false
				break
			}
		}
	}
	o, _ := root.(*javaser.Object)
	if o != nil {
		rec.Class = o.ClassName()
	}
	k, ok := kindOfClass(rec.Class)
	if !ok || (rec.Kind != "" && k != rec.Kind) {
		want := kindClass[rec.Kind]
		if want == "" {
			want = "ApplicationInfo, DriverInfo or WorkerInfo"
		}
		return rec, &ModelError{Record: name, Want: want, Got: describe(root)}
	}
	rec.Kind = k
	rec.Spark = fingerprint(java.ClassDescs, o, rec.Codec != "")

	b := &builder{rec: name, loc: opts.Location}
	switch k {
	case KindApp:
		rec.App = b.app(root)
	case KindDriver:
		rec.Driver = b.driver(root)
	case KindWorker:
		rec.Worker = b.worker(root)
	}
	rec.Unknown = b.unknown
	if b.err != nil {
		return rec, b.err
	}
	return rec, nil
}

// IDZoneOffset infers the UTC offset of the Master's JVM default time zone,
// the zone its JSON prints submit dates in, from an app or driver record:
// the Master stamps the id (app-yyyyMMddHHmmss-NNNN, formatted in that zone)
// and submitDate from the same instant. ok is false for workers (their ids
// come from the worker's clock), and for ids without a 14-digit timestamp
// (a custom spark.deploy.appIdPattern).
func (r *Record) IDZoneOffset() (offset time.Duration, ok bool) {
	var id string
	var ms int64
	switch {
	case r.App != nil:
		id, ms = r.App.ID, r.App.SubmitDateMs
	case r.Driver != nil:
		id, ms = r.Driver.ID, r.Driver.SubmitDateMs
	default:
		return 0, false
	}
	stamp := ""
	for i := 0; i+14 <= len(id); i++ {
		j := i
		for j < len(id) && id[j] >= '0' && id[j] <= '9' {
			j++
		}
		if j-i == 14 {
			stamp = id[i:j]
			break
		}
		if j > i {
			i = j
		}
	}
	if stamp == "" {
		return 0, false
	}
	wall, err := time.ParseInLocation("20060102150405", stamp, time.UTC)
	if err != nil {
		return 0, false
	}
	offset = wall.Sub(time.UnixMilli(ms).UTC().Truncate(time.Second))
	if offset%time.Minute != 0 || offset > 18*time.Hour || offset < -18*time.Hour {
		return 0, false
	}
	return offset, true
}
