package backup

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/recoverctl/recoverctl/store"
)

// memStore is an in-memory store.Reader with fault injection; it stays
// beside the real stores to test what they cannot easily be made to do.
type memStore struct {
	mu      sync.Mutex
	recs    map[string]store.Record
	readErr map[string]error
}

var _ store.Reader = (*memStore)(nil)

var errInjected = errors.New("injected failure")

func newMemStore() *memStore { return &memStore{recs: map[string]store.Record{}} }

func (m *memStore) put(name string, data []byte) {
	r := store.NewRecord(name, data)
	r.ModTime = time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	m.recs[name] = r
}

func (m *memStore) List(ctx context.Context) ([]store.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Entry
	for _, n := range slices.Sorted(maps.Keys(m.recs)) {
		out = append(out, m.recs[n].Entry)
	}
	return out, nil
}

func (m *memStore) Read(ctx context.Context, name string) (store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.readErr[name]; err != nil {
		return store.Record{}, err
	}
	r, ok := m.recs[name]
	if !ok {
		return store.Record{}, fmt.Errorf("%s: %w", name, store.ErrNotFound)
	}
	r.Data = slices.Clone(r.Data)
	return r, nil
}

func (m *memStore) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	return scanByRead(ctx, m, req, fn)
}

// scanByRead is Scan for test stores: one Read per name, in order.
func scanByRead(ctx context.Context, r interface {
	List(context.Context) ([]store.Entry, error)
	Read(context.Context, string) (store.Record, error)
}, req store.ScanRequest, fn func(store.Record, error) error) error {
	names := req.Names
	if names == nil {
		es, err := r.List(ctx)
		if err != nil {
			return err
		}
		for _, e := range es {
			names = append(names, e.Name)
		}
	}
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.Read(ctx, n)
		if err != nil {
			rec = store.NewRecord(n, nil)
		}
		if err := fn(rec, err); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) String() string { return "mem://" }
