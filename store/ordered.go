package store

import (
	"context"
	"fmt"
	"slices"
)

// orderedChunk is how many records ScanOrdered asks of one Scan: enough
// for a store's bulk path (ZooKeeper's multiRead batches, a directory's
// readers) to run at speed, few enough that two chunks in memory stay
// small whatever the store holds.
const orderedChunk = 512

// ScanOrdered reads names with r.Scan, a chunk at a time (the next chunk
// read while fn handles the one before), and calls fn once per name in
// the order of names, with the record or the error reading it
// (ErrNotFound for an absent name). For writers whose output has an order
// (an archive in name order, a plan applied as a prefix) over stores that
// read fastest in no order.
func ScanOrdered(ctx context.Context, r Reader, names []string, fn func(Record, error) error) error {
	type chunk struct {
		names []string
		got   map[string]scanned
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk, 1)
	go func() {
		defer close(chunks)
		for part := range slices.Chunk(names, orderedChunk) {
			c := chunk{names: part, got: make(map[string]scanned, len(part))}
			c.err = r.Scan(ctx, ScanRequest{Names: part}, func(rec Record, err error) error {
				c.got[rec.Name] = scanned{rec, err}
				return nil
			})
			select {
			case chunks <- c:
			case <-ctx.Done():
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return c.err
		}
		for _, n := range c.names {
			s, ok := c.got[n]
			if !ok {
				s = scanned{Record{Entry: Entry{Name: n}}, fmt.Errorf("%s: the store's scan did not deliver it", n)}
			}
			if s.rec.Name == "" {
				s.rec.Name = n
			}
			if err := fn(s.rec, s.err); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

type scanned struct {
	rec Record
	err error
}
