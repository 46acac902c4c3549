package zk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/recoverctl/recoverctl/store"
)

// bulkEach reads names with multiRead on a second session and calls fn as
// readEach does (entries gone meanwhile are skipped). It marks in done the
// names it dealt with, so that after an *errBulk the caller can read the
// rest another way. A record's Data shares memory with the other records
// of its answer.
func (s *Store) bulkEach(ctx context.Context, names []string, done []bool, skipGone bool, fn func(store.Record, error) error) (err error) {
	addr := s.bulkAddr
	if addr == "" {
		addr = s.conn.Server()
	}
	b, err := dialBulk(ctx, addr, s.opts)
	if err != nil {
		return bulkErr(ctx, err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		var broken *errBulk
		b.close(!errors.As(err, &broken))
		wg.Wait()
	}()
	// Sync first: the session then sees at least what the leader had
	// committed, whichever server it is on.
	syncXid := b.xid.Add(1)
	if err := b.write(appendString(request(syncXid, opSync, len(s.root)+4), s.root)); err != nil {
		return bulkErr(ctx, err)
	}
	if err := b.expect(syncXid); err != nil {
		return bulkErr(ctx, err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.pingUntil(stop)
	}()

	type batch struct {
		xid   int32
		first int // index into names
		n     int
	}
	sent := make(chan batch, multiReadQueued)
	// Batches are sized from the records seen so far: about
	// multiReadTargetBytes at their average size, and at most half of
	// MaxBufferSize should all be as large as the largest.
	var largest, average atomic.Int64
	sendErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(sent)
		paths := make([]string, 0, multiReadMaxOps)
		for i := 0; i < len(names); {
			n := multiReadFirstOps
			if l, a := largest.Load(), average.Load(); l > 0 {
				n = int(min(multiReadMaxOps, max(multiReadTargetBytes/a, 1), max(int64(s.opts.MaxBufferSize)/2/l, 1)))
			}
			n = min(n, len(names)-i)
			paths = paths[:0]
			for _, name := range names[i : i+n] {
				p, err := s.recordPath(name)
				if err != nil {
					sendErr <- err
					return
				}
				paths = append(paths, p)
			}
			bt := batch{xid: b.xid.Add(1), first: i, n: n}
			if err := b.write(multiReadRequest(bt.xid, paths)); err != nil {
				sendErr <- err
				return
			}
			select {
			case sent <- bt:
			case <-stop:
				return
			}
			i += n
		}
	}()
	var records, bytesSeen int64
	answered := false
	for bt := range sent {
		xid, code, body, err := b.reply()
		var te *timeoutError
		if err != nil && answered && errors.As(err, &te) && ctx.Err() == nil {
			// The server answered multiRead before and now says nothing:
			// it froze. The getData path would only wait as long again.
			return s.wrap("read", s.root, err)
		}
		if err != nil {
			return bulkErr(ctx, err)
		}
		answered = true
		if xid != bt.xid {
			return bulkErr(ctx, fmt.Errorf("answer %d where %d was due", xid, bt.xid))
		}
		if code != 0 {
			return bulkErr(ctx, fmt.Errorf("multiRead: %w", codeError(code)))
		}
		results, err := parseMultiRead(body, bt.n)
		if err != nil {
			return bulkErr(ctx, fmt.Errorf("multiRead answer: %w", err))
		}
		for k, res := range results {
			if err := ctx.Err(); err != nil {
				return err
			}
			i := bt.first + k
			name := names[i]
			done[i] = true
			if res.code == zNoNode && skipGone {
				continue // deleted since the listing, as readEach skips it
			}
			var rec store.Record
			var rerr error
			if res.code != 0 {
				rec = store.NewRecord(name, nil)
				rerr = s.wrap("read", s.root+"/"+name, codeError(res.code))
			} else {
				rec = store.NewRecord(name, res.data)
				rec.ModTime, rec.Version = millis(res.mtime), int64(res.version)
				records++
				bytesSeen += int64(len(res.data))
				largest.Store(max(largest.Load(), int64(len(res.data)), 1))
				average.Store(max(bytesSeen/records, 1))
			}
			if err := fn(rec, rerr); err != nil {
				return err
			}
		}
	}
	select {
	case err := <-sendErr:
		return bulkErr(ctx, err)
	default:
	}
	return ctx.Err()
}
