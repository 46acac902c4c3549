// Package diff compares the Spark records of two recovery stores or
// archives: which records exist on one side only, which are identical, and
// for those that differ whether only their bytes do (another codec framing,
// trailing padding) or which decoded fields, with both values. It reads
// through store.Reader only; the command picks and opens the stores. It
// changes nothing and prints nothing.
//
// Foreign entries (names that are no Spark record) are counted, not
// compared: an archive keeps them only when prune made it, so comparing
// them would report every store against its own backup as different.
package diff

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/store"
)

// MaxFields bounds the field differences reported for one record: two
// records of unrelated apps differ in every command argument, and a
// person needs the first ones, not thousands.
const MaxFields = 64

// Side is one of the two things compared.
type Side struct {
	Reader store.Reader
	// Codec forces spark.deploy.recoveryCompressionCodec for decoding this
	// side ("" sniffs the magic bytes, as codec.Decode does).
	Codec string
}

// Entry is a record found on one side only.
type Entry struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Size int64  `json:"size"`
}

// Field is one decoded field whose values differ. Path uses the Master's
// /json field names ("command.arguments[2]", "resources.gpu.addresses[0]");
// A or B is absent (nil) where the field exists on one side only, such as
// an element past the end of the shorter list.
type Field struct {
	Path string          `json:"path"`
	A    json.RawMessage `json:"a,omitempty"`
	B    json.RawMessage `json:"b,omitempty"`
}

// Difference is a record on both sides with different bytes.
type Difference struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// SizeA, CodecA (the compression envelope, "" for none) and
	// SerializerA describe side A's bytes; the B fields side B's.
	SizeA       int64  `json:"sizea"`
	SizeB       int64  `json:"sizeb"`
	CodecA      string `json:"codeca"`
	CodecB      string `json:"codecb"`
	SerializerA string `json:"serializera,omitempty"`
	SerializerB string `json:"serializerb,omitempty"`
	// BytesOnly is true when both sides decode to the same content.
	BytesOnly bool `json:"bytesonly"`
	// Fields are the decoded fields that differ, in path order, at most
	// MaxFields; MoreFields counts those left out.
	Fields     []Field `json:"fields"`
	MoreFields int     `json:"morefields,omitempty"`
	// UndecodableA and UndecodableB say why a side could not be decoded;
	// then only the bytes are known to differ.
	UndecodableA string `json:"undecodablea,omitempty"`
	UndecodableB string `json:"undecodableb,omitempty"`
}

// Result is what Compare found. Slices are sorted by name and never nil,
// so that scripts always find arrays.
type Result struct {
	A         string       `json:"a"`
	B         string       `json:"b"`
	OnlyA     []Entry      `json:"onlya"`
	OnlyB     []Entry      `json:"onlyb"`
	Differ    []Difference `json:"differ"`
	Identical int          `json:"identical"`
	ForeignA  int          `json:"foreigna"`
	ForeignB  int          `json:"foreignb"`
}

// Equal reports whether both sides hold the same Spark records, byte for
// byte.
func (r *Result) Equal() bool {
	return len(r.OnlyA) == 0 && len(r.OnlyB) == 0 && len(r.Differ) == 0
}

type seen struct {
	entry store.Entry
	sum   [32]byte
}

// digest reads every Spark record of one side, keeping only its SHA-256:
// a record's bytes are read a second time only when the other side has
// different ones, so memory follows the differences, not the stores.
func digest(ctx context.Context, s Side) (map[string]seen, int, error) {
	out := map[string]seen{}
	foreign := 0
	err := s.Reader.Scan(ctx, store.ScanRequest{}, func(rec store.Record, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", rec.Name, err)
		}
		if rec.Kind == store.KindForeign {
			foreign++
			return nil
		}
		out[rec.Name] = seen{entry: rec.Entry, sum: sha256.Sum256(rec.Data)}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("diff: %s: %w", s.Reader, err)
	}
	return out, foreign, nil
}

// fetch reads the named records of one side.
func fetch(ctx context.Context, s Side, names []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(names))
	if len(names) == 0 {
		return out, nil
	}
	err := s.Reader.Scan(ctx, store.ScanRequest{Names: names}, func(rec store.Record, err error) error {
		if err != nil {
			// Gone between the two passes: the store changed under us.
			return fmt.Errorf("read %s again: %w", rec.Name, err)
		}
		out[rec.Name] = rec.Data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("diff: %s: %w", s.Reader, err)
	}
	return out, nil
}

// Compare reads both sides and reports how their Spark records differ.
func Compare(ctx context.Context, a, b Side) (*Result, error) {
	da, fa, err := digest(ctx, a)
	if err != nil {
		return nil, err
	}
	db, fb, err := digest(ctx, b)
	if err != nil {
		return nil, err
	}
	res := &Result{A: a.Reader.String(), B: b.Reader.String(), OnlyA: []Entry{}, OnlyB: []Entry{}, Differ: []Difference{}, ForeignA: fa, ForeignB: fb}
	var changed []string
	for name, sa := range da {
		sb, ok := db[name]
		switch {
		case !ok:
			res.OnlyA = append(res.OnlyA, Entry{Name: name, Kind: sa.entry.Kind.String(), Size: sa.entry.Size})
		case sa.sum == sb.sum:
			res.Identical++
		default:
			changed = append(changed, name)
		}
	}
	for name, sb := range db {
		if _, ok := da[name]; !ok {
			res.OnlyB = append(res.OnlyB, Entry{Name: name, Kind: sb.entry.Kind.String(), Size: sb.entry.Size})
		}
	}
	sort.Slice(res.OnlyA, func(i, j int) bool { return res.OnlyA[i].Name < res.OnlyA[j].Name })
	sort.Slice(res.OnlyB, func(i, j int) bool { return res.OnlyB[i].Name < res.OnlyB[j].Name })
	slices.Sort(changed)
	ba, err := fetch(ctx, a, changed)
	if err != nil {
		return nil, err
	}
	bb, err := fetch(ctx, b, changed)
	if err != nil {
		return nil, err
	}
	for _, name := range changed {
		dataA, okA := ba[name]
		dataB, okB := bb[name]
		if !okA || !okB || bytes.Equal(dataA, dataB) {
			return nil, fmt.Errorf("diff: %s changed while it was compared", name)
		}
		res.Differ = append(res.Differ, Record(name, dataA, dataB, a.Codec, b.Codec))
	}
	return res, nil
}

// Record compares one record's two byte strings (which differ) by their
// decoded content. codecA and codecB force a side's compression codec as
// Side.Codec does.
func Record(name string, a, b []byte, codecA, codecB string) Difference {
	kind, _ := store.ParseName(name)
	d := Difference{Name: name, Kind: kind.String(), SizeA: int64(len(a)), SizeB: int64(len(b)), Fields: []Field{}}
	ra, errA := codec.Decode(name, a, codec.Options{Codec: codecA})
	rb, errB := codec.Decode(name, b, codec.Options{Codec: codecB})
	if ra != nil {
		d.CodecA, d.SerializerA = ra.Codec, ra.Serializer
	}
	if rb != nil {
		d.CodecB, d.SerializerB = rb.Codec, rb.Serializer
	}
	if errA != nil {
		d.UndecodableA = errA.Error()
	}
	if errB != nil {
		d.UndecodableB = errB.Error()
	}
	if errA != nil || errB != nil {
		return d
	}
	va, errA := model(ra)
	vb, errB := model(rb)
	if errA != nil || errB != nil {
		d.UndecodableA, d.UndecodableB = errText(errA), errText(errB)
		return d
	}
	w := walker{}
	w.compare("", va, vb)
	d.Fields, d.MoreFields = w.fields, w.more
	if d.Fields == nil {
		d.Fields = []Field{}
	}
	d.BytesOnly = len(d.Fields) == 0 && d.MoreFields == 0
	return d
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var errNoModel = errors.New("decoded record has no app, driver or worker")

// model is a decoded record's typed value as generic JSON, under the
// Master's /json names: the common ground of two records whatever their
// releases, codecs and serializers.
func model(r *codec.Record) (any, error) {
	var v any
	switch {
	case r.App != nil:
		v = r.App
	case r.Driver != nil:
		v = r.Driver
	case r.Worker != nil:
		v = r.Worker
	default:
		return nil, errNoModel
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.Name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // int64 times and ids stay exact
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.Name, err)
	}
	return out, nil
}

type walker struct {
	fields []Field
	more   int
}

func (w *walker) add(path string, a, b any, hasA, hasB bool) {
	if len(w.fields) >= MaxFields {
		w.more++
		return
	}
	f := Field{Path: path}
	if hasA {
		f.A = raw(a)
	}
	if hasB {
		f.B = raw(b)
	}
	w.fields = append(w.fields, f)
}

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Values come from json.Decoder, so they always encode again.
		return json.RawMessage(`null`)
	}
	return b
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// compare walks two generic JSON values in key order and records each
// leaf (or mismatched subtree) that differs. Depth is bounded by the
// typed model, which has no recursive types.
func (w *walker) compare(path string, a, b any) {
	switch va := a.(type) {
	case map[string]any:
		vb, ok := b.(map[string]any)
		if !ok {
			w.add(path, a, b, true, true)
			return
		}
		keys := make([]string, 0, len(va)+len(vb))
		for k := range va {
			keys = append(keys, k)
		}
		for k := range vb {
			if _, ok := va[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			xa, okA := va[k]
			xb, okB := vb[k]
			if okA && okB {
				w.compare(join(path, k), xa, xb)
			} else {
				w.add(join(path, k), xa, xb, okA, okB)
			}
		}
	case []any:
		vb, ok := b.([]any)
		if !ok {
			w.add(path, a, b, true, true)
			return
		}
		for i := range max(len(va), len(vb)) {
			p := path + "[" + strconv.Itoa(i) + "]"
			switch {
			case i < len(va) && i < len(vb):
				w.compare(p, va[i], vb[i])
			case i < len(va):
				w.add(p, va[i], nil, true, false)
			default:
				w.add(p, nil, vb[i], false, true)
			}
		}
	default:
		if !scalarEqual(a, b) {
			w.add(path, a, b, true, true)
		}
	}
}

func scalarEqual(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}
