// Package prune decides which entries of a recovery store to delete and
// deletes them: records that no longer decode, applications, drivers and
// workers older than a cut-off, worker records superseded by a newer
// registration on the same host:port, chosen kinds or ids, and (only when
// asked) foreign entries that are no Spark record at all.
//
// It lives apart from migrate because it decodes records (codec) to judge
// them, while migrate only moves bytes; and apart from the command so that
// the rules are tested without cobra. Like every destructive path it plans
// first, archives what it will delete (package backup) before the first
// delete, then checks the store again. It never prints.
package prune

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/store"
)

// ErrNoRule is a prune with no rule: it would select nothing, or everything.
var ErrNoRule = errors.New("no prune rule given")

// Rules select what to delete. A Spark record is deleted when it matches
// every record rule given (Undecodable, OlderThan, DuplicateWorkers, Kinds,
// IDs), at least one of which must be given unless only Foreign is. Foreign
// entries are deleted only with Foreign, narrowed by IDs (as name
// prefixes) when given.
type Rules struct {
	Undecodable      bool
	OlderThan        time.Duration // 0: no age rule
	DuplicateWorkers bool
	Kinds            []store.Kind
	IDs              []string // exact or prefix, of the id or the whole name
	Foreign          bool

	// Now is the reference for OlderThan; zero means time.Now().
	Now time.Time
	// Location is the Master's zone, in which ids carry their timestamps
	// (yyyyMMddHHmmss); nil means time.Local.
	Location *time.Location
	// Codec tunes decoding (the directory's codec, limits).
	Codec codec.Options
}

func (r *Rules) recordRules() bool {
	return r.Undecodable || r.OlderThan > 0 || r.DuplicateWorkers || len(r.Kinds) > 0 || len(r.IDs) > 0
}

// Item is one entry the plan deletes, with why.
type Item struct {
	Name    string     `json:"name"`
	Kind    string     `json:"kind"`
	Size    int64      `json:"size"`
	Time    *time.Time `json:"time,omitempty"` // start or registration time, when known
	Reasons []string   `json:"reasons"`
}

// Plan is what a prune will delete.
type Plan struct {
	Store   string `json:"store"`
	Delete  []Item `json:"delete"`
	Kept    int    `json:"kept"`    // Spark records left alone
	Foreign int    `json:"foreign"` // foreign entries left alone
}

// Source is what planning reads; store.Store satisfies it.
type Source interface {
	List(ctx context.Context) ([]store.Entry, error)
	Read(ctx context.Context, name string) (store.Record, error)
}

// Target is what Apply changes; store.Store satisfies it.
type Target interface {
	Source
	Delete(ctx context.Context, name string) error
}

type candidate struct {
	entry   store.Entry
	t       time.Time // zero when unknown
	hostKey string    // worker host:port, "" when unknown
	undec   error
}

// PlanPrune reads and decodes every Spark record of src and applies rules.
func PlanPrune(ctx context.Context, src Source, rules Rules) (*Plan, error) {
	if !rules.recordRules() && !rules.Foreign {
		return nil, ErrNoRule
	}
	if rules.Now.IsZero() {
		rules.Now = time.Now()
	}
	if rules.Location == nil {
		rules.Location = time.Local
	}
	entries, err := src.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune plan: list %s: %w", src, err)
	}
	p := &Plan{Store: fmt.Sprint(src)}
	var cands []candidate
	for _, e := range entries {
		if e.Kind == store.KindForeign {
			if rules.Foreign && (len(rules.IDs) == 0 || matchID(e.Name, "", rules.IDs)) {
				p.Delete = append(p.Delete, Item{Name: e.Name, Kind: e.Kind.String(), Size: e.Size, Reasons: []string{"foreign entry"}})
			} else {
				p.Foreign++
			}
			continue
		}
		if !rules.recordRules() {
			p.Kept++
			continue
		}
		rec, err := src.Read(ctx, e.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue // gone since List
		}
		if err != nil {
			// A record we cannot read is not one we know to be bad.
			return nil, fmt.Errorf("prune plan: read %s: %w", e.Name, err)
		}
		c := candidate{entry: e}
		c.entry.Size = int64(len(rec.Data))
		dec, derr := codec.Decode(e.Name, rec.Data, rules.Codec)
		if derr != nil && !errors.Is(derr, codec.ErrKryo) {
			c.undec = derr
		}
		c.t, c.hostKey = describe(e, dec, rules.Location)
		cands = append(cands, c)
	}

	// The newest record of each worker host:port survives.
	superseded := map[string]string{}
	if rules.DuplicateWorkers {
		byHost := map[string][]candidate{}
		for _, c := range cands {
			if c.entry.Kind == store.KindWorker && c.hostKey != "" {
				byHost[c.hostKey] = append(byHost[c.hostKey], c)
			}
		}
		for host, cs := range byHost {
			if len(cs) < 2 {
				continue
			}
			slices.SortFunc(cs, func(a, b candidate) int {
				return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.entry.Name, b.entry.Name))
			})
			newest := cs[len(cs)-1].entry.Name
			for _, c := range cs[:len(cs)-1] {
				superseded[c.entry.Name] = fmt.Sprintf("worker %s registered again as %s", host, newest)
			}
		}
	}

	cutoff := rules.Now.Add(-rules.OlderThan)
	for _, c := range cands {
		var reasons []string
		ok := true
		if rules.Undecodable {
			if c.undec != nil {
				reasons = append(reasons, "undecodable: "+c.undec.Error())
			} else {
				ok = false
			}
		}
		if ok && rules.OlderThan > 0 {
			if !c.t.IsZero() && c.t.Before(cutoff) {
				reasons = append(reasons, fmt.Sprintf("older than %s (%s)", rules.OlderThan, c.t.In(rules.Location).Format(time.RFC3339)))
			} else {
				ok = false
			}
		}
		if ok && rules.DuplicateWorkers {
			if why, dup := superseded[c.entry.Name]; dup {
				reasons = append(reasons, why)
			} else {
				ok = false
			}
		}
		if ok && len(rules.Kinds) > 0 {
			if slices.Contains(rules.Kinds, c.entry.Kind) {
				reasons = append(reasons, "kind "+c.entry.Kind.String())
			} else {
				ok = false
			}
		}
		if ok && len(rules.IDs) > 0 {
			if matchID(c.entry.Name, c.entry.ID, rules.IDs) {
				reasons = append(reasons, "id "+c.entry.ID)
			} else {
				ok = false
			}
		}
		if !ok {
			p.Kept++
			continue
		}
		it := Item{Name: c.entry.Name, Kind: c.entry.Kind.String(), Size: c.entry.Size, Reasons: reasons}
		if !c.t.IsZero() {
			t := c.t
			it.Time = &t
		}
		p.Delete = append(p.Delete, it)
	}
	slices.SortFunc(p.Delete, func(a, b Item) int { return cmp.Compare(a.Name, b.Name) })
	return p, nil
}

func matchID(name, id string, ids []string) bool {
	for _, want := range ids {
		if want == "" {
			continue
		}
		if (id != "" && strings.HasPrefix(id, want)) || strings.HasPrefix(name, want) {
			return true
		}
	}
	return false
}

// describe returns when the record's subject appeared and, for a worker,
// its host:port: from the decoded record when it decoded, else from the id
// (app-yyyyMMddHHmmss-NNNN, driver-yyyyMMddHHmmss-NNNN,
// worker-yyyyMMddHHmmss-host-port), so that undecodable records can be
// aged too.
func describe(e store.Entry, dec *codec.Record, loc *time.Location) (time.Time, string) {
	var t time.Time
	host := ""
	if dec != nil {
		switch {
		case dec.App != nil && dec.App.StartTime > 0:
			t = time.UnixMilli(dec.App.StartTime)
		case dec.App != nil && dec.App.SubmitDateMs > 0:
			t = time.UnixMilli(dec.App.SubmitDateMs)
		case dec.Driver != nil && dec.Driver.StartTime > 0:
			t = time.UnixMilli(dec.Driver.StartTime)
		case dec.Driver != nil && dec.Driver.SubmitDateMs > 0:
			t = time.UnixMilli(dec.Driver.SubmitDateMs)
		}
		if dec.Worker != nil && dec.Worker.Host != "" {
			host = fmt.Sprintf("%s:%d", dec.Worker.Host, dec.Worker.Port)
		}
	}
	idTime, idHost := ParseID(e.ID, loc)
	if t.IsZero() {
		t = idTime
	}
	if host == "" && e.Kind == store.KindWorker {
		host = idHost
	}
	return t, host
}

// ParseID reads the timestamp Spark puts in app, driver and worker ids
// (Master.DATE_TIME_FORMATTER, yyyyMMddHHmmss in the Master's zone) and,
// for a worker id worker-<time>-<host>-<port>, its host:port.
func ParseID(id string, loc *time.Location) (time.Time, string) {
	parts := strings.SplitN(id, "-", 3)
	if len(parts) < 3 || len(parts[1]) != 14 {
		return time.Time{}, ""
	}
	t, err := time.ParseInLocation("20060102150405", parts[1], loc)
	if err != nil {
		return time.Time{}, ""
	}
	host := ""
	if parts[0] == "worker" {
		if i := strings.LastIndexByte(parts[2], '-'); i > 0 && i < len(parts[2])-1 {
			host = parts[2][:i] + ":" + parts[2][i+1:]
		}
	}
	return t, host
}

// Result says what Apply did.
type Result struct {
	Deleted int    `json:"deleted"`
	Gone    int    `json:"gone"` // already absent: a rerun, or the Master removed them
	Backup  string `json:"backup,omitempty"`
}

// Event reports progress.
type Event struct {
	Phase string // "backup", "delete"
	Name  string
	Done  int
	Total int
}

// Progress receives events; nil is allowed.
type Progress func(Event)

// Apply archives every entry the plan deletes into backupPath
// (backup.WriteFile, foreign entries included), then deletes them one by
// one and lists the store again to check they are gone. Entries already
// gone are counted, not errors, so a rerun after an interruption finishes.
func (p *Plan) Apply(ctx context.Context, t Target, backupPath string, info backup.Info, progress Progress) (Result, error) {
	var res Result
	if len(p.Delete) == 0 {
		return res, nil
	}
	if backupPath == "" {
		return res, errors.New("prune: no backup path")
	}
	report := func(e Event) {
		if progress != nil {
			progress(e)
		}
	}
	want := make(map[string]bool, len(p.Delete))
	for _, it := range p.Delete {
		want[it.Name] = true
	}
	info.IncludeForeign = true
	_, err := backup.WriteFile(ctx, selection{t, want}, backupPath, info, func(e backup.Event) {
		report(Event{Phase: "backup", Name: e.Record, Done: e.Done, Total: e.Total})
	})
	if err != nil {
		return res, fmt.Errorf("prune: save what is deleted to %s: %w", backupPath, err)
	}
	res.Backup = backupPath
	for i, it := range p.Delete {
		err := t.Delete(ctx, it.Name)
		switch {
		case err == nil:
			res.Deleted++
		case errors.Is(err, store.ErrNotFound):
			res.Gone++
		default:
			return res, fmt.Errorf("prune: delete %s (%d of %d; the rest are kept, all are in %s): %w", it.Name, i+1, len(p.Delete), backupPath, err)
		}
		report(Event{Phase: "delete", Name: it.Name, Done: i + 1, Total: len(p.Delete)})
	}
	entries, err := t.List(ctx)
	if err != nil {
		return res, fmt.Errorf("prune: check %s: %w", t, err)
	}
	for _, e := range entries {
		if want[e.Name] {
			return res, fmt.Errorf("prune: %s is still there after its delete (a live Master wrote it again?)", e.Name)
		}
	}
	return res, nil
}

// selection is the part of a store a prune deletes, for the archive.
type selection struct {
	Source
	names map[string]bool
}

func (s selection) List(ctx context.Context) ([]store.Entry, error) {
	entries, err := s.Source.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(entries, func(e store.Entry) bool { return !s.names[e.Name] }), nil
}

func (s selection) String() string { return fmt.Sprint(s.Source) }
