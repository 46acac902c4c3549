package backup

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/recoverctl/recoverctl/store"
)

// Target is what a restore needs of a store; store.Store satisfies it.
type Target interface {
	Source
	// WriteBatch writes records; the ZooKeeper store makes one call one
	// transaction, so Apply sizes calls by bytes. Apply reads back with
	// several Reads in flight: Read must be safe for concurrent use.
	WriteBatch(ctx context.Context, recs []store.Record) error
}

// Action is what a restore does with one archived record.
type Action int

const (
	Create    Action = iota // absent at the destination: written
	Skip                    // identical bytes at the destination: left alone
	Refuse                  // different bytes at the destination: left alone, restore refused
	Overwrite               // different bytes at the destination: replaced (RestoreOptions.Overwrite)
)

func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Skip:
		return "identical"
	case Refuse:
		return "differs"
	case Overwrite:
		return "overwrite"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Step is the plan for one archived record.
type Step struct {
	Name     string
	Action   Action
	Size     int64 // bytes in the archive
	DestSize int64 // bytes at the destination; -1 when absent
	SHA256   [32]byte
}

// RestoreOptions change what PlanRestore decides.
type RestoreOptions struct {
	// Overwrite replaces destination records whose bytes differ from the
	// archive; without it such records make the plan refuse.
	Overwrite bool
}

// Plan is what a restore will do, built before any write so it can be
// printed (--dry-run stops there). Restoring is meant for stopped Masters:
// Apply does not re-read the destination before writing, it reads every
// record back afterwards.
type Plan struct {
	Manifest *Manifest
	Steps    []Step // in archive (name) order
	// Extra counts destination records absent from the archive; restore
	// leaves them untouched.
	Extra   int
	archive *Archive
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

// Refused returns the steps that make the plan refuse.
func (p *Plan) Refused() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Action == Refuse {
			out = append(out, s)
		}
	}
	return out
}

// PlanRestore compares a verified archive with what dst holds, reading each
// destination record that the archive also holds.
func PlanRestore(ctx context.Context, a *Archive, dst Source, opt RestoreOptions, progress Progress) (*Plan, error) {
	entries, err := dst.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore plan: list destination: %w", err)
	}
	have := make(map[string]bool, len(entries))
	for _, e := range entries {
		have[e.Name] = true
	}
	p := &Plan{Manifest: a.Manifest(), archive: a}
	// First the archive's entries, then the destination's copies of those
	// it also holds, read with several requests in flight (on ZooKeeper
	// one at a time would cost a round trip each).
	var both []store.Entry
	idx := map[string]int{}
	for e, err := range a.Entries(ctx) {
		if err != nil {
			return nil, fmt.Errorf("restore plan: %w", err)
		}
		if _, ok := have[e.Name]; ok {
			delete(have, e.Name)
			idx[e.Name] = len(p.Steps)
			both = append(both, store.Entry{Name: e.Name})
		}
		p.Steps = append(p.Steps, Step{Name: e.Name, Size: e.Size, SHA256: e.SHA256, DestSize: -1, Action: Create})
	}
	ra := startReadAhead(ctx, dst, both, func(store.Entry) bool { return true })
	defer ra.stop()
	done := len(p.Steps) - len(both)
	for _, e := range both {
		st := &p.Steps[idx[e.Name]]
		rec, err := ra.read(e.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Gone since List: create it.
		case err != nil:
			return nil, fmt.Errorf("restore plan: read destination %s: %w", e.Name, err)
		default:
			st.DestSize = int64(len(rec.Data))
			switch {
			case sha256.Sum256(rec.Data) == st.SHA256:
				st.Action = Skip
			case opt.Overwrite:
				st.Action = Overwrite
			default:
				st.Action = Refuse
			}
		}
		done++
		progress.report(Event{Phase: PhasePlan, Record: e.Name, Done: done, Total: len(p.Steps)})
	}
	for name := range have {
		if kind, _ := store.ParseName(name); kind != store.KindForeign {
			p.Extra++
		}
	}
	return p, nil
}

// DefaultBatchBytes keeps one ZooKeeper multi well under jute.maxbuffer
// (1 MiB by default) once paths and ACLs are added.
const DefaultBatchBytes = 512 << 10

// batchOverhead is what one record adds to a batch besides its bytes and
// name: ZooKeeper's multi op header, the parent path, the ACL.
const batchOverhead = 256

func batchCost(r store.Record) int {
	n := len(r.Data) + len(r.Name) + batchOverhead
	for _, a := range r.ACL {
		n += 8 + len(a.Scheme) + len(a.ID)
	}
	return n
}

// ApplyResult says what Apply did.
type ApplyResult struct {
	Written  int
	Skipped  int
	Batches  int
	Bytes    int64 // record bytes written
	Verified int   // records read back and found identical
}

// applyWriters is how many WriteBatch calls Apply keeps going at once.
// ZooKeeper pipelines them on its connection (each stays one transaction)
// and a directory fsyncs two batches' files together; more gains little
// and holds more batches in memory.
const applyWriters = 2

// readBackWorkers is how many reads Apply's read-back keeps in flight.
const readBackWorkers = 64

// Apply carries out the plan: it makes sure the archive is still the one
// the plan was made from (for a file that OpenFile verified, by its size,
// modification time and footer; otherwise by verifying it again), refusing
// if it changed or is damaged, before the first write; it writes the
// records to create or overwrite with WriteBatch in batches of at most
// batchBytes (a record bigger than that goes alone), checking each
// record's SHA-256 as it is decoded, and reads back every archived record
// from dst, as its batch completes, and compares its bytes. Identical
// records are skipped, so running plan and apply again after an
// interruption completes the restore without writing anything twice.
func (p *Plan) Apply(ctx context.Context, dst Target, batchBytes int, progress Progress) (ApplyResult, error) {
	var res ApplyResult
	if batchBytes <= 0 {
		return res, fmt.Errorf("restore: batch size %d bytes must be positive", batchBytes)
	}
	if refused := p.Refused(); len(refused) > 0 {
		names := make([]string, 0, 3)
		for _, s := range refused[:min(3, len(refused))] {
			names = append(names, s.Name)
		}
		return res, fmt.Errorf("restore: %d records exist with different bytes (%s...; use --overwrite): %w",
			len(refused), strings.Join(names, ", "), ErrConflict)
	}
	a := p.archive
	if a == nil {
		return res, errors.New("restore: plan was not made by PlanRestore")
	}
	if !a.unchanged() {
		m, err := Verify(ctx, newSection(a))
		if err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
		if m.ArchiveSHA256 != a.manifest.ArchiveSHA256 {
			return res, fmt.Errorf("restore: %w", ErrArchiveModified)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu       sync.Mutex // guards res, bad, progress calls
		bad      []string
		checked  int
		toWrite  = len(p.Steps) - p.Count(Skip)
		batches  = make(chan []store.Record, 1)
		readBack = make(chan Step, readBackWorkers)
		writers  sync.WaitGroup
		readers  sync.WaitGroup
	)
	read := readerOf(dst)
	for range readBackWorkers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for st := range readBack {
				if ctx.Err() != nil {
					continue // drain
				}
				rec, err := read(ctx, st.Name)
				mu.Lock()
				switch {
				case errors.Is(err, store.ErrNotFound):
					bad = append(bad, st.Name+" (missing)")
				case err != nil:
					cancel(fmt.Errorf("restore: read back %s: %w", st.Name, err))
				case sha256.Sum256(rec.Data) != st.SHA256:
					bad = append(bad, st.Name)
				default:
					res.Verified++
				}
				checked++
				progress.report(Event{Phase: PhaseReadBack, Record: st.Name, Done: checked, Total: len(p.Steps)})
				mu.Unlock()
			}
		}()
	}
	for range applyWriters {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for batch := range batches {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := dst.WriteBatch(ctx, batch); err != nil {
					cancel(fmt.Errorf("restore: write %d records from %s: %w", len(batch), batch[0].Name, err))
					continue
				}
				mu.Lock()
				res.Batches++
				for _, r := range batch {
					res.Written++
					res.Bytes += int64(len(r.Data))
				}
				progress.report(Event{Phase: PhaseRestore, Record: batch[len(batch)-1].Name, Done: res.Written,
					Total: toWrite, Bytes: res.Bytes})
				mu.Unlock()
				for _, r := range batch {
					readBack <- Step{Name: r.Name, SHA256: sha256.Sum256(r.Data)}
				}
			}
		}()
	}

	var batch []store.Record
	cost := 0
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		batch, cost = nil, 0
		return nil
	}
	i := 0
	err := a.scan(ctx, func(e Entry, data []byte) error {
		if i >= len(p.Steps) || p.Steps[i].Name != e.Name || p.Steps[i].SHA256 != e.SHA256 {
			return ErrArchiveModified
		}
		st := p.Steps[i]
		i++
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		if st.Action == Skip {
			mu.Lock()
			res.Skipped++
			mu.Unlock()
			select {
			case readBack <- st:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			return nil
		}
		rec := store.Record{Entry: e.Entry, Data: data}
		c := batchCost(rec)
		if len(batch) > 0 && cost+c > batchBytes {
			if err := send(); err != nil {
				return err
			}
		}
		batch = append(batch, rec)
		cost += c
		return nil
	}, true)
	if err == nil {
		err = send()
	}
	close(batches)
	writers.Wait()
	close(readBack)
	readers.Wait()
	if err == nil && i != len(p.Steps) {
		err = ErrArchiveModified
	}
	if cerr := context.Cause(ctx); cerr != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, ErrArchiveModified) && !strings.HasPrefix(err.Error(), "restore:") {
			return res, fmt.Errorf("restore: %w", err)
		}
		return res, err
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return res, fmt.Errorf("restore: %d records differ from the archive after writing (%s): %w",
			len(bad), strings.Join(bad[:min(3, len(bad))], ", "), ErrReadBack)
	}
	return res, nil
}
