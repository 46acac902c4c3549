package migrate

import (
	"errors"
	"fmt"

	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/store"
)

// Serializer names, as spark.deploy.recoverySerializer takes them (lower case).
const (
	SerializerJava = "java"
	SerializerKryo = "kryo"
)

// plain names the absence of a codec in conversions ("lz4 -> plain").
const plain = "plain"

// unconvertibleError is why a source record cannot be written to the target.
type unconvertibleError struct{ reason string }

func (e *unconvertibleError) Error() string { return e.reason }

func codecForm(name string) (envelope.Form, error) {
	if f, ok := envelope.CodecForm(name); ok {
		return f, nil
	}
	return envelope.FormUnknown, fmt.Errorf("unknown compression codec %q (want lz4, lzf, snappy or zstd)", name)
}

// unwrap removes the framing of a stored record: as codec when the store's
// Master is configured with one (exactly what that Master would read),
// else by magic bytes. It returns the codec found ("" for none), the
// serializer's bytes and the serializer.
func unwrap(data []byte, codec string, lim envelope.Limits) (string, []byte, string, error) {
	var u envelope.Unwrapped
	var err error
	if codec != "" {
		f, ferr := codecForm(codec)
		if ferr != nil {
			return "", nil, "", ferr
		}
		u, err = envelope.OpenAs(f, data, lim)
	} else {
		u, err = envelope.Open(data, lim)
	}
	var kerr *envelope.KryoError
	if err != nil && !errors.As(err, &kerr) {
		return "", nil, "", err
	}
	found := ""
	if u.Codec.IsCodec() {
		found = u.Codec.String()
	}
	switch u.Serializer {
	case envelope.FormJava:
		return found, u.Payload, SerializerJava, nil
	case envelope.FormKryo:
		return found, u.Payload, SerializerKryo, nil
	}
	return found, u.Payload, "", fmt.Errorf("%w: neither Java nor Kryo serialization", envelope.ErrUnknownForm)
}

// converted is a source record made ready for the target.
type converted struct {
	data    []byte // what the target stores
	payload []byte // the serializer's bytes
	from    string // source codec or plain
	to      string // target codec or plain
}

// convert turns a source record into the bytes the target's Master reads:
// codec framing removed, then added again when the target compresses.
// The serializer is never changed: Java and Kryo records only go to a
// target whose Master uses the same serializer.
func convert(rec store.Record, opts *Options) (converted, error) {
	from, payload, ser, err := unwrap(rec.Data, opts.SourceCodec, opts.Limits)
	if err != nil {
		if opts.SourceCodec != "" {
			return converted{}, &unconvertibleError{fmt.Sprintf("not readable with the source codec %s: %v", opts.SourceCodec, err)}
		}
		return converted{}, &unconvertibleError{fmt.Sprintf("not a Spark record: %v", err)}
	}
	want := opts.TargetSerializer
	if want == "" {
		want = SerializerJava
	}
	if ser != want {
		return converted{}, &unconvertibleError{fmt.Sprintf("%s-serialized, but the target Master uses %s serialization (spark.deploy.recoverySerializer)", ser, want)}
	}
	c := converted{data: payload, payload: payload, from: plain, to: plain}
	if from != "" {
		c.from = from
	}
	if opts.TargetCodec != "" {
		c.to = opts.TargetCodec
		if from == opts.TargetCodec {
			// Already framed as the target reads it: copy as is, so a
			// Spark-written file stays byte-identical.
			c.data = rec.Data
		} else if c.data, err = envelope.Wrap(opts.TargetCodec, payload); err != nil {
			return converted{}, err
		}
	}
	return c, nil
}

// Conversion says what convert does to the bytes: "" when they are copied
// as they are.
func (c converted) conversion() string {
	if c.from == c.to {
		return ""
	}
	return c.from + " -> " + c.to
}
