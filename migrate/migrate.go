// Package migrate plans the copy of Spark standalone recovery state into a
// store: from another store (a FILESYSTEM directory into ZooKeeper when a
// single Master becomes highly available, and any other pairing) or from
// an archive (a restore is a migration whose source is an archive). The
// plan engine (package plan) applies what it plans.
//
// Records are converted to what the target's Master reads (the codec
// framing of spark.deploy.recoveryCompressionCodec is removed for
// ZooKeeper, added for a directory whose Master compresses); their
// serialized objects are never changed. The source is never changed and
// foreign entries are never copied.
package migrate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
)

// Options say what the two stores' Masters expect.
type Options struct {
	// SourceCodec is the source directory Master's
	// spark.deploy.recoveryCompressionCodec; "" detects each record's
	// framing from its magic bytes.
	SourceCodec string
	// TargetCodec compresses records written into a directory whose Master
	// has spark.deploy.recoveryCompressionCodec; "" writes them plain (the
	// only form ZooKeeper's engine reads).
	TargetCodec string
	// TargetSerializer is the target Master's recovery serializer,
	// SerializerJava (default) or SerializerKryo. Records are never
	// re-serialized; others are Unconvertible.
	TargetSerializer string
	// Overwrite replaces target records whose payload differs.
	Overwrite bool
	// SkipUnconvertible leaves unconvertible records behind (reported)
	// instead of refusing the migration.
	SkipUnconvertible bool
	// Limits bound decompression of untrusted records.
	Limits envelope.Limits
}

func (o *Options) check() error {
	for _, c := range []string{o.SourceCodec, o.TargetCodec} {
		if c != "" {
			if _, err := codecForm(c); err != nil {
				return err
			}
		}
	}
	switch o.TargetSerializer {
	case "", SerializerJava, SerializerKryo:
		return nil
	}
	return fmt.Errorf("target serializer %q: want java or kryo", o.TargetSerializer)
}

// Source is a store read as a migration's source: it supplies each record
// converted for the target.
type Source struct {
	r    store.Reader
	opts Options
	pay  payloads
}

// Supply reads names from the source store, converts each, and hands
// them to fn in order.
func (s *Source) Supply(ctx context.Context, names []string, fn func(store.Record) error) error {
	return store.ScanOrdered(ctx, s.r, names, func(rec store.Record, err error) error {
		if err != nil {
			return fmt.Errorf("read source %s: %w", rec.Name, err)
		}
		c, err := convert(rec, &s.opts)
		if err != nil {
			return fmt.Errorf("%s: %w", rec.Name, plan.ErrSourceChanged)
		}
		return fn(store.Record{Entry: store.Entry{Name: rec.Name, Kind: rec.Kind, ID: rec.ID, Size: int64(len(c.data)), Version: -1}, Data: c.data})
	})
}

// Same says whether data, as stored in the target, is what the step
// writes: the same bytes, or the same payload in the framing the target's
// Master reads.
func (s *Source) Same(st *plan.Step, data []byte) bool {
	same, _ := sameRecordPayload(data, st, s.pay[st.Name], &s.opts)
	return same
}

// planned is what planning learnt about one source record.
type planned struct {
	name       string
	vanished   bool // listed, then gone
	unconv     bool
	reason     string // why it is unconvertible
	size       int64
	conversion string
	targetSize int64
	sum        [32]byte
	payload    [32]byte
}

// payloads keeps, per step, the SHA-256 of the serializer's bytes, so that
// a target record in another framing is recognised as the same.
type payloads map[string][32]byte

// Plan reads every Spark record of src, converts it as opts say, and
// compares it with what dst holds under the same name. Payloads are
// compared after removing both sides' framing, so a record compressed by
// Spark and the same record compressed by this package are identical.
// Memory holds the entry lists and hashes, not the records.
func Plan(ctx context.Context, src store.Reader, dst store.Store, opts Options, progress plan.Progress) (*plan.Plan, *Source, error) {
	if err := opts.check(); err != nil {
		return nil, nil, fmt.Errorf("migration plan: %w", err)
	}
	p := &plan.Plan{Source: src.String(), Target: dst.String(), SkipUnconvertible: opts.SkipUnconvertible}
	srcEntries, err := src.List(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("migration plan: list source %s: %w", src, err)
	}
	index := make(map[string]int)
	var names []string
	for _, e := range srcEntries {
		if e.Kind == store.KindForeign {
			p.Foreign = append(p.Foreign, e.Name)
			continue
		}
		if _, dup := index[e.Name]; dup {
			return nil, nil, fmt.Errorf("migration plan: source lists %s twice", e.Name)
		}
		index[e.Name] = len(p.Steps)
		names = append(names, e.Name)
		p.Steps = append(p.Steps, plan.Step{Name: e.Name, Kind: e.Kind, Size: e.Size, DestSize: -1})
	}
	pay := payloads{}
	var vanished []string
	done := 0
	err = store.ScanOrdered(ctx, src, names, func(rec store.Record, err error) error {
		r, err := planRecord(rec, err, &opts)
		if err != nil {
			return err
		}
		st := &p.Steps[index[r.name]]
		done++
		progress.Report(plan.Event{Phase: plan.PhasePlan, Record: r.name, Done: done, Total: len(names)})
		switch {
		case r.vanished:
			vanished = append(vanished, r.name)
		case r.unconv:
			st.Size, st.Action, st.Reason = r.size, plan.Unconvertible, r.reason
		default:
			st.Size, st.Conversion, st.TargetSize, st.Sum = r.size, r.conversion, r.targetSize, r.sum
			pay[r.name] = r.payload
			st.Action = plan.Create
			tooLarge(st, dst)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("migration plan: %w", err)
	}
	// A record listed and then gone is left out: the Master that removed
	// it (finished app, dead worker) would not recover it either.
	if len(vanished) > 0 {
		p.Steps = slices.DeleteFunc(p.Steps, func(s plan.Step) bool { return slices.Contains(vanished, s.Name) })
	}
	s := &Source{r: src, opts: opts, pay: pay}
	if err := compareTarget(ctx, p, dst, func(st *plan.Step, data []byte) (bool, string) {
		return sameRecordPayload(data, st, pay[st.Name], &opts)
	}, opts.Overwrite, progress); err != nil {
		return nil, nil, fmt.Errorf("migration plan: %w", err)
	}
	return p, s, nil
}

// tooLarge marks a step whose record the target cannot take at all, so
// that it is refused in the plan rather than half-way.
func tooLarge(st *plan.Step, dst store.Store) {
	op := store.Op{Kind: store.OpCreate, Record: store.Record{Entry: store.Entry{Name: st.Name}}}
	if c := dst.Cost(op) + int(st.TargetSize); c > dst.MaxChange() {
		st.Action = plan.TooLarge
		st.Reason = fmt.Sprintf("%d bytes to write; %s takes at most %d in one change", st.TargetSize, dst, dst.MaxChange())
	}
}

// compareTarget reads the target's records under the names the plan
// creates and decides for each: identical (left alone), differs (refused)
// or overwrite.
func compareTarget(ctx context.Context, p *plan.Plan, dst store.Store, same func(*plan.Step, []byte) (bool, string), overwrite bool, progress plan.Progress) error {
	dstEntries, err := dst.List(ctx)
	if err != nil {
		return fmt.Errorf("list target %s: %w", dst, err)
	}
	inTarget := make(map[string]bool, len(dstEntries))
	for _, e := range dstEntries {
		inTarget[e.Name] = true
	}
	index := make(map[string]int, len(p.Steps))
	var both []string
	for i, st := range p.Steps {
		index[st.Name] = i
		if inTarget[st.Name] {
			both = append(both, st.Name)
			delete(inTarget, st.Name)
		}
	}
	for name := range inTarget {
		if k, _ := store.ParseName(name); k != store.KindForeign {
			p.Extra++
		}
	}
	return dst.Scan(ctx, store.ScanRequest{Names: both}, func(rec store.Record, err error) error {
		st := &p.Steps[index[rec.Name]]
		if errors.Is(err, store.ErrNotFound) {
			return nil // gone since List: create it
		}
		if err != nil {
			return fmt.Errorf("read target %s: %w", rec.Name, err)
		}
		st.DestSize = int64(len(rec.Data))
		st.Seen = plan.SeenOf(rec, sha256.Sum256(rec.Data))
		if st.Action != plan.Create && st.Action != plan.TooLarge {
			return nil // unconvertible: refused whatever the target holds
		}
		ok, why := same(st, rec.Data)
		switch {
		case ok:
			st.Action, st.Reason = plan.Identical, ""
		case overwrite:
			st.Action, st.Reason = plan.Overwrite, why
		default:
			st.Action, st.Reason = plan.Differs, why
		}
		return nil
	})
}

// planRecord converts one source record and hashes the result.
func planRecord(rec store.Record, err error, opts *Options) (planned, error) {
	r := planned{name: rec.Name}
	if errors.Is(err, store.ErrNotFound) {
		r.vanished = true
		return r, nil
	}
	if err != nil && (errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return r, fmt.Errorf("read source %s: %w", rec.Name, err)
	}
	if err != nil {
		// The record is listed but cannot be read (a file the user may not
		// read, a FIFO, a znode the ACL refuses): it cannot be carried,
		// and the plan says so rather than leaving it out.
		r.unconv, r.reason = true, "cannot be read: "+err.Error()
		return r, nil
	}
	r.size = int64(len(rec.Data))
	c, err := convert(rec, opts)
	var uerr *unconvertibleError
	if errors.As(err, &uerr) {
		r.unconv, r.reason = true, uerr.reason
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("convert %s: %w", rec.Name, err)
	}
	r.conversion = c.conversion()
	r.targetSize = int64(len(c.data))
	r.sum = sha256.Sum256(c.data)
	r.payload = sha256.Sum256(c.payload)
	return r, nil
}

// sameRecordPayload says whether data, as stored in the target, is what
// the step would write: the same bytes, or the same payload in the
// framing the target's Master reads.
func sameRecordPayload(data []byte, st *plan.Step, payload [32]byte, opts *Options) (bool, string) {
	if sha256.Sum256(data) == st.Sum {
		return true, ""
	}
	found, got, _, err := unwrap(data, "", opts.Limits)
	if err != nil {
		return false, fmt.Sprintf("target holds something else (%v)", err)
	}
	if sha256.Sum256(got) != payload {
		return false, "target holds a different record under this name"
	}
	if found != opts.TargetCodec {
		return false, fmt.Sprintf("target holds the same record framed as %s, its Master reads %s", orPlain(found), orPlain(opts.TargetCodec))
	}
	return true, ""
}

func orPlain(codec string) string {
	if codec == "" {
		return plain
	}
	return codec
}
