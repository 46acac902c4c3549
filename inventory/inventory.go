// Package inventory reads every entry of a recovery store and decodes it:
// the data behind `recoverctl ls`, `show` and `status`. It joins store (where
// bytes live) and codec (what they mean) and prints nothing; the command
// picks a printer.
package inventory

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"

	gojson "github.com/goccy/go-json"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/store"
)

// Source is what an inventory reads: any store.
type Source = store.Reader

// Item is one Spark record: where it is, and what it decoded to or why not.
type Item struct {
	store.Entry
	Record  *codec.Record // nil when nothing could be decoded, or when kept as JSON (Options.Encode)
	Err     error         // nil when the record decoded completely
	encoded span          // Options.Encode: where the record's JSON is (Inventory.Encoded)
	time    int64
	decoded bool
}

// Inventory is everything a store holds.
type Inventory struct {
	Store   string
	Items   []Item        // Spark records, sorted by kind then time
	Foreign []store.Entry // entries that are no Spark record; never touched
	spool   *spool
}

// Encoded returns the JSON of an item's /json-shaped view, laid out as
// Options asked, when Options.Encode kept it instead of the typed value
// (nil otherwise). The bytes are valid until the next call.
func (inv *Inventory) Encoded(it Item) (json.RawMessage, error) {
	if it.encoded.n == 0 || inv.spool == nil {
		return nil, nil
	}
	return inv.spool.read(it.encoded)
}

// Cells returns the strings Options.Cells made of an item when Encode
// kept them (nil otherwise).
func (inv *Inventory) Cells(it Item) ([]string, error) {
	b, err := inv.Encoded(it)
	if err != nil || b == nil {
		return nil, err
	}
	var cells []string
	if err := json.Unmarshal(b, &cells); err != nil {
		return nil, fmt.Errorf("listing spool: %w", err)
	}
	return cells, nil
}

// Close releases what Load kept outside memory (the encoded records).
func (inv *Inventory) Close() error {
	if inv.spool == nil {
		return nil
	}
	return inv.spool.close()
}

// Options tune Load.
type Options struct {
	Codec codec.Options
	// Filter, when set, keeps only the entries it accepts; the rest are not read.
	Filter func(store.Entry) bool
	// Keep the raw bytes and the generic tree (for show --raw); otherwise
	// they are dropped after decoding so memory follows the decoded values.
	KeepRaw bool
	// WithACL asks for each record's ACL, which costs ZooKeeper one more
	// request per record.
	WithACL bool
	// Encode keeps each decoded record only as the JSON of its view
	// (Inventory.Encoded), in an unlinked temporary file, dropping the
	// typed value: a listing of 100,000 records then holds a small index
	// in memory, not the decoded graphs nor what it prints.
	Encode bool
	// EncodePrefix and EncodeIndent lay out Inventory.Encoded as
	// json.MarshalIndent does; both empty means compact. Done here, the
	// layout costs each decoding goroutine a little rather than the printer
	// a pass over the whole listing.
	EncodePrefix, EncodeIndent string
	// Cells, with Encode, is what the spool keeps of each decoded record
	// instead of its JSON: the strings it returns (a table's row, built
	// while the record's typed value exists), read back with
	// Inventory.Cells. It is called from several goroutines.
	Cells func(Item) []string
}

// Load reads every entry of src with its Scan and decodes every Spark
// record that passes the filter.
func Load(ctx context.Context, src Source, opts Options) (*Inventory, error) {
	if opts.Filter == nil {
		return scan(ctx, src, nil, nil, opts)
	}
	// A filter (show ID) reads only what it keeps.
	entries, err := src.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", src, err)
	}
	var foreign []store.Entry
	names := []string{}
	for _, e := range entries {
		switch {
		case e.Kind == store.KindForeign:
			foreign = append(foreign, e)
		case opts.Filter(e):
			names = append(names, e.Name)
		}
	}
	return scan(ctx, src, names, foreign, opts)
}

func newInventory(src Source, opts Options) (*Inventory, error) {
	inv := &Inventory{Store: fmt.Sprint(src)}
	if opts.Encode && !opts.KeepRaw {
		sp, err := newSpool()
		if err != nil {
			return nil, err
		}
		inv.spool = sp
	}
	return inv, nil
}

// done sorts what Load found and makes the spool readable.
func (inv *Inventory) done() (*Inventory, error) {
	slices.SortFunc(inv.Foreign, func(a, b store.Entry) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(inv.Items, compareItems)
	if inv.spool != nil {
		if err := inv.spool.finish(); err != nil {
			inv.Close()
			return nil, err
		}
	}
	return inv, nil
}

func scan(ctx context.Context, src Source, names []string, foreign []store.Entry, opts Options) (*Inventory, error) {
	inv, err := newInventory(src, opts)
	if err != nil {
		return nil, err
	}
	inv.Foreign = foreign
	// The store delivers records one at a time; decoding them on every
	// core keeps the reader's requests flowing meanwhile.
	type job struct {
		rec store.Record
		err error
	}
	jobs := make(chan job, 64)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := newDecoder(opts, inv.spool)
			for j := range jobs {
				it := Item{Entry: j.rec.Entry, Err: j.err}
				if j.err == nil {
					it = dec(j.rec.Entry, j.rec.Data)
				}
				mu.Lock()
				inv.Items = append(inv.Items, it)
				mu.Unlock()
			}
		}()
	}
	if names != nil && len(names) == 0 {
		return inv.done()
	}
	err = src.Scan(ctx, store.ScanRequest{Names: names, ACL: opts.WithACL}, func(rec store.Record, err error) error {
		e := rec.Entry
		if e.Kind == store.KindForeign {
			mu.Lock()
			inv.Foreign = append(inv.Foreign, e)
			mu.Unlock()
			return nil
		}
		if opts.Filter != nil && !opts.Filter(e) {
			return nil
		}
		select {
		case jobs <- job{rec, err}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	if err != nil {
		inv.Close()
		return nil, fmt.Errorf("read %s: %w", src, err)
	}
	return inv.done()
}

// newDecoder returns a function that decodes one record into an Item. When
// each record is encoded at once (Encode without KeepRaw) it reuses one
// codec.Decoder's memory from record to record, so it must be called from
// one goroutine at a time.
func newDecoder(opts Options, sp *spool) func(store.Entry, []byte) Item {
	if sp == nil {
		return func(e store.Entry, data []byte) Item {
			rec, err := codec.Decode(e.Name, data, opts.Codec)
			return item(e, data, rec, err, opts, nil, nil)
		}
	}
	d := codec.NewDecoder(opts.Codec)
	enc := newEncoder(opts)
	return func(e store.Entry, data []byte) Item {
		rec, err := d.Decode(e.Name, data)
		it := item(e, data, rec, err, opts, sp, enc)
		if it.encoded.n == 0 && rec != nil {
			// Kept as values (an undecodable record, with what was learned):
			// decode again into memory of its own, which the next record
			// will not reuse.
			rec, err = codec.Decode(e.Name, data, opts.Codec)
			it = item(e, data, rec, err, opts, nil, nil)
		}
		return it
	}
}

func item(e store.Entry, data []byte, rec *codec.Record, err error, opts Options, sp *spool, enc func(any) ([]byte, error)) Item {
	if e.Size == 0 {
		e.Size = int64(len(data))
	}
	it := Item{Entry: e, Record: rec, Err: err}
	it.decoded = err == nil && rec != nil && (rec.App != nil || rec.Driver != nil || rec.Worker != nil)
	if rec != nil {
		switch {
		case rec.App != nil:
			it.time = rec.App.StartTime
		case rec.Driver != nil:
			it.time = rec.Driver.StartTime
		}
	}
	if rec == nil || opts.KeepRaw {
		return it
	}
	rec.Tree = nil
	if sp != nil && it.decoded {
		var b []byte
		var err error
		if opts.Cells != nil {
			b, err = json.Marshal(opts.Cells(it))
		} else {
			b, err = enc(it.ViewElement())
		}
		if err == nil && len(b) > 0 {
			if it.encoded = sp.add(b); it.encoded.n == 0 {
				return it // the spool failed: Load reports it
			}
			it.Record = nil // all of it is in the JSON
			return it
		}
	}
	return it
}

// newEncoder returns a function that encodes a value as Options ask into a
// buffer it reuses: the bytes are valid until its next call.
func newEncoder(opts Options) func(any) ([]byte, error) {
	var buf bytes.Buffer
	enc := gojson.NewEncoder(&buf)
	enc.SetIndent(opts.EncodePrefix, opts.EncodeIndent)
	return func(v any) ([]byte, error) {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
}

// Time is when the record's subject appeared: an app's or driver's start
// time (zero for workers, which sort by name: their ids begin with the
// registration time).
func (it Item) Time() int64 { return it.time }

// Decoded reports whether the record decoded to an app, driver or worker.
func (it Item) Decoded() bool { return it.decoded }

func compareItems(a, b Item) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Time(), b.Time()), cmp.Compare(a.Name, b.Name))
}

// Undecodable returns the items that failed to decode.
func (inv *Inventory) Undecodable() []Item {
	var out []Item
	for _, it := range inv.Items {
		if !it.Decoded() {
			out = append(out, it)
		}
	}
	return out
}

// Counts sums the items per kind.
func (inv *Inventory) Counts() map[store.Kind]int {
	c := map[store.Kind]int{}
	for _, it := range inv.Items {
		c[it.Kind]++
	}
	return c
}
