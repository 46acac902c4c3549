// Package prune decides which entries of a recovery store to delete:
// records that no longer decode, applications, drivers and
// workers older than a cut-off, worker records superseded by a newer
// registration on the same host:port, chosen kinds or ids, and (only when
// asked) foreign entries that are no Spark record at all.
//
// It lives apart from migrate because it decodes records (codec) to judge
// them, while migrate only moves bytes; and apart from the command so that
// the rules are tested without cobra. Its plan is a plan of deletes, each
// conditional on the record as it read it; the plan engine (package plan)
// archives, deletes and checks. It never prints.
package prune

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/plan"
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

type candidate struct {
	entry   store.Entry
	seen    plan.Seen
	t       time.Time // zero when unknown
	hostKey string    // worker host:port, "" when unknown
	undec   error
}

// PlanPrune reads and decodes every Spark record of src and applies
// rules: a plan of deletes, each conditional on the record as read here.
// Records are read with the store's fastest read; memory holds what each
// one decoded to, not its bytes.
func PlanPrune(ctx context.Context, src store.Reader, rules Rules) (*plan.Plan, error) {
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
	p := &plan.Plan{Source: src.String(), Target: src.String()}
	var cands []candidate
	var toRead []string
	byName := map[string]store.Entry{}
	for _, e := range entries {
		if e.Kind == store.KindForeign {
			if rules.Foreign && (len(rules.IDs) == 0 || matchID(e.Name, "", rules.IDs)) {
				toRead = append(toRead, e.Name)
				byName[e.Name] = e
			} else {
				p.Extra++
			}
			continue
		}
		if !rules.recordRules() {
			p.Extra++
			continue
		}
		toRead = append(toRead, e.Name)
		byName[e.Name] = e
	}
	var foreign []plan.Step
	err = src.Scan(ctx, store.ScanRequest{Names: toRead}, func(rec store.Record, err error) error {
		if errors.Is(err, store.ErrNotFound) {
			return nil // gone since List
		}
		if err != nil {
			// A record we cannot read is not one we know to be bad.
			return fmt.Errorf("prune plan: read %s: %w", rec.Name, err)
		}
		e := byName[rec.Name]
		e.Size = int64(len(rec.Data))
		seen := plan.SeenOf(rec, sha256.Sum256(rec.Data))
		if e.Kind == store.KindForeign {
			foreign = append(foreign, plan.Step{Name: e.Name, Kind: e.Kind, Action: plan.Delete, Size: e.Size, DestSize: e.Size,
				Reasons: []string{"foreign entry"}, Seen: seen})
			return nil
		}
		c := candidate{entry: e, seen: seen}
		dec, derr := codec.Decode(e.Name, rec.Data, rules.Codec)
		if derr != nil && !errors.Is(derr, codec.ErrKryo) {
			c.undec = derr
		}
		c.t, c.hostKey = describe(e, dec, rules.Location)
		cands = append(cands, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Steps = append(p.Steps, foreign...)
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Compare(a.entry.Name, b.entry.Name) })

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
			p.Extra++
			continue
		}
		st := plan.Step{Name: c.entry.Name, Kind: c.entry.Kind, Action: plan.Delete, Size: c.entry.Size, DestSize: c.entry.Size,
			Reasons: reasons, Seen: c.seen}
		if !c.t.IsZero() {
			t := c.t
			st.Time = &t
		}
		p.Steps = append(p.Steps, st)
	}
	slices.SortFunc(p.Steps, func(a, b plan.Step) int { return cmp.Compare(a.Name, b.Name) })
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
