// Package audit checks a recovery store before a Spark Master starts on it:
// every record through codec/classes (gadget and foreign classes, extra
// contents, upgrade readiness), and the store's hygiene, which only the
// store can tell: who may write the ZooKeeper znodes (ACLs) or the recovery
// directory (modes), foreign entries, several worker records for one
// host:port, and records whose name does not match the id inside.
//
// It joins store and codec, reads only, and prints nothing.
package audit

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/codec/classes"
	"github.com/recoverctl/recoverctl/store"
)

// Store-level checks.
const (
	CheckOpenACL       = "open-acl"         // world may create, write, delete or administer a znode
	CheckWritableDir   = "writable-dir"     // recovery directory writable by group or others
	CheckWritableFile  = "writable-file"    // record file writable by group or others
	CheckForeignEntry  = "foreign-entry"    // an entry that is no Spark record
	CheckQuarantined   = "quarantined"      // corrupted_<record>: renamed by a 4.3 FILESYSTEM Master
	CheckDuplicate     = "duplicate-worker" // several worker records for one host:port
	CheckUnreadable    = "unreadable"       // an entry the store could not read
	CheckACLUnreadable = "acl-unreadable"   // a znode whose ACL we may not read
)

// Source is what an audit needs of a store.
type Source interface {
	List(ctx context.Context) ([]store.Entry, error)
	Read(ctx context.Context, name string) (store.Record, error)
}

// ACLReader reads the ACL of any znode by absolute path (chroot
// included). A nil ACL with a nil error means the node does not exist.
type ACLReader interface {
	ACL(ctx context.Context, path string) ([]store.ACL, error)
}

// Options configure Run.
type Options struct {
	Record classes.Options // Engine, when empty, is set by Run from the store kind
	// Dir is the FILESYSTEM recovery directory; its mode and its files'
	// modes are checked.
	Dir string
	// ZK reads the ACLs of SparkDir, SparkDir/master_status and
	// SparkDir/leader_election (absolute, chroot included).
	ZK       ACLReader
	SparkDir string
	// Problems are entries the store could not list (store/fs Problems).
	Problems []string
}

// Report is the whole audit.
type Report struct {
	Store       string               `json:"store"`
	Target      string               `json:"target,omitempty"`
	Records     int                  `json:"records"`
	Findings    []classes.Finding    `json:"findings"`
	Predictions []classes.Prediction `json:"predictions,omitempty"`
	// Groups are the predictions gathered by verdict and reason.
	Groups []Group `json:"groups,omitempty"`
	// Advice is what the operator can do (Advice), set by the caller.
	Advice  string           `json:"advice,omitempty"`
	Results []classes.Result `json:"-"`
}

// Run audits src.
func Run(ctx context.Context, src Source, opts Options) (*Report, error) {
	entries, err := src.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", src, err)
	}
	rep := &Report{Store: fmt.Sprint(src), Findings: []classes.Finding{}}
	ropts := opts.Record
	switch {
	case ropts.Engine != "":
	case opts.ZK != nil:
		ropts.Engine = "zookeeper"
	case opts.Dir != "":
		ropts.Engine = "filesystem"
	}
	if ropts.Target != nil {
		rep.Target = ropts.Target.Release()
	}
	add := func(f classes.Finding) { rep.Findings = append(rep.Findings, f) }

	if opts.ZK != nil {
		fs, err := zkDirs(ctx, opts.ZK, opts.SparkDir)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			add(f)
		}
	}
	if opts.Dir != "" {
		for _, f := range dirModes(opts.Dir, entries) {
			add(f)
		}
	}
	for _, p := range opts.Problems {
		add(classes.Finding{Check: CheckUnreadable, Severity: classes.SeverityHigh, Detail: p})
	}

	workers := map[string][]string{}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if opts.ZK != nil {
			if f, ok := entryACL(e, opts.SparkDir); ok {
				add(f)
			}
		}
		if rec, ok := classes.Quarantined(e.Name); ok && e.Kind == store.KindForeign {
			add(classes.Finding{Path: e.Name, Check: CheckQuarantined, Severity: classes.SeverityWarning,
				Detail: fmt.Sprintf("Spark's own quarantine: a Spark 4.3 Master failed to read %s and renamed it; no Master reads it again (restore %s from a backup into a store a Master reads, or prune --foreign --id %s)", rec, rec, e.Name)})
			continue
		}
		if e.Kind == store.KindForeign {
			add(classes.Finding{Path: e.Name, Check: CheckForeignEntry, Severity: classes.SeverityWarning,
				Detail: fmt.Sprintf("%q is no Spark record name (%d bytes): Spark ignores it, but who put it there?", e.Name, e.Size)})
			continue
		}
		rec, err := src.Read(ctx, e.Name)
		if err != nil {
			add(classes.Finding{Record: e.Name, Check: CheckUnreadable, Severity: classes.SeverityHigh, Detail: err.Error()})
			continue
		}
		rep.Records++
		res := classes.Record(e.Name, rec.Data, ropts)
		rep.Results = append(rep.Results, res)
		rep.Findings = append(rep.Findings, res.Findings...)
		if res.Prediction != nil {
			rep.Predictions = append(rep.Predictions, *res.Prediction)
		}
		if e.Kind == store.KindWorker {
			if r, err := codec.Decode(e.Name, rec.Data, codec.Options{Codec: ropts.Codec}); err == nil && r.Worker != nil {
				hp := fmt.Sprintf("%s:%d", r.Worker.Host, r.Worker.Port)
				workers[hp] = append(workers[hp], e.Name)
			}
		}
	}
	hps := make([]string, 0, len(workers))
	for hp := range workers {
		hps = append(hps, hp)
	}
	slices.Sort(hps)
	for _, hp := range hps {
		if names := workers[hp]; len(names) > 1 {
			add(classes.Finding{Record: strings.Join(names, ","), Check: CheckDuplicate, Severity: classes.SeverityWarning,
				Detail: fmt.Sprintf("%d worker records for %s (%s): the recovering Master keeps one and waits for the others to time out", len(names), hp, strings.Join(names, ", "))})
		}
	}
	rep.Findings = classes.Sorted(rep.Findings)
	rep.Groups = Groups(rep.Predictions)
	return rep, nil
}

// OpenACL reports whether an ACL lets anyone (scheme world) create, write,
// delete or change the ACL: any of those lets a stranger plant or replace a
// record the Master will deserialize.
func OpenACL(acl []store.ACL) (bool, string) {
	for _, a := range acl {
		if a.Scheme == "world" && a.Perms&(2|4|8|16) != 0 {
			return true, fmt.Sprintf("%s:%s:%s", a.Scheme, a.ID, permString(a.Perms))
		}
	}
	return false, ""
}

func permString(p int32) string {
	var b strings.Builder
	for _, x := range []struct {
		bit int32
		c   byte
	}{{4, 'c'}, {8, 'd'}, {1, 'r'}, {2, 'w'}, {16, 'a'}} {
		if p&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

func zkDirs(ctx context.Context, r ACLReader, sparkDir string) ([]classes.Finding, error) {
	var out []classes.Finding
	for _, p := range []string{sparkDir, sparkDir + "/master_status", sparkDir + "/leader_election"} {
		acl, err := r.ACL(ctx, p)
		if err != nil {
			out = append(out, classes.Finding{Path: p, Check: CheckACLUnreadable, Severity: classes.SeverityWarning, Detail: err.Error()})
			continue
		}
		if acl == nil {
			continue
		}
		if open, which := OpenACL(acl); open {
			out = append(out, classes.Finding{Path: p, Check: CheckOpenACL, Severity: classes.SeverityHigh,
				Detail: fmt.Sprintf("ACL %s: anyone who reaches ZooKeeper can create records here that the next Master deserializes (Curator's default ACL; set spark.deploy.zookeeper ACLs or a digest/sasl ACL)", which)})
		}
	}
	return out, nil
}

func entryACL(e store.Entry, sparkDir string) (classes.Finding, bool) {
	open, which := OpenACL(e.ACL)
	if !open {
		return classes.Finding{}, false
	}
	return classes.Finding{Record: e.Name, Path: sparkDir + "/master_status/" + e.Name, Check: CheckOpenACL, Severity: classes.SeverityHigh,
		Detail: fmt.Sprintf("ACL %s: anyone can replace this record's bytes", which)}, true
}

func dirModes(dir string, entries []store.Entry) []classes.Finding {
	var out []classes.Finding
	if fi, err := os.Stat(dir); err == nil {
		if m := fi.Mode().Perm(); m&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
			out = append(out, classes.Finding{Path: dir, Check: CheckWritableDir, Severity: classes.SeverityHigh,
				Detail: fmt.Sprintf("mode %04o: group or others can create files the next Master deserializes (chmod go-w)", m)})
		} else if m&0o022 != 0 {
			out = append(out, classes.Finding{Path: dir, Check: CheckWritableDir, Severity: classes.SeverityHigh,
				Detail: fmt.Sprintf("mode %04o (sticky): others can still add records the next Master deserializes (chmod go-w)", m|0o1000)})
		}
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name)
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if m := fi.Mode().Perm(); m&0o022 != 0 {
			out = append(out, classes.Finding{Record: e.Name, Path: p, Check: CheckWritableFile, Severity: classes.SeverityHigh,
				Detail: fmt.Sprintf("mode %04o: group or others can rewrite this record (chmod go-w)", m)})
		}
	}
	return out
}
