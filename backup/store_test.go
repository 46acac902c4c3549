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

// memStore is an in-memory store.Store with fault injection; it stays
// beside the real stores to test what they cannot easily be made to do.
type memStore struct {
	mu      sync.Mutex
	recs    map[string]store.Record
	writes  int   // records written, all calls
	batches []int // cost of each WriteBatch call
	// With limited set, writes fail once budget more records have been
	// written: the batch in progress is written up to that point, as a
	// store without transactions would.
	limited bool
	budget  int
	readErr map[string]error
}

var _ store.Store = (*memStore)(nil)

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

func (m *memStore) Write(ctx context.Context, rec store.Record) error {
	return m.WriteBatch(ctx, []store.Record{rec})
}

func (m *memStore) WriteBatch(ctx context.Context, recs []store.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := 0
	for _, r := range recs {
		c += batchCost(r)
	}
	m.batches = append(m.batches, c)
	for _, r := range recs {
		if m.limited {
			if m.budget == 0 {
				return fmt.Errorf("write %s: %w", r.Name, errInjected)
			}
			m.budget--
		}
		r.Data = slices.Clone(r.Data)
		r.Size = int64(len(r.Data))
		m.recs[r.Name] = r
		m.writes++
	}
	return nil
}

func (m *memStore) Delete(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[name]; !ok {
		return store.ErrNotFound
	}
	delete(m.recs, name)
	return nil
}

func (m *memStore) String() string { return "mem://" }
