// Package inventory reads every entry of a recovery store and decodes it:
// the data behind `recoverctl ls`, `show` and `status`. It joins store (where
// bytes live) and codec (what they mean) and prints nothing; the command
// picks a printer.
package inventory

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/store"
)

// Source is what an inventory needs of a store.
type Source interface {
	List(ctx context.Context) ([]store.Entry, error)
	Read(ctx context.Context, name string) (store.Record, error)
}

// bulkReader is implemented by stores that read many records faster than one
// Read at a time (ZooKeeper pipelines requests on one connection).
type bulkReader interface {
	ReadAll(ctx context.Context, names []string, fn func(store.Record, error) error) error
}

// recordScanner is implemented by stores that read every record in one
// pass, faster than List and Read (ZooKeeper: getChildren, then pipelined
// getData whose Stat gives size and mtime, without the ACL requests).
type recordScanner interface {
	EachRecord(ctx context.Context, fn func(store.Record, error) error) error
}

// Item is one Spark record: where it is, and what it decoded to or why not.
type Item struct {
	store.Entry
	Record *codec.Record // nil when nothing could be decoded
	Err    error         // nil when the record decoded completely
	// Encoded is the compact JSON of the record's /json-shaped view, set
	// instead of the typed value when Options.Encode asked for it.
	Encoded json.RawMessage
	time    int64
	decoded bool
}

// Inventory is everything a store holds.
type Inventory struct {
	Store   string
	Items   []Item        // Spark records, sorted by kind then time
	Foreign []store.Entry // entries that are no Spark record; never touched
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
	// Encode keeps each decoded record only as the compact JSON of its
	// view (Item.Encoded), dropping the typed value: a listing of 100,000
	// records then holds about what it prints, not the decoded graphs.
	Encode bool
}

// Load lists src, reads and decodes every Spark record that passes the filter.
func Load(ctx context.Context, src Source, opts Options) (*Inventory, error) {
	if sc, ok := src.(recordScanner); ok && !opts.WithACL {
		return scan(ctx, src, sc, opts)
	}
	entries, err := src.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", src, err)
	}
	inv := &Inventory{Store: fmt.Sprint(src)}
	var names []string
	byName := make(map[string]store.Entry, len(entries))
	for _, e := range entries {
		if e.Kind == store.KindForeign {
			inv.Foreign = append(inv.Foreign, e)
			continue
		}
		if opts.Filter != nil && !opts.Filter(e) {
			continue
		}
		names = append(names, e.Name)
		byName[e.Name] = e
	}
	inv.Items = make([]Item, 0, len(names))
	add := func(rec store.Record, err error) error {
		e := byName[rec.Name]
		if err != nil {
			// A record that vanished or cannot be read is still listed,
			// with the reason; it never hides the others.
			inv.Items = append(inv.Items, Item{Entry: e, Err: err})
			return nil
		}
		inv.Items = append(inv.Items, decode(e, rec.Data, opts))
		return nil
	}
	if br, ok := src.(bulkReader); ok && len(names) > 1 {
		if err := br.ReadAll(ctx, names, func(rec store.Record, err error) error {
			if rec.Name == "" && err != nil {
				return err
			}
			return add(rec, err)
		}); err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
	} else {
		for _, n := range names {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			rec, err := src.Read(ctx, n)
			rec.Name = n
			_ = add(rec, err)
		}
	}
	slices.SortFunc(inv.Items, compareItems)
	return inv, nil
}

func scan(ctx context.Context, src Source, sc recordScanner, opts Options) (*Inventory, error) {
	inv := &Inventory{Store: fmt.Sprint(src)}
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
			for j := range jobs {
				it := Item{Entry: j.rec.Entry, Err: j.err}
				if j.err == nil {
					it = decode(j.rec.Entry, j.rec.Data, opts)
				}
				mu.Lock()
				inv.Items = append(inv.Items, it)
				mu.Unlock()
			}
		}()
	}
	err := sc.EachRecord(ctx, func(rec store.Record, err error) error {
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
		return nil, fmt.Errorf("read %s: %w", src, err)
	}
	slices.SortFunc(inv.Foreign, func(a, b store.Entry) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(inv.Items, compareItems)
	return inv, nil
}

func decode(e store.Entry, data []byte, opts Options) Item {
	rec, err := codec.Decode(e.Name, data, opts.Codec)
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
	if opts.Encode && it.decoded {
		if b, err := json.Marshal(it.ViewElement()); err == nil {
			it.Encoded = b
			it.Record = &codec.Record{Name: rec.Name, Kind: rec.Kind, Codec: rec.Codec, Serializer: rec.Serializer, Spark: rec.Spark}
			return it
		}
	}
	detach(rec)
	return it
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
