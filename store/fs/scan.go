package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"runtime"
	"sync"

	"github.com/recoverctl/recoverctl/store"
)

// scanReaders is how many files Scan reads at once: enough to keep a cold
// cache or a network file system busy, about the cores' worth of hashing
// and decoding that the caller does with what it gets.
func scanReaders() int { return min(16, max(4, 2*runtime.GOMAXPROCS(0))) }

// Scan reads the named files (every entry of the directory when
// req.Names is nil), scanReaders() at a time, and hands each to fn on the
// calling goroutine. An entry that is not a readable regular file reaches
// fn with its error, like a name that is absent (store.ErrNotFound).
func (s *Store) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	names := req.Names
	if names == nil && s.notYet() {
		return ctx.Err()
	}
	if names == nil {
		all, err := readNames(s.dir)
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return fmt.Errorf("scan %s: %w: %w", s.dir, store.ErrUnavailable, err)
			}
			return fmt.Errorf("scan %s: %w", s.dir, err)
		}
		names = all
	}
	if len(names) == 0 {
		return ctx.Err()
	}
	type result struct {
		rec store.Record
		err error
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan string)
	out := make(chan result, scanReaders())
	var wg sync.WaitGroup
	for range min(scanReaders(), len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				rec, err := s.Read(sctx, name)
				if err != nil {
					rec = store.Record{Entry: store.Entry{Name: name, Version: -1}}
					rec.Kind, rec.ID = store.ParseName(name)
				}
				select {
				case out <- result{rec, err}:
				case <-sctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for _, n := range names {
			select {
			case next <- n:
			case <-sctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(out)
	}()
	var ferr error
	for r := range out {
		if ferr != nil {
			continue // drain until the readers are gone
		}
		if sctx.Err() != nil {
			ferr = sctx.Err()
			cancel()
			continue
		}
		if err := fn(r.rec, r.err); err != nil {
			ferr = err
			cancel()
		}
	}
	if ferr != nil {
		return ferr
	}
	return ctx.Err()
}
