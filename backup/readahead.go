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
const readAheadWindow = 64

type fetched struct {
	name string
	rec  store.Record
	err  error
}

// dataReader is implemented by stores that can read a record's bytes more
// cheaply than Read when its ACL is not wanted: store/zk's ReadData sends
// one getData where Read adds a getACL. Backup takes ACLs from List, and a
// read-back compares bytes only.
type dataReader interface {
	ReadData(ctx context.Context, name string) (store.Record, error)
}

// readerOf returns the cheapest way to read a record's bytes from src.
func readerOf(src Source) func(context.Context, string) (store.Record, error) {
	if d, ok := src.(dataReader); ok {
		return d.ReadData
	}
	return src.Read
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
	read := readerOf(src)
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
				rec, err := read(ctx, name)
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
