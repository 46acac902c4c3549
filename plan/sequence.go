package plan

import (
	"context"
	"errors"
	"fmt"

	"github.com/recoverctl/recoverctl/store"
)

// ErrNotConfirmed is a run the person at the terminal did not confirm.
var ErrNotConfirmed = errors.New("not confirmed: nothing changed")

// Run is one change to a store from its guard to its read-back: the
// sequence that restore, migrate and prune all follow, so that each of
// them refuses, shows, asks and writes the same way.
type Run struct {
	Target store.Store
	// Holder names the run in the store's writer lock.
	Holder string
	// DryRun stops after showing the plan: no lock, no write.
	DryRun bool
	// Guard refuses while a live Master holds a store the run touches
	// (the command's live-Master check, which --force turns off).
	Guard func(ctx context.Context) error
	// Plan makes the plan, and the source of what it writes, once the
	// target is locked.
	Plan func(ctx context.Context) (*Plan, Source, error)
	// Show prints the plan; Confirm asks for it (or needs --yes).
	Show    func(*Plan)
	Confirm func(*Plan) error
	Options Options
}

// Do runs it: guard, lock, plan, show (a dry run stops here), refuse what
// the plan refuses, confirm, archive, apply, read back. The plan is
// returned whenever one was made.
func (r *Run) Do(ctx context.Context) (*Plan, Result, error) {
	if r.Guard != nil {
		if err := r.Guard(ctx); err != nil {
			return nil, Result{}, err
		}
	}
	if !r.DryRun {
		unlock, err := r.Target.Lock(ctx, r.Holder)
		if err != nil {
			return nil, Result{}, fmt.Errorf("%s refused: %w", r.Holder, err)
		}
		defer unlock()
	}
	p, src, err := r.Plan(ctx)
	if err != nil {
		return nil, Result{}, err
	}
	if r.Show != nil {
		r.Show(p)
	}
	if r.DryRun {
		return p, Result{}, nil
	}
	if len(p.Refused()) > 0 {
		return p, Result{}, refusal(p)
	}
	if p.Writes() == 0 {
		n, err := Verify(ctx, p, r.Target, src, r.Options)
		return p, Result{Skipped: p.Count(Identical), Verified: n, Left: p.Count(Unconvertible) + p.Count(TooLarge)}, err
	}
	if r.Confirm != nil {
		if err := r.Confirm(p); err != nil {
			return p, Result{}, err
		}
	}
	res, err := Apply(ctx, p, r.Target, src, r.Options)
	return p, res, err
}
