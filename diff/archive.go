package diff

import (
	"context"
	"fmt"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/store"
)

// Archive reads a verified archive as a store.Reader, so that a store and
// its backup, or two backups, compare the same way two stores do. Each
// List, Read and Scan reads the archive through once (records are checked
// against their SHA-256 on the way); an archive is a stream, not an index.
type Archive struct {
	a    *backup.Archive
	name string
}

// NewArchive wraps an opened archive; name is how people know it (its
// path).
func NewArchive(a *backup.Archive, name string) *Archive { return &Archive{a: a, name: name} }

var _ store.Reader = (*Archive)(nil)

// String names the archive by its path.
func (r *Archive) String() string { return r.name }

// List returns the archive's records in name order, as the archive holds
// them.
func (r *Archive) List(ctx context.Context) ([]store.Entry, error) {
	var out []store.Entry
	for e, err := range r.a.Entries(ctx) {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
		out = append(out, e.Entry)
	}
	return out, nil
}

// Read returns one record; store.ErrNotFound when the archive lacks it.
func (r *Archive) Read(ctx context.Context, name string) (store.Record, error) {
	for rec, err := range r.a.Records(ctx) {
		if err != nil {
			return store.Record{}, fmt.Errorf("%s: %w", r.name, err)
		}
		if rec.Name == name {
			return rec, nil
		}
	}
	return store.Record{}, fmt.Errorf("%s: %s: %w", r.name, name, store.ErrNotFound)
}

// Scan passes the requested records (all when req.Names is nil) to fn, and
// each requested name the archive lacks with store.ErrNotFound. Archives
// keep no ACLs, so req.ACL changes nothing.
func (r *Archive) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	var want map[string]bool
	if req.Names != nil {
		want = make(map[string]bool, len(req.Names))
		for _, n := range req.Names {
			want[n] = true
		}
	}
	for rec, err := range r.a.Records(ctx) {
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		if want != nil {
			if !want[rec.Name] {
				continue
			}
			delete(want, rec.Name)
		}
		if err := fn(rec, nil); err != nil {
			return err
		}
	}
	for n := range want {
		if err := fn(store.NewRecord(n, nil), fmt.Errorf("%s: %s: %w", r.name, n, store.ErrNotFound)); err != nil {
			return err
		}
	}
	return nil
}
