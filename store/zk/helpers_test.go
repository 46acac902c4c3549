package zk_test

import (
	"context"

	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/zk"
)

// put creates recs in one Apply, as the engine's first write of a record does.
func put(ctx context.Context, s *zk.Store, recs ...store.Record) error {
	ops := make([]store.Op, len(recs))
	for i, r := range recs {
		ops[i] = store.Op{Kind: store.OpCreate, Record: r}
	}
	return s.Apply(ctx, ops)
}
