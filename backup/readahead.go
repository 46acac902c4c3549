package backup

import (
	"context"

	"github.com/recoverctl/recoverctl/store"
)

// readAheadWindow is how many records Write keeps in flight. A ZooKeeper
// store answers concurrent Reads on its one connection (requests are
// pipelined), so reading one record at a time would cost one round trip
// per record; a window keeps the connection busy while memory stays bounded
// by window × record size.
const readAheadWindow = 32

type fetched struct {
	name string
	rec  store.Record
	err  error
}

// readAhead reads the entries that keep accepts, in order, up to
// readAheadWindow ahead of the consumer.
type readAhead struct {
	src    Source
	ctx    context.Context
	cancel context.CancelFunc
	queue  chan chan fetched
}

func startReadAhead(ctx context.Context, src Source, entries []store.Entry, keep func(store.Entry) bool) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	ra := &readAhead{src: src, ctx: ctx, cancel: cancel, queue: make(chan chan fetched, readAheadWindow)}
	go func() {
		defer close(ra.queue)
		for _, e := range entries {
			if !keep(e) {
				continue
			}
			ch := make(chan fetched, 1)
			select {
			case ra.queue <- ch: // blocks while the window is full
			case <-ctx.Done():
				return
			}
			go func(name string) {
				rec, err := src.Read(ctx, name)
				ch <- fetched{name: name, rec: rec, err: err}
			}(e.Name)
		}
	}()
	return ra
}

// read returns the record for name, which must be the next kept entry; if
// it is not (a caller bug), it falls back to reading name directly.
func (ra *readAhead) read(name string) (store.Record, error) {
	select {
	case ch, ok := <-ra.queue:
		if ok {
			select {
			case f := <-ch:
				if f.name == name {
					return f.rec, f.err
				}
			case <-ra.ctx.Done():
				return store.Record{}, ra.ctx.Err()
			}
		}
	case <-ra.ctx.Done():
		return store.Record{}, ra.ctx.Err()
	}
	return ra.src.Read(ra.ctx, name)
}

// stop cancels reads still in flight; their goroutines end on their own.
func (ra *readAhead) stop() { ra.cancel() }
