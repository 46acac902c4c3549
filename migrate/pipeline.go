package migrate

import (
	"context"
	"runtime"
	"sync"

	"github.com/recoverctl/recoverctl/store"
)

// readWorkers is how many records are read and converted at once from a
// source that does not pipeline its own reads (store/fs): about one per
// core, since unwrapping codecs is CPU work (more only adds garbage: a
// zstd frame allocates its window).
func readWorkers() int { return min(8, max(2, runtime.GOMAXPROCS(0))) }

// recordWalker is implemented by stores that read every record in one
// pipelined pass without ACLs (store/zk's EachRecord): the cheapest way to
// read back a target that holds little besides what was migrated.
type recordWalker interface {
	EachRecord(ctx context.Context, fn func(store.Record, error) error) error
}

// readEach reads names from s and calls fn with each record (or its error;
// a store's ErrNotFound is passed on), never concurrently, in completion
// order. Stores that pipeline reads do so themselves; others are read by
// readWorkers() goroutines.
func readEach(ctx context.Context, s Source, names []string, fn func(store.Record, error) error) error {
	return mapEach(ctx, s, names, func(rec store.Record, err error) (readResult, error) {
		return readResult{rec, err}, nil
	}, func(r readResult) error { return fn(r.rec, r.err) })
}

type readResult struct {
	rec store.Record
	err error
}

// mapEach reads names from s, calls work on each record (or read error)
// concurrently, on up to readWorkers() goroutines, and deliver with each
// result, never concurrently, in completion order. An error from work or
// deliver stops the reading and is returned. For stores that pipeline
// reads (bulkReader) work runs in their callback, one at a time.
func mapEach[T any](ctx context.Context, s Source, names []string, work func(store.Record, error) (T, error), deliver func(T) error) error {
	if b, ok := s.(bulkReader); ok {
		return b.ReadAll(ctx, names, func(rec store.Record, err error) error {
			v, err := work(rec, err)
			if err != nil {
				return err
			}
			return deliver(v)
		})
	}
	if len(names) == 0 {
		return ctx.Err()
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan string)
	workers := readWorkers()
	out := make(chan T, workers)
	var (
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(next)
		for _, name := range names {
			select {
			case next <- name:
			case <-wctx.Done():
				return
			}
		}
	}()
	for range min(workers, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				if wctx.Err() != nil {
					return
				}
				rec, err := s.Read(wctx, name)
				if err != nil && wctx.Err() != nil {
					return // cancelled: the cause is reported by whoever cancelled
				}
				if err != nil && rec.Name == "" {
					rec.Name = name
				}
				v, err := work(rec, err)
				if err != nil {
					fail(err)
					return
				}
				select {
				case out <- v:
				case <-wctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	for v := range out {
		if wctx.Err() != nil {
			continue // drain until the workers are gone
		}
		if err := deliver(v); err != nil {
			fail(err)
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// readTarget reads names from dst like readEach. When dst can walk all its
// records in one pass and holds at most about as many others (total is
// what it holds in all), it walks instead: data only, many znodes per
// request (store/zk's multiRead), rather than getData and getACL per name.
// Names the walk does not meet are passed to fn with store.ErrNotFound.
func readTarget(ctx context.Context, dst Source, names []string, total int, fn func(store.Record, error) error) error {
	w, ok := dst.(recordWalker)
	if !ok || len(names) == 0 || total > 2*len(names) {
		return readEach(ctx, dst, names, fn)
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = false
	}
	err := w.EachRecord(ctx, func(rec store.Record, err error) error {
		seen, ok := want[rec.Name]
		if !ok || seen {
			return nil // not asked for
		}
		want[rec.Name] = true
		return fn(rec, err)
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		if !want[n] {
			if err := fn(store.Record{Entry: store.Entry{Name: n}}, store.ErrNotFound); err != nil {
				return err
			}
		}
	}
	return nil
}
