package migrate

import (
	"context"
	"crypto/sha256"
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

// PlanRestore compares a verified archive with what dst holds: every
// archived record is a create, identical (the same bytes), differs
// (refused) or, with overwrite, an overwrite.
func PlanRestore(ctx context.Context, a *backup.Archive, dst store.Store, overwrite bool, progress plan.Progress) (*plan.Plan, *ArchiveSource, error) {
	m := a.Manifest()
	p := &plan.Plan{Source: m.Address, Target: dst.String()}
	for e, err := range a.Entries(ctx) {
		if err != nil {
			return nil, nil, fmt.Errorf("restore plan: %w", err)
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
