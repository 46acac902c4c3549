package fs_test

import (
	"context"
	"crypto/sha256"

	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
)

// put creates recs in one Apply, as the engine's first write of a record does.
func put(ctx context.Context, s *fs.Store, recs ...store.Record) error {
	ops := make([]store.Op, len(recs))
	for i, r := range recs {
		ops[i] = store.Op{Kind: store.OpCreate, Record: r}
	}
	return s.Apply(ctx, ops)
}

// del deletes name holding what it holds now.
func del(ctx context.Context, s *fs.Store, name string) error {
	rec, err := s.Read(ctx, name)
	if err != nil {
		return err
	}
	return s.Apply(ctx, []store.Op{{Kind: store.OpDelete, Record: rec, SeenSHA256: sha256.Sum256(rec.Data)}})
}
