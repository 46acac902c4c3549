// Package migrate copies the recovery state of one Spark standalone store
// into another: a FILESYSTEM directory into ZooKeeper when a single Master
// becomes highly available, and any other pairing (ZooKeeper to a
// directory, another ZooKeeper dir or chroot, directory to directory).
//
// It is written against store.Store only; the command opens the stores.
// Records are converted to what the target's Master reads (the codec
// framing of spark.deploy.recoveryCompressionCodec is removed for
// ZooKeeper, added for a directory whose Master compresses); their
// serialized objects are never changed. A migration is planned before
// anything is written, backs the target up first (package backup), writes
// in transactions sized by bytes, and reads every record back. It never
// deletes or changes anything in the source and never copies foreign
// entries. Running it again after any interruption finishes the job
// without writing a record twice.
//
// It never prints: progress goes to a Progress callback.
package migrate

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
	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/store"
)

// Sentinel errors callers branch on.
var (
	// ErrConflict: target records hold different bytes (Options.Overwrite
	// replaces them).
	ErrConflict = errors.New("target record differs from source")
	// ErrUnconvertible: source records cannot be written for the target's
	// Master (not a Spark record, wrong serializer, unreadable codec).
	ErrUnconvertible = errors.New("source record cannot be migrated")
	// ErrSourceChanged: a source record changed between plan and apply;
	// plan again (and stop the source Master).
	ErrSourceChanged = errors.New("source changed since the migration was planned")
	// ErrReadBack: a target record read back does not match.
	ErrReadBack = errors.New("read-back after migration does not match source")
)

// Action is what a migration does with one source record.
type Action int

const (
	Create        Action = iota // absent in the target: written
	Skip                        // same payload in the target: left alone
	Overwrite                   // different in the target: replaced (Options.Overwrite)
	Conflict                    // different in the target: left alone, migration refused
	Unconvertible               // cannot be written for the target's Master
)

func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Skip:
		return "skip"
	case Overwrite:
		return "overwrite"
	case Conflict:
		return "conflict"
	case Unconvertible:
		return "unconvertible"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// MarshalText makes actions readable in JSON output.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (a *Action) UnmarshalText(b []byte) error {
	for c := Create; c <= Unconvertible; c++ {
		if c.String() == string(b) {
			*a = c
			return nil
		}
	}
	return fmt.Errorf("unknown migration action %q", b)
}

// Options say what the two stores' Masters expect.
type Options struct {
	// SourceCodec is the source directory Master's
	// spark.deploy.recoveryCompressionCodec; "" detects each record's
	// framing from its magic bytes.
	SourceCodec string
	// TargetCodec compresses records written into a directory whose Master
	// has spark.deploy.recoveryCompressionCodec; "" writes them plain (the
	// only form ZooKeeper's engine reads).
	TargetCodec string
	// TargetSerializer is the target Master's recovery serializer,
	// SerializerJava (default) or SerializerKryo. Records are never
	// re-serialized; others are Unconvertible.
	TargetSerializer string
	// Overwrite replaces target records whose payload differs.
	Overwrite bool
	// SkipUnconvertible leaves unconvertible records behind (reported)
	// instead of refusing the migration.
	SkipUnconvertible bool
	// Limits bound decompression of untrusted records.
	Limits envelope.Limits
}

// Source is what a migration reads; store.Store satisfies it.
type Source interface {
	List(ctx context.Context) ([]store.Entry, error)
	Read(ctx context.Context, name string) (store.Record, error)
}

// Target is what a migration writes; store.Store satisfies it.
type Target interface {
	Source
	WriteBatch(ctx context.Context, recs []store.Record) error
}

// bulkReader is implemented by stores that pipeline reads (store/zk).
type bulkReader interface {
	ReadAll(ctx context.Context, names []string, fn func(store.Record, error) error) error
}

// batchCoster is implemented by stores that know what a record costs in
// one WriteBatch (store/zk counts its paths and ACLs).
type batchCoster interface {
	BatchCost(rec store.Record) int
}

// Step is the plan for one source record.
type Step struct {
	Name   string     `json:"name"`
	Kind   store.Kind `json:"-"`
	Action Action     `json:"action"`
	// Conversion is "lz4 -> plain" and the like; "" when copied as is.
	Conversion string `json:"conversion,omitempty"`
	Size       int64  `json:"size"`        // bytes in the source
	TargetSize int64  `json:"target_size"` // bytes to write
	DestSize   int64  `json:"dest_size"`   // bytes already in the target; -1 when absent
	Reason     string `json:"reason,omitempty"`

	sum     [32]byte // SHA-256 of the bytes to write
	payload [32]byte // SHA-256 of the serializer's bytes
}

// Plan is what a migration will do, made before any write so that it can
// be printed; --dry-run stops there.
type Plan struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Steps  []Step `json:"steps"` // source Spark records, by name
	// Foreign are source entries that are no Spark record: never copied.
	Foreign []string `json:"foreign,omitempty"`
	// Extra counts target records absent from the source: left alone.
	Extra int `json:"extra"`

	opts Options
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

// Writes is how many records Apply will write.
func (p *Plan) Writes() int { return p.Count(Create) + p.Count(Overwrite) }

// Refused returns the steps that stop Apply: conflicts, and unconvertible
// records unless Options.SkipUnconvertible.
func (p *Plan) Refused() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Action == Conflict || (s.Action == Unconvertible && !p.opts.SkipUnconvertible) {
			out = append(out, s)
		}
	}
	return out
}

// Phase names the step a progress Event belongs to.
type Phase string

const (
	PhasePlan   Phase = "plan"
	PhaseBackup Phase = "backup"
	PhaseWrite  Phase = "write"
	PhaseVerify Phase = "verify"
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

// Progress receives events from the goroutine doing the work; nil is allowed.
type Progress func(Event)

func (p Progress) report(e Event) {
	if p != nil {
		p(e)
	}
}

// PlanMigration reads every Spark record of src, converts it as opts say,
// and compares it with what dst holds under the same name. Payloads are
// compared after removing both sides' framing, so a record compressed by
// Spark and the same record compressed by this package are identical.
// Memory holds the entry lists and hashes, not the records.
func PlanMigration(ctx context.Context, src Source, dst Source, opts Options, progress Progress) (*Plan, error) {
	for _, c := range []string{opts.SourceCodec, opts.TargetCodec} {
		if c != "" {
			if _, err := codecForm(c); err != nil {
				return nil, fmt.Errorf("migration plan: %w", err)
			}
		}
	}
	switch opts.TargetSerializer {
	case "", SerializerJava, SerializerKryo:
	default:
		return nil, fmt.Errorf("migration plan: target serializer %q: want java or kryo", opts.TargetSerializer)
	}
	p := &Plan{Source: fmt.Sprint(src), Target: fmt.Sprint(dst), opts: opts}
	srcEntries, err := src.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration plan: list source %s: %w", src, err)
	}
	dstEntries, err := dst.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration plan: list target %s: %w", dst, err)
	}
	inTarget := make(map[string]bool, len(dstEntries))
	for _, e := range dstEntries {
		inTarget[e.Name] = true
	}
	index := make(map[string]int)
	var names []string
	for _, e := range srcEntries {
		if e.Kind == store.KindForeign {
			p.Foreign = append(p.Foreign, e.Name)
			continue
		}
		if _, dup := index[e.Name]; dup {
			return nil, fmt.Errorf("migration plan: source lists %s twice", e.Name)
		}
		index[e.Name] = len(p.Steps)
		names = append(names, e.Name)
		p.Steps = append(p.Steps, Step{Name: e.Name, Kind: e.Kind, Size: e.Size, DestSize: -1})
	}
	for _, e := range dstEntries {
		if _, ok := index[e.Name]; !ok && e.Kind != store.KindForeign {
			p.Extra++
		}
	}

	// Source: convert each record and keep its hashes; records are read
	// and converted concurrently, steps updated by one goroutine.
	var vanished []string
	var conflictsToRead []string
	done := 0
	err = mapEach(ctx, src, names, func(rec store.Record, err error) (planned, error) {
		return planRecord(rec, err, &opts)
	}, func(r planned) error {
		st := &p.Steps[index[r.name]]
		done++
		progress.report(Event{Phase: PhasePlan, Record: r.name, Done: done, Total: len(names)})
		if r.vanished {
			vanished = append(vanished, r.name)
			return nil
		}
		st.Size = r.size
		if r.unconv {
			st.Action, st.Reason = Unconvertible, r.reason
			return nil
		}
		st.Conversion, st.TargetSize, st.sum, st.payload = r.conversion, r.targetSize, r.sum, r.payload
		if inTarget[r.name] {
			conflictsToRead = append(conflictsToRead, r.name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migration plan: %w", err)
	}
	// A record listed and then gone is left out: the Master that removed
	// it (finished app, dead worker) would not recover it either.
	if len(vanished) > 0 {
		p.Steps = slices.DeleteFunc(p.Steps, func(s Step) bool { return slices.Contains(vanished, s.Name) })
		for i, s := range p.Steps {
			index[s.Name] = i
		}
	}

	// Target: compare what exists under the same names.
	slices.Sort(conflictsToRead)
	err = readTarget(ctx, dst, conflictsToRead, len(dstEntries), func(rec store.Record, err error) error {
		st := &p.Steps[index[rec.Name]]
		if errors.Is(err, store.ErrNotFound) {
			return nil // gone since List: create it
		}
		if err != nil {
			return fmt.Errorf("read target %s: %w", rec.Name, err)
		}
		st.DestSize = int64(len(rec.Data))
		same, why := sameRecord(rec.Data, st, &opts)
		switch {
		case same:
			st.Action = Skip
		case opts.Overwrite:
			st.Action, st.Reason = Overwrite, why
		default:
			st.Action, st.Reason = Conflict, why
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migration plan: %w", err)
	}
	return p, nil
}

// planned is what planning learnt about one source record.
type planned struct {
	name       string
	vanished   bool // listed, then gone
	unconv     bool
	reason     string // why it is unconvertible
	size       int64
	conversion string
	targetSize int64
	sum        [32]byte
	payload    [32]byte
}

// planRecord converts one source record and hashes the result; it runs on
// several goroutines at once.
func planRecord(rec store.Record, err error, opts *Options) (planned, error) {
	r := planned{name: rec.Name}
	if errors.Is(err, store.ErrNotFound) {
		r.vanished = true
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("read source %s: %w", rec.Name, err)
	}
	r.size = int64(len(rec.Data))
	c, err := convert(rec, opts)
	var uerr *unconvertibleError
	if errors.As(err, &uerr) {
		r.unconv, r.reason = true, uerr.reason
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("convert %s: %w", rec.Name, err)
	}
	r.conversion = c.conversion()
	r.targetSize = int64(len(c.data))
	r.sum = sha256.Sum256(c.data)
	r.payload = sha256.Sum256(c.payload)
	return r, nil
}

// sameRecord says whether data, as stored in the target, is what the step
// would write: the same bytes, or the same payload in the framing the
// target's Master reads.
func sameRecord(data []byte, st *Step, opts *Options) (bool, string) {
	if sha256.Sum256(data) == st.sum {
		return true, ""
	}
	found, payload, _, err := unwrap(data, "", opts.Limits)
	if err != nil {
		return false, fmt.Sprintf("target holds something else (%v)", err)
	}
	if sha256.Sum256(payload) != st.payload {
		return false, "target holds a different record under this name"
	}
	if found != opts.TargetCodec {
		return false, fmt.Sprintf("target holds the same record framed as %s, its Master reads %s", orPlain(found), orPlain(opts.TargetCodec))
	}
	return true, ""
}

func orPlain(codec string) string {
	if codec == "" {
		return plain
	}
	return codec
}

// ApplyOptions say how Apply writes.
type ApplyOptions struct {
	// BackupPath is where the target is archived (backup.WriteFile) before
	// the first write. Required when the plan writes anything.
	BackupPath string
	// BackupInfo describes the target for the archive's manifest.
	BackupInfo backup.Info
	// BatchBytes bounds one WriteBatch; 0 means backup.DefaultBatchBytes.
	BatchBytes int
	// Retries is how often a batch that failed because the store was
	// unavailable (ZooKeeper restarting, session expired) is tried again,
	// RetryWait apart (growing). Writing a batch again is safe: it holds
	// the same bytes.
	Retries   int
	RetryWait time.Duration
}

// Result says what Apply did.
type Result struct {
	Written  int           `json:"written"`
	Skipped  int           `json:"skipped"`
	Left     int           `json:"left"` // unconvertible records left behind
	Batches  int           `json:"batches"`
	Retries  int           `json:"retries"`
	Bytes    int64         `json:"bytes"` // bytes written
	Verified int           `json:"verified"`
	Backup   string        `json:"backup,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// defaultCost is what a record counts in a batch for stores that do not
// say: its bytes, its name and ZooKeeper's per-op framing and ACL.
func defaultCost(r store.Record) int {
	n := len(r.Data) + len(r.Name) + 256
	for _, a := range r.ACL {
		n += 8 + len(a.Scheme) + len(a.ID)
	}
	return n
}

// readChunk is how many source records Apply reads ahead at once, and
// batchQueue how many finished batches wait for the writer: together they
// bound Apply's memory whatever the number of records.
const (
	readChunk  = 512
	batchQueue = 2
)

// makeBatches reads todo from src chunk by chunk (concurrently within a
// chunk), converts each record, checks it is what was planned, and sends
// batches of at most batchBytes in plan order (a larger record goes
// alone). It stops when ctx is done.
func (p *Plan) makeBatches(ctx context.Context, src Source, todo []string, index map[string]int, cost func(store.Record) int,
	batchBytes int, out chan<- []store.Record) error {
	var batch []store.Record
	batchCost := 0
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch, batchCost = nil, 0
		return nil
	}
	for chunk := range slices.Chunk(todo, readChunk) {
		got := make(map[string]store.Record, len(chunk))
		err := mapEach(ctx, src, chunk, func(rec store.Record, err error) (store.Record, error) {
			if err != nil {
				return rec, fmt.Errorf("read source %s: %w", rec.Name, err)
			}
			c, err := convert(rec, &p.opts)
			if err != nil || sha256.Sum256(c.data) != p.Steps[index[rec.Name]].sum {
				return rec, fmt.Errorf("%s: %w", rec.Name, ErrSourceChanged)
			}
			return store.Record{Entry: store.Entry{Name: rec.Name, Kind: rec.Kind, ID: rec.ID, Size: int64(len(c.data))}, Data: c.data}, nil
		}, func(rec store.Record) error {
			got[rec.Name] = rec
			return nil
		})
		if err != nil {
			return err
		}
		for _, name := range chunk {
			rec := got[name]
			c := cost(rec)
			if len(batch) > 0 && batchCost+c > batchBytes {
				if err := send(); err != nil {
					return err
				}
			}
			batch = append(batch, rec)
			batchCost += c
		}
	}
	return send()
}

// Apply carries out the plan: it refuses if the plan has conflicts or
// unconvertible records, backs the target up, then reads each record to
// write from src again, converts it, checks it is what was planned, and
// writes it with WriteBatch in batches of at most BatchBytes (a larger
// record goes alone), reading back each written record from dst while
// later batches are written, and the records found identical last.
func (p *Plan) Apply(ctx context.Context, src Source, dst Target, ao ApplyOptions, progress Progress) (Result, error) {
	start := time.Now()
	res := Result{Left: p.Count(Unconvertible), Skipped: p.Count(Skip)}
	if refused := p.Refused(); len(refused) > 0 {
		return res, refusal(refused)
	}
	if ao.BatchBytes <= 0 {
		ao.BatchBytes = backup.DefaultBatchBytes
	}
	cost := defaultCost
	if bc, ok := dst.(batchCoster); ok {
		cost = bc.BatchCost
	}
	var todo []string
	index := make(map[string]int, len(p.Steps))
	for i, s := range p.Steps {
		index[s.Name] = i
		if s.Action == Create || s.Action == Overwrite {
			todo = append(todo, s.Name)
		}
	}
	if len(todo) > 0 {
		if ao.BackupPath == "" {
			return res, errors.New("migrate: no backup path for the target archive")
		}
		_, err := backup.WriteFile(ctx, dst, ao.BackupPath, ao.BackupInfo, func(e backup.Event) {
			progress.report(Event{Phase: PhaseBackup, Record: e.Record, Done: e.Done, Total: e.Total, Bytes: e.Bytes})
		})
		if err != nil {
			return res, fmt.Errorf("migrate: back up target %s to %s: %w", dst, ao.BackupPath, err)
		}
		res.Backup = ao.BackupPath
	}

	// Progress comes from the writer and the read-back goroutines.
	var progressMu sync.Mutex
	progress = func(report Progress) Progress {
		return func(e Event) {
			progressMu.Lock()
			defer progressMu.Unlock()
			report.report(e)
		}
	}(progress)
	rb := p.startReadBack(ctx, dst, ao, progress)

	// Batches are made in plan order by one goroutine, reading and
	// converting the next chunk of records while the previous batches are
	// written; one WriteBatch at a time, so a failure leaves a prefix of
	// whole batches.
	batches := make(chan []store.Record, batchQueue)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var prodErr error
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		defer close(batches)
		prodErr = p.makeBatches(pctx, src, todo, index, cost, ao.BatchBytes, batches)
	}()
	write := func(batch []store.Record) error {
		err := ao.retry(ctx, func() error { return dst.WriteBatch(ctx, batch) }, func(err error) {
			res.Retries++
			progress.report(Event{Phase: PhaseWrite, Record: batch[0].Name, Done: res.Written, Total: len(todo), Bytes: res.Bytes, Retry: err})
		})
		if err != nil {
			return fmt.Errorf("migrate: write %d records from %s to %s: %w", len(batch), batch[0].Name, dst, err)
		}
		res.Batches++
		for _, r := range batch {
			res.Written++
			res.Bytes += int64(len(r.Data))
		}
		progress.report(Event{Phase: PhaseWrite, Record: batch[len(batch)-1].Name, Done: res.Written, Total: len(todo), Bytes: res.Bytes})
		for _, r := range batch {
			if !rb.add(r.Name) {
				break // the read-back failed: finish reports it
			}
		}
		return nil
	}
	for batch := range batches {
		if err := write(batch); err != nil {
			cancel()
			for range batches { // let the producer finish
			}
			<-prodDone
			rb.finish()
			return res, err
		}
	}
	<-prodDone
	if prodErr != nil {
		rb.finish()
		return res, fmt.Errorf("migrate: %w", prodErr)
	}
	for _, s := range p.Steps {
		if s.Action == Skip && !rb.add(s.Name) {
			break
		}
	}
	n, err := rb.finish()
	res.Verified = n
	res.Duration = time.Since(start)
	if err != nil {
		return res, err
	}
	return res, nil
}

func refusal(refused []Step) error {
	var conflicts, unconv []string
	for _, s := range refused {
		if s.Action == Conflict {
			conflicts = append(conflicts, s.Name)
		} else {
			unconv = append(unconv, s.Name)
		}
	}
	first := func(names []string) string {
		if len(names) > 3 {
			return strings.Join(names[:3], ", ") + ", ..."
		}
		return strings.Join(names, ", ")
	}
	var errs []error
	if len(conflicts) > 0 {
		errs = append(errs, fmt.Errorf("migrate: %d target records differ from the source (%s; use --overwrite): %w",
			len(conflicts), first(conflicts), ErrConflict))
	}
	if len(unconv) > 0 {
		errs = append(errs, fmt.Errorf("migrate: %d source records cannot be migrated (%s; see the plan, or leave them behind with --skip-unconvertible): %w",
			len(unconv), first(unconv), ErrUnconvertible))
	}
	return errors.Join(errs...)
}

// Verify reads back every record the plan copies or found identical and
// checks the target holds what the plan says, returning how many matched.
func (p *Plan) Verify(ctx context.Context, dst Source, progress Progress) (int, error) {
	v := p.newVerifier(progress)
	var names []string
	for _, s := range p.Steps {
		if s.Action == Create || s.Action == Overwrite || s.Action == Skip {
			names = append(names, s.Name)
		}
	}
	v.total = len(names)
	err := readTarget(ctx, dst, names, len(names)+p.Extra, v.check)
	return v.result(err)
}

// verifier compares records read back from the target with the plan.
type verifier struct {
	p        *Plan
	index    map[string]int
	total    int
	ok       int
	bad      []string
	progress Progress
}

func (p *Plan) newVerifier(progress Progress) *verifier {
	index := make(map[string]int, len(p.Steps))
	for i, s := range p.Steps {
		index[s.Name] = i
	}
	return &verifier{p: p, index: index, progress: progress}
}

// check takes one record read back (or the error reading it).
func (v *verifier) check(rec store.Record, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		v.bad = append(v.bad, rec.Name+" (missing)")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read back %s: %w", rec.Name, err)
	}
	st := &v.p.Steps[v.index[rec.Name]]
	if same, _ := sameRecord(rec.Data, st, &v.p.opts); same {
		v.ok++
	} else {
		v.bad = append(v.bad, rec.Name)
	}
	v.progress.report(Event{Phase: PhaseVerify, Record: rec.Name, Done: v.ok + len(v.bad), Total: v.total})
	return nil
}

func (v *verifier) result(err error) (int, error) {
	if err != nil {
		return v.ok, fmt.Errorf("migrate: verify %s: %w", v.p.Target, err)
	}
	if len(v.bad) > 0 {
		slices.Sort(v.bad)
		return v.ok, fmt.Errorf("migrate: verify %s: %d of %d records (%s): %w", v.p.Target, len(v.bad), v.total,
			strings.Join(v.bad[:min(3, len(v.bad))], ", "), ErrReadBack)
	}
	return v.ok, nil
}

// readBackWorkers is how many reads Apply's read-back keeps in flight.
const readBackWorkers = 64

// dataReader is implemented by stores that read a record's bytes more
// cheaply than Read when its ACL is not wanted (store/zk: one getData
// instead of getData and getACL).
type dataReader interface {
	ReadData(ctx context.Context, name string) (store.Record, error)
}

// readBack checks records in the target while later batches are written:
// readBackWorkers goroutines with one read each keep the store's pipeline
// busy between the writes, so the read-back overlaps the writing rather
// than adding its whole length after the last batch.
type readBack struct {
	names chan string
	wg    sync.WaitGroup
	ctx   context.Context
	mu    sync.Mutex // guards v and err
	v     *verifier
	err   error
}

func (p *Plan) startReadBack(ctx context.Context, dst Source, ao ApplyOptions, progress Progress) *readBack {
	rb := &readBack{names: make(chan string, readBackWorkers), ctx: ctx, v: p.newVerifier(progress)}
	rb.v.total = p.Writes() + p.Count(Skip)
	read := dst.Read
	if d, ok := dst.(dataReader); ok {
		read = d.ReadData
	}
	for range readBackWorkers {
		rb.wg.Add(1)
		go func() {
			defer rb.wg.Done()
			for name := range rb.names {
				var rec store.Record
				err := ao.retry(ctx, func() (err error) {
					rec, err = read(ctx, name)
					return err
				}, nil)
				if rec.Name == "" {
					rec.Name = name
				}
				rb.mu.Lock()
				if rb.err == nil {
					rb.err = rb.v.check(rec, err)
				}
				rb.mu.Unlock()
			}
		}()
	}
	return rb
}

// add queues a record to read back; false once the read-back failed.
func (rb *readBack) add(name string) bool {
	rb.mu.Lock()
	failed := rb.err != nil
	rb.mu.Unlock()
	if failed || rb.ctx.Err() != nil {
		return false
	}
	select {
	case rb.names <- name:
		return true
	case <-rb.ctx.Done():
		return false
	}
}

// finish waits for the reads queued and returns how many records matched.
func (rb *readBack) finish() (int, error) {
	close(rb.names)
	rb.wg.Wait()
	return rb.v.result(rb.err)
}

// retry runs op, again after a growing pause while it fails with the
// store unavailable (ZooKeeper restarting, a session expired), up to
// Retries times; onRetry hears of each failure retried. Writing a batch or
// reading a record again is safe: it holds the same bytes.
func (ao ApplyOptions) retry(ctx context.Context, op func() error, onRetry func(error)) error {
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil || !errors.Is(err, store.ErrUnavailable) || attempt >= ao.Retries || ctx.Err() != nil {
			return err
		}
		if onRetry != nil {
			onRetry(err)
		}
		select {
		case <-time.After(ao.RetryWait * time.Duration(attempt+1)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
