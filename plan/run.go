package plan

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/store"
)

// Source gives the bytes that create and overwrite steps write.
type Source interface {
	// Supply calls fn once per name, in the order of names, with the
	// record to write: its bytes as the target's Master reads them.
	Supply(ctx context.Context, names []string, fn func(store.Record) error) error
	// Same reports whether data, found in the target under st.Name,
	// already is the record st writes (the same payload in another
	// framing counts).
	Same(st *Step, data []byte) bool
}

// Phase names the part of a run an Event belongs to.
type Phase string

const (
	PhasePlan    Phase = "plan"
	PhaseArchive Phase = "archive"
	PhaseWrite   Phase = "write"
	PhaseVerify  Phase = "verify"
)

// Event reports progress; Total is 0 when unknown.
type Event struct {
	Phase  Phase
	Record string
	Done   int
	Total  int
	Bytes  int64
	// Retry is set when a batch failed with the store unavailable and is
	// tried again after a pause.
	Retry error
}

// Progress receives events, from one goroutine at a time; nil is allowed.
type Progress func(Event)

// Report sends e to p, if any.
func (p Progress) Report(e Event) {
	if p != nil {
		p(e)
	}
}

// Options say how Apply writes.
type Options struct {
	// ArchivePath is where the target is archived (backup.WriteFile)
	// before the first write: its Spark records and the foreign entries
	// the plan deletes. Required when the plan changes anything.
	ArchivePath string
	// ArchiveInfo describes the target for the archive's manifest.
	ArchiveInfo backup.Info
	// Overwrite replaces a record that appeared in the target since the
	// plan with other bytes, where the plan would create it; without it
	// the run stops there (ErrConflict).
	Overwrite bool
	// Retries is how often a batch or the read-back that failed because
	// the store was unavailable (ZooKeeper restarting, a session expired)
	// is tried again, RetryWait apart (growing). Trying a batch again is
	// safe: a change already made is found as planned and skipped.
	Retries   int
	RetryWait time.Duration
	// BatchBytes makes batches smaller than the store's MaxBatch (0: as
	// large as the store takes): more, smaller transactions.
	BatchBytes int
	// BatchDelay pauses after every batch (tests kill runs halfway).
	BatchDelay time.Duration
	Progress   Progress
}

// Result says what Apply did.
type Result struct {
	Written   int           `json:"written"`
	Deleted   int           `json:"deleted"`
	Skipped   int           `json:"skipped"`   // identical already
	Gone      int           `json:"gone"`      // deletes of records already absent
	Replanned int           `json:"replanned"` // changes found already made when applied (a retried batch, another run)
	Left      int           `json:"left"`      // unconvertible records left behind
	Batches   int           `json:"batches"`
	Retries   int           `json:"retries"`
	Bytes     int64         `json:"bytes"` // bytes written
	Verified  int           `json:"verified"`
	Backup    string        `json:"backup,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
}

// pending is one change on its way to the store, and its step.
type pending struct {
	step *Step
	op   store.Op
}

// batchQueue is how many batches wait for the writer while the next ones
// are read: together with the store's MaxBatch it bounds Apply's memory.
const batchQueue = 2

// Apply carries out the plan on t, reading what it writes from src (nil
// for a plan of deletes only). It refuses a plan with refused steps;
// archives the target first; applies the changes in plan order, one batch
// at a time; and reads back every record the plan writes or found
// identical, and checks each delete.
func Apply(ctx context.Context, p *Plan, t store.Store, src Source, o Options) (Result, error) {
	start := time.Now()
	res := Result{Left: p.Count(Unconvertible) + p.Count(TooLarge), Skipped: p.Count(Identical)}
	if len(p.Refused()) > 0 {
		return res, refusal(p)
	}
	var todo []*Step
	writes := 0
	for i := range p.Steps {
		if st := &p.Steps[i]; st.Action.writes() {
			todo = append(todo, st)
			if st.Action != Delete {
				writes++
			}
		}
	}
	if writes > 0 && src == nil {
		return res, errors.New("plan: a plan that writes records needs their source")
	}
	if len(todo) > 0 {
		path, err := archive(ctx, p, t, o)
		if err != nil {
			return res, err
		}
		res.Backup = path
	}

	batches := make(chan []pending, batchQueue)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var prodErr error
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		defer close(batches)
		prodErr = makeBatches(pctx, todo, t, src, o.BatchBytes, batches)
	}()
	w := writer{t: t, o: o, res: &res, total: len(todo)}
	var err error
	for batch := range batches {
		if err = w.apply(ctx, batch); err != nil {
			cancel()
			for range batches { // let the producer finish
			}
			break
		}
		if o.BatchDelay > 0 {
			select {
			case <-time.After(o.BatchDelay):
			case <-ctx.Done():
			}
		}
	}
	<-prodDone
	if err == nil && prodErr != nil {
		err = prodErr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		// A store that staged the batches writes them now, before the
		// read-back looks at what it holds.
		err = t.Commit(ctx)
	}
	if err != nil {
		res.Duration = time.Since(start)
		return res, fmt.Errorf("%s: %w (a run again finishes the plan: what was written is found identical)", t, err)
	}
	n, err := readBack(ctx, p, t, src, o)
	res.Verified = n
	res.Duration = time.Since(start)
	return res, err
}

// archive writes to o.ArchivePath what the target holds before the plan
// changes it: before records are written, every Spark record of the
// target (so that the store as it was can be restored whole); and every
// entry the plan deletes, foreign ones included. A plan of deletes
// archives just those. An empty target gets an empty archive: the record
// of what the store held before.
func archive(ctx context.Context, p *Plan, t store.Store, o Options) (string, error) {
	deletes := map[string]bool{}
	writes := false
	for _, s := range p.Steps {
		switch s.Action {
		case Delete:
			deletes[s.Name] = true
		case Create, Overwrite:
			writes = true
		}
	}
	entries, err := t.List(ctx)
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", t, err)
	}
	keep := slices.DeleteFunc(entries, func(e store.Entry) bool {
		return !deletes[e.Name] && (!writes || e.Kind == store.KindForeign)
	})
	if o.ArchivePath == "" {
		return "", errors.New("plan: no path for the archive of the target")
	}
	info := o.ArchiveInfo
	info.IncludeForeign = true // only the foreign entries kept above
	_, err = backup.WriteFile(ctx, listed{t, keep}, o.ArchivePath, info, func(e backup.Event) {
		o.Progress.Report(Event{Phase: PhaseArchive, Record: e.Record, Done: e.Done, Total: e.Total, Bytes: e.Bytes})
	})
	if err != nil {
		return "", fmt.Errorf("archive %s to %s before writing: %w", t, o.ArchivePath, err)
	}
	return o.ArchivePath, nil
}

// listed is a store whose List gives the entries already chosen.
type listed struct {
	store.Reader
	entries []store.Entry
}

func (l listed) List(context.Context) ([]store.Entry, error) { return l.entries, nil }

// makeBatches turns the steps into changes, reading the bytes to write
// from src in plan order, and sends batches of at most t.MaxBatch (a
// larger change goes alone: the store takes it or refuses it).
func makeBatches(ctx context.Context, todo []*Step, t store.Store, src Source, batchBytes int, out chan<- []pending) error {
	limit := t.MaxBatch()
	if batchBytes > 0 {
		limit = min(limit, batchBytes)
	}
	var batch []pending
	cost := 0
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch, cost = nil, 0
		return nil
	}
	add := func(pd pending) error {
		c := t.Cost(pd.op)
		if len(batch) > 0 && cost+c > limit {
			if err := send(); err != nil {
				return err
			}
		}
		batch = append(batch, pd)
		cost += c
		return nil
	}
	var names []string
	for _, st := range todo {
		if st.Action != Delete {
			names = append(names, st.Name)
		}
	}
	i := 0
	// Deletes go in plan order between the records supplied.
	flushDeletes := func() error {
		for i < len(todo) && todo[i].Action == Delete {
			st := todo[i]
			op := store.Op{Kind: store.OpDelete, Record: store.Record{Entry: store.Entry{Name: st.Name, Kind: st.Kind}},
				SeenVersion: st.Seen.Version, SeenSHA256: st.Seen.SHA256}
			if err := add(pending{st, op}); err != nil {
				return err
			}
			i++
		}
		return nil
	}
	if err := flushDeletes(); err != nil {
		return err
	}
	if len(names) > 0 {
		err := src.Supply(ctx, names, func(rec store.Record) error {
			st := todo[i]
			if rec.Name != st.Name {
				return fmt.Errorf("plan: source supplied %s where %s was due", rec.Name, st.Name)
			}
			if sha256.Sum256(rec.Data) != st.Sum {
				return fmt.Errorf("%s: %w", st.Name, ErrSourceChanged)
			}
			op := store.Op{Kind: store.OpCreate, Record: rec}
			if st.Action == Overwrite {
				op = store.Op{Kind: store.OpReplace, Record: rec, SeenVersion: st.Seen.Version, SeenSHA256: st.Seen.SHA256}
			}
			if err := add(pending{st, op}); err != nil {
				return err
			}
			i++
			return flushDeletes()
		})
		if err != nil {
			return err
		}
	}
	if i != len(todo) {
		return fmt.Errorf("plan: source supplied %d of %d records", i, len(todo))
	}
	return send()
}

// writer applies batches and keeps the result.
type writer struct {
	t     store.Store
	o     Options
	res   *Result
	total int
	done  int
}

func (w *writer) apply(ctx context.Context, batch []pending) error {
	for attempt := 0; len(batch) > 0; {
		ops := make([]store.Op, len(batch))
		for i, pd := range batch {
			ops[i] = pd.op
		}
		err := w.t.Apply(ctx, ops)
		if err == nil {
			w.res.Batches++
			w.finished(batch)
			return nil
		}
		var oe *store.OpError
		switch {
		case errors.As(err, &oe) && oe.Index < len(batch) && oe.Applied <= oe.Index:
			w.finished(batch[:oe.Applied])
			batch = batch[oe.Applied:]
			k := oe.Index - oe.Applied
			keep, rerr := w.replan(ctx, &batch[k], oe.Err)
			if rerr != nil {
				return fmt.Errorf("%s %s: %w", batch[k].step.Action, batch[k].step.Name, rerr)
			}
			if !keep {
				batch = slices.Delete(batch, k, k+1)
			}
		case errors.Is(err, store.ErrUnavailable) && attempt < w.o.Retries && ctx.Err() == nil:
			attempt++
			w.res.Retries++
			w.o.Progress.Report(Event{Phase: PhaseWrite, Record: batch[0].step.Name, Done: w.done, Total: w.total, Bytes: w.res.Bytes, Retry: err})
			select {
			case <-time.After(w.o.RetryWait * time.Duration(attempt)):
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
			return fmt.Errorf("write %d changes from %s: %w", len(batch), batch[0].step.Name, err)
		}
	}
	return nil
}

func (w *writer) finished(batch []pending) {
	for _, pd := range batch {
		w.done++
		if pd.op.Kind == store.OpDelete {
			w.res.Deleted++
		} else {
			w.res.Written++
			w.res.Bytes += int64(len(pd.op.Record.Data))
		}
	}
	if len(batch) > 0 {
		w.o.Progress.Report(Event{Phase: PhaseWrite, Record: batch[len(batch)-1].step.Name, Done: w.done, Total: w.total, Bytes: w.res.Bytes})
	}
}

// replan decides again for a change the store refused because the record
// is not as planned: it reads the record as it is now. A change that is
// already made (a batch that went through before its answer was lost, a
// second run) is dropped; a record that appeared is overwritten only with
// Options.Overwrite; one that changed since the plan stops the run.
func (w *writer) replan(ctx context.Context, pd *pending, why error) (keep bool, err error) {
	if errors.Is(why, store.ErrTooLarge) {
		return false, fmt.Errorf("%w: %w", why, ErrUnconvertible)
	}
	if !errors.Is(why, store.ErrExists) && !errors.Is(why, store.ErrChanged) && !errors.Is(why, store.ErrNotFound) {
		return false, why
	}
	cur, err := w.t.Read(ctx, pd.step.Name)
	absent := errors.Is(err, store.ErrNotFound)
	if err != nil && !absent {
		return false, fmt.Errorf("%w; reading it again: %w", why, err)
	}
	sum := sha256.Sum256(cur.Data)
	st := pd.step
	if st.Action == Delete {
		if absent {
			w.res.Gone++
			w.done++
			return false, nil
		}
		return false, fmt.Errorf("changed since the plan (delete refused): %w", ErrConflict)
	}
	switch {
	case absent:
		pd.op = store.Op{Kind: store.OpCreate, Record: pd.op.Record}
		return true, nil
	case sum == st.Sum:
		w.res.Replanned++
		w.done++
		return false, nil
	case st.Action == Create && w.o.Overwrite:
		st.Action, st.Seen, st.DestSize = Overwrite, SeenOf(cur, sum), int64(len(cur.Data))
		pd.op = store.Op{Kind: store.OpReplace, Record: pd.op.Record, SeenVersion: cur.Version, SeenSHA256: sum}
		return true, nil
	case st.Action == Create:
		return false, fmt.Errorf("appeared in the target since the plan with other bytes (another writer? --overwrite replaces it): %w", ErrConflict)
	}
	return false, fmt.Errorf("changed in the target since the plan: %w", ErrConflict)
}

// readBack reads every record the plan wrote, found identical or deleted,
// with the store's fastest read, and checks it holds what the plan says.
func readBack(ctx context.Context, p *Plan, t store.Store, src Source, o Options) (int, error) {
	index := map[string]*Step{}
	var names []string
	for i := range p.Steps {
		st := &p.Steps[i]
		switch st.Action {
		case Create, Overwrite, Identical, Delete:
			index[st.Name] = st
			names = append(names, st.Name)
		}
	}
	if len(names) == 0 {
		return 0, nil
	}
	var (
		mu  sync.Mutex
		ok  int
		bad []string
	)
	for attempt := 0; ; attempt++ {
		ok, bad = 0, nil
		done := 0
		err := t.Scan(ctx, store.ScanRequest{Names: names}, func(rec store.Record, err error) error {
			mu.Lock()
			defer mu.Unlock()
			st := index[rec.Name]
			if st == nil {
				return nil
			}
			done++
			o.Progress.Report(Event{Phase: PhaseVerify, Record: rec.Name, Done: done, Total: len(names)})
			absent := errors.Is(err, store.ErrNotFound)
			switch {
			case st.Action == Delete && absent:
				ok++
			case st.Action == Delete && err == nil:
				bad = append(bad, rec.Name+" (still there)")
			case absent:
				bad = append(bad, rec.Name+" (missing)")
			case err != nil:
				return fmt.Errorf("read back %s: %w", rec.Name, err)
			default:
				sum := sha256.Sum256(rec.Data)
				if sum == st.Sum || (st.Action == Identical && (sum == st.Seen.SHA256 || (src != nil && src.Same(st, rec.Data)))) {
					ok++
				} else {
					bad = append(bad, rec.Name)
				}
			}
			return nil
		})
		if err != nil && errors.Is(err, store.ErrUnavailable) && attempt < o.Retries && ctx.Err() == nil {
			select {
			case <-time.After(o.RetryWait * time.Duration(attempt+1)):
			case <-ctx.Done():
				return ok, ctx.Err()
			}
			continue
		}
		if err != nil {
			return ok, fmt.Errorf("read back %s: %w", t, err)
		}
		break
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return ok, fmt.Errorf("read back %s: %d of %d records (%s): %w", t, len(bad), len(names),
			strings.Join(bad[:min(3, len(bad))], ", "), ErrReadBack)
	}
	return ok, nil
}

// Verify reads back what a plan with nothing to write covers: the records
// found identical.
func Verify(ctx context.Context, p *Plan, t store.Store, src Source, o Options) (int, error) {
	return readBack(ctx, p, t, src, o)
}
