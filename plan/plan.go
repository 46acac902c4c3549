// Package plan is the one engine through which every command that changes
// a recovery store (restore, migrate, prune) writes: a Plan says what
// happens to each record, made before any write so that it can be printed
// (--dry-run stops there); Run then takes the store's writer lock, archives
// the target, applies the plan in batches the store takes, each change
// conditional on what the plan saw (a create never overwrites), retries a
// batch the store could not be reached for, re-plans a record that
// appeared or changed meanwhile, and reads every record back.
//
// Batches are applied one at a time in plan order, so an interrupted run
// leaves a prefix of its plan; planning again and running finishes it, and
// nothing is written twice: what was written is then identical.
//
// The planners live with what they know: migrate (a store or an archive
// into a store, converting codec framing), prune (what to delete). The
// engine knows no concrete store and prints nothing: progress goes to a
// Progress the command hands in.
package plan

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/recoverctl/recoverctl/store"
)

// Action is what a plan does with one record.
type Action int

const (
	Create        Action = iota // absent in the target: written
	Identical                   // the target holds it already: left alone, read back
	Differs                     // the target holds something else: refused (--overwrite replaces)
	Overwrite                   // the target holds something else: replaced
	Delete                      // removed from the target
	Unconvertible               // cannot be written for the target's Master
	TooLarge                    // larger than the target takes in one request
)

var actionNames = [...]string{"create", "identical", "differs", "overwrite", "delete", "unconvertible", "too large"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// MarshalText makes actions readable in JSON output.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown plan action %q", b)
}

// writes reports whether the action changes the target.
func (a Action) writes() bool { return a == Create || a == Overwrite || a == Delete }

// Step is the plan for one record.
type Step struct {
	Name   string     `json:"name"`
	Kind   store.Kind `json:"-"`
	Action Action     `json:"action"`
	// Conversion is "lz4 -> plain" and the like; "" when copied as is.
	Conversion string `json:"conversion,omitempty"`
	Size       int64  `json:"size"`        // bytes in the source (a delete: in the target)
	TargetSize int64  `json:"target_size"` // bytes to write
	DestSize   int64  `json:"dest_size"`   // bytes in the target as planned; -1 when absent
	Reason     string `json:"reason,omitempty"`
	// Reasons are the rules a delete matched (prune).
	Reasons []string `json:"reasons,omitempty"`
	// Time is when the record's subject appeared, where a planner knows
	// (prune's age rule).
	Time *time.Time `json:"time,omitempty"`

	// Sum is the SHA-256 of the bytes a create or overwrite writes.
	Sum [32]byte `json:"-"`
	// Seen is the target's record as the plan read it: the condition of an
	// overwrite or delete, what an identical record must still be.
	Seen Seen `json:"-"`
}

// Seen is a record as the plan read it from the target.
type Seen struct {
	Version int64 // ZooKeeper's data version; -1 elsewhere
	SHA256  [32]byte
}

// SeenOf is what a plan keeps of a target record it read.
func SeenOf(rec store.Record, sum [32]byte) Seen { return Seen{Version: rec.Version, SHA256: sum} }

// Plan is what a run will do.
type Plan struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Steps  []Step `json:"steps"` // in the order they are applied (by name)
	// Foreign are source entries that are no Spark record: never copied.
	Foreign []string `json:"foreign,omitempty"`
	// Extra counts target records the plan leaves alone.
	Extra int `json:"extra"`
	// SkipUnconvertible leaves unconvertible and too large records behind
	// instead of refusing the run.
	SkipUnconvertible bool `json:"skip_unconvertible,omitempty"`
}

// Count returns how many steps take action a.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action == a {
			n++
		}
	}
	return n
}

// Writes is how many changes Run makes.
func (p *Plan) Writes() int { return p.Count(Create) + p.Count(Overwrite) + p.Count(Delete) }

// Refused returns the steps that stop Run: differing records, and
// unconvertible or too large ones unless SkipUnconvertible.
func (p *Plan) Refused() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Action == Differs || ((s.Action == Unconvertible || s.Action == TooLarge) && !p.SkipUnconvertible) {
			out = append(out, s)
		}
	}
	return out
}

// Sentinel errors callers branch on.
var (
	// ErrConflict: target records hold other bytes than the plan writes
	// (--overwrite replaces them), or changed since the plan.
	ErrConflict = errors.New("target record differs")
	// ErrUnconvertible: records cannot be written for the target's Master
	// (not a Spark record, wrong serializer, too large for the store).
	ErrUnconvertible = errors.New("record cannot be written to the target")
	// ErrSourceChanged: a source record changed between plan and apply;
	// plan again (and stop the source Master).
	ErrSourceChanged = errors.New("source changed since the plan was made")
	// ErrReadBack: a record read back does not hold what was written.
	ErrReadBack = errors.New("read-back does not match the plan")
)

// RefusalError is a plan refused before any write, listing why.
func refusal(p *Plan) error {
	var differs, unconv []string
	for _, s := range p.Refused() {
		if s.Action == Differs {
			differs = append(differs, s.Name)
		} else {
			unconv = append(unconv, s.Name)
		}
	}
	var errs []error
	if len(differs) > 0 {
		errs = append(errs, fmt.Errorf("%d target records differ (%s; listed as \"differs\"; --overwrite replaces them): %w",
			len(differs), firstNames(differs), ErrConflict))
	}
	if len(unconv) > 0 {
		errs = append(errs, fmt.Errorf("%d records cannot be written to %s (%s; see the plan, or leave them behind with --skip-unconvertible): %w",
			len(unconv), p.Target, firstNames(unconv), ErrUnconvertible))
	}
	return errors.Join(errs...)
}

func firstNames(names []string) string {
	if len(names) > 3 {
		return strings.Join(names[:3], ", ") + ", ..."
	}
	return strings.Join(names, ", ")
}
