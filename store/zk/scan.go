package zk

import (
	"context"
	"errors"

	"github.com/recoverctl/recoverctl/store"
)

// Scan reads records the fastest way the server allows. Data alone (no
// ACL) goes through multiRead, many znodes per request on a second
// session, falling back to getData pipelined on the main session where the
// server has no multiRead (MultiReadFailed says why); with ACLs, getData
// and getACL per znode, pipelined. Names a Scan asked for that are absent
// reach fn with store.ErrNotFound; when it reads every entry (nil Names),
// entries deleted since the listing are skipped.
func (s *Store) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	names := req.Names
	listed := names == nil
	if listed {
		var err error
		names, err = s.children(ctx, s.root)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	if req.ACL {
		return s.readEach(ctx, names, s.fetch, listed, fn)
	}
	return s.eachData(ctx, names, listed, fn)
}

// eachData reads names' data with multiRead, and whatever multiRead did
// not deliver with getData.
func (s *Store) eachData(ctx context.Context, names []string, skipGone bool, fn func(store.Record, error) error) error {
	if s.opts.NoMultiRead || len(names) == 0 {
		return s.readEach(ctx, names, s.fetchData, skipGone, fn)
	}
	s.setMultiReadFailed(nil)
	done := make([]bool, len(names))
	err := s.bulkEach(ctx, names, done, skipGone, fn)
	var bulk *errBulk
	if !errors.As(err, &bulk) {
		return err
	}
	s.setMultiReadFailed(bulk)
	rest := names[:0:0]
	for i, n := range names {
		if !done[i] {
			rest = append(rest, n)
		}
	}
	return s.readEach(ctx, rest, s.fetchData, skipGone, fn)
}
