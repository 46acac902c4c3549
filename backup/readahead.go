package backup

import (
	"context"
	"crypto/sha256"

	"github.com/recoverctl/recoverctl/store"
)

// readAheadWindow is how many records Write keeps in flight. A ZooKeeper
// store answers concurrent Reads on its one connection (requests are
// pipelined), so reading one record at a time would cost one round trip
// per record; a window keeps the connection busy while memory stays bounded
// by window × record size.
const readAheadWindow = 64

// bufferReaders is how many goroutines read ahead from a store that reads
// into a caller's buffer (a directory). On a local disk its reads are
// system calls that keep a CPU busy rather than wait, and a few readers
// keep ahead of the writer while many more only compete with it for the
// CPUs; on a network filesystem each read waits for the server, and these
// keep that many requests in flight.
const bufferReaders = 16

// dataReader is implemented by stores that can read a record's bytes more
// cheaply than Read when its ACL is not wanted: store/zk's ReadData sends
// one getData where Read adds a getACL. Backup takes ACLs from List, and a
// read-back compares bytes only.
type dataReader interface {
	ReadData(ctx context.Context, name string) (store.Record, error)
}

// bufferReader is implemented by stores that can read a record into a
// caller's buffer (store/fs's ReadBuffer): Write reads every record once
// and is done with its bytes before the next, so a few buffers serve a
// whole backup instead of one allocation per record.
type bufferReader interface {
	ReadBuffer(ctx context.Context, name string, buf []byte) (store.Record, error)
}

// readerOf returns the cheapest way to read a record's bytes from src.
func readerOf(src Source) func(context.Context, string) (store.Record, error) {
	if d, ok := src.(dataReader); ok {
		return d.ReadData
	}
	return src.Read
}

// slot is one record in flight: the consumer fills name, a reader fills the
// rest and signals done. buf is the bytes of the record the slot held
// before, handed back for reuse.
type slot struct {
	name string
	rec  store.Record
	sum  [32]byte // SHA-256 of rec.Data if the readers hash
	err  error
	buf  []byte
	done chan struct{}
}

// readAhead reads the entries that keep accepts, in order, up to
// readAheadWindow ahead of the consumer. A fixed set of goroutines does the
// reading (not one per record); the consumer hands out the work itself, the
// next record each time it takes one, so it never runs further ahead.
type readAhead struct {
	src     Source
	ctx     context.Context
	cancel  context.CancelFunc
	entries []store.Entry
	keep    func(store.Entry) bool
	pos     int    // entries[pos:] are not queued yet
	slots   []slot // ring: the i-th kept record lives in slots[i%len(slots)]
	next    int    // number of records read has returned
	queued  int    // records handed to the readers so far
	total   int    // records kept
	jobs    chan *slot
	reuse   bool // records' bytes live in slot buffers (bufferReader)
	hash    bool // readers compute each record's SHA-256
	stopped bool
	broken  bool // a read gave up on its slot: the ring is out of step
}

func startReadAhead(ctx context.Context, src Source, entries []store.Entry, keep func(store.Entry) bool) *readAhead {
	return newReadAhead(ctx, src, entries, keep, false)
}

// startHashingReadAhead is startReadAhead whose readers also hash each
// record (see readHashed), so that hashing runs beside the consumer.
func startHashingReadAhead(ctx context.Context, src Source, entries []store.Entry, keep func(store.Entry) bool) *readAhead {
	return newReadAhead(ctx, src, entries, keep, true)
}

func newReadAhead(ctx context.Context, src Source, entries []store.Entry, keep func(store.Entry) bool, hash bool) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	ra := &readAhead{src: src, ctx: ctx, cancel: cancel, hash: hash, entries: entries, keep: keep}
	for _, e := range entries {
		if keep(e) {
			ra.total++
		}
	}
	window := min(readAheadWindow, ra.total)
	ra.slots = make([]slot, window)
	for i := range ra.slots {
		ra.slots[i].done = make(chan struct{}, 1)
	}
	// Every slot handed out is taken back by the consumer before it is
	// handed out again, so jobs never holds more than window slots and
	// sends to it never block.
	ra.jobs = make(chan *slot, window)
	readers := window
	var read func(context.Context, *slot) (store.Record, error)
	if br, ok := src.(bufferReader); ok {
		ra.reuse = true
		readers = min(readers, bufferReaders)
		read = func(ctx context.Context, s *slot) (store.Record, error) {
			return br.ReadBuffer(ctx, s.name, s.buf)
		}
	} else {
		r := readerOf(src)
		read = func(ctx context.Context, s *slot) (store.Record, error) { return r(ctx, s.name) }
	}
	for range readers {
		go ra.reader(read)
	}
	for ra.queued < window {
		ra.enqueue()
	}
	return ra
}

func (ra *readAhead) reader(read func(context.Context, *slot) (store.Record, error)) {
	for s := range ra.jobs {
		if err := ra.ctx.Err(); err != nil {
			s.rec, s.err = store.Record{}, err
		} else {
			s.rec, s.err = read(ra.ctx, s)
			if s.err == nil && ra.hash {
				s.sum = sha256.Sum256(s.rec.Data)
			}
		}
		s.done <- struct{}{}
	}
}

// enqueue hands the next kept record to the readers.
func (ra *readAhead) enqueue() {
	for !ra.keep(ra.entries[ra.pos]) {
		ra.pos++
	}
	s := &ra.slots[ra.queued%len(ra.slots)]
	s.name = ra.entries[ra.pos].Name
	ra.pos++
	ra.queued++
	ra.jobs <- s
}

// read returns the record for name, which must be the next kept entry.
// Its bytes are valid until the next call to read or stop. If name is not
// the next entry (a caller bug), read falls back to reading name directly.
func (ra *readAhead) read(name string) (store.Record, error) {
	rec, _, err := ra.next1(name)
	return rec, err
}

// readHashed is read that also returns the SHA-256 of the record's bytes;
// the read-ahead must have been started by startHashingReadAhead.
func (ra *readAhead) readHashed(name string) (store.Record, [32]byte, error) {
	return ra.next1(name)
}

func (ra *readAhead) next1(name string) (store.Record, [32]byte, error) {
	if ra.stopped || ra.broken || ra.next >= ra.queued || ra.slots[ra.next%len(ra.slots)].name != name {
		rec, err := ra.src.Read(ra.ctx, name)
		if err != nil || !ra.hash {
			return rec, [32]byte{}, err
		}
		return rec, sha256.Sum256(rec.Data), nil
	}
	// The previous record's slot is free again now that its bytes are no
	// longer used: give it the next record to read.
	if ra.next > 0 && ra.queued < ra.total {
		ra.enqueue()
	}
	s := &ra.slots[ra.next%len(ra.slots)]
	ra.next++
	select {
	case <-s.done:
	case <-ra.ctx.Done():
		ra.broken = true // the slot's reader may still be at work
		return store.Record{}, [32]byte{}, ra.ctx.Err()
	}
	rec, sum, err := s.rec, s.sum, s.err
	s.rec, s.err = store.Record{}, nil
	if ra.reuse && err == nil {
		s.buf = rec.Data[:0]
	}
	return rec, sum, err
}

// stop cancels reads still in flight and ends the readers once they are
// done; their results are dropped.
func (ra *readAhead) stop() {
	if ra.stopped {
		return
	}
	ra.stopped = true
	ra.cancel()
	close(ra.jobs)
}
