package migrate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
)

// ArchiveSource is a verified archive read as a migration's source: its
// records are written back exactly as archived, ACLs included.
type ArchiveSource struct {
	a *backup.Archive
}

// Supply streams the archive once, checking first that it is still the
// archive that was verified and planned from, and hands fn the records
// named, in archive (name) order; each record's SHA-256 is checked as it
// is read.
func (s *ArchiveSource) Supply(ctx context.Context, names []string, fn func(store.Record) error) error {
	if err := s.a.EnsureUnchanged(ctx); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	i := 0
	for rec, err := range s.a.Records(ctx) {
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if i < len(names) && rec.Name == names[i] {
			if err := fn(rec); err != nil {
				return err
			}
			i++
		}
	}
	if i != len(names) {
		return fmt.Errorf("restore: %s: %w", names[i], backup.ErrArchiveModified)
	}
	return nil
}

// Same: a restored record is the archive's bytes exactly.
func (s *ArchiveSource) Same(st *plan.Step, data []byte) bool { return sha256.Sum256(data) == st.Sum }

// DefaultMaxRestoreBytes is what a restore may write in all unless told
// more: well above the state of any Spark cluster (100,000 records are
// about 400 MB), well below what a small hostile archive (a zstd bomb)
// could expand to.
const DefaultMaxRestoreBytes = 2 << 30

// ErrRestoreTooLarge is an archive that expands to more than a restore may
// write (RestoreOptions.MaxBytes).
var ErrRestoreTooLarge = errors.New("archive expands to more than a restore may write")

// RestoreOptions say how PlanRestore decides.
type RestoreOptions struct {
	// Overwrite plans an overwrite for target records that differ.
	Overwrite bool
	// MaxBytes bounds the bytes the restore writes in all (0: the
	// default, DefaultMaxRestoreBytes).
	MaxBytes int64
}

// PlanRestore compares a verified archive with what dst holds: every
// archived record is a create, identical (the same bytes), differs
// (refused) or, with overwrite, an overwrite. An archive whose records
// add up to more than MaxBytes is refused before anything is read from
// the target.
func PlanRestore(ctx context.Context, a *backup.Archive, dst store.Store, o RestoreOptions, progress plan.Progress) (*plan.Plan, *ArchiveSource, error) {
	m := a.Manifest()
	limit := o.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxRestoreBytes
	}
	overwrite := o.Overwrite
	p := &plan.Plan{Source: m.Address, Target: dst.String()}
	var total int64
	for e, err := range a.Entries(ctx) {
		if err != nil {
			return nil, nil, fmt.Errorf("restore plan: %w", err)
		}
		if total += e.Size; total > limit {
			return nil, nil, fmt.Errorf("restore plan: %d records make more than %d bytes (--max-bytes raises the limit): %w", len(p.Steps)+1, limit, ErrRestoreTooLarge)
		}
		st := plan.Step{Name: e.Name, Kind: e.Kind, Action: plan.Create, Size: e.Size, TargetSize: e.Size, DestSize: -1, Sum: e.SHA256}
		tooLarge(&st, dst)
		p.Steps = append(p.Steps, st)
		progress.Report(plan.Event{Phase: plan.PhasePlan, Record: e.Name, Done: len(p.Steps), Total: m.Records})
	}
	err := compareTarget(ctx, p, dst, func(st *plan.Step, data []byte) (bool, string) {
		if sha256.Sum256(data) == st.Sum {
			return true, ""
		}
		return false, "target holds other bytes than the archive"
	}, overwrite, progress)
	if err != nil {
		return nil, nil, fmt.Errorf("restore plan: %w", err)
	}
	return p, &ArchiveSource{a: a}, nil
}
