package classes

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/codec/javaser"
)

// Checks: what a finding is about. The record-level ones come from this
// package; package audit adds the store-level ones.
const (
	CheckGadget       = "gadget"           // a class of a known gadget chain
	CheckForeignClass = "foreign-class"    // a class outside the allow-list
	CheckRejected     = "rejected-class"   // a class an --allow "!pattern" rejects
	CheckLimit        = "filter-limit"     // a maxdepth/maxrefs/maxbytes/maxarray limit exceeded
	CheckContents     = "several-contents" // more than one top-level content
	CheckTrailing     = "trailing-bytes"   // bytes after the stream's last content
	CheckUndecodable  = "undecodable"      // not a Java serialization stream the Master can read
	CheckKryo         = "kryo"             // written by the Kryo recovery serializer: not audited
	CheckNameMismatch = "name-mismatch"    // app_X holding app id Y, or the wrong class for the prefix
	CheckUpgrade      = "upgrade"          // the --target-spark Master would drop or fail on the record
)

// Severities, most severe first.
const (
	SeverityCritical = "critical" // code execution or network access in the Master
	SeverityHigh     = "high"     // the Master will fail or drop data
	SeverityWarning  = "warning"  // not what Spark writes; look at it
)

// Finding is one thing the next Master should not meet.
type Finding struct {
	Record   string `json:"record,omitempty"`
	Path     string `json:"path,omitempty"` // znode or file, for store findings
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Class    string `json:"class,omitempty"`
	Chain    string `json:"chain,omitempty"`   // gadget chain
	Library  string `json:"library,omitempty"` // where the gadget class comes from
	// OnClassPath says whether the target release's jars carry the gadget
	// class (nil: not known).
	OnClassPath *bool  `json:"onclasspath,omitempty"`
	Detail      string `json:"detail"`
}

// Options tune Record.
type Options struct {
	// Allow holds extra JEP-290 patterns, applied before the built-in
	// allow-list ("!pattern" rejects even what the built-in list allows).
	Allow *Filter
	// Target, when set, predicts what a Master of that release does with
	// the record (the Prediction and, when it fails, a CheckUpgrade finding).
	Target *Table
	// RecoveryFilter is the target Master's
	// spark.deploy.recoverySerializationFilter (nil: its default), applied
	// where the target's engine has one (ZOOKEEPER from 4.3).
	RecoveryFilter *Filter
	// Engine is "zookeeper", "filesystem" or "rocksdb": what a failed read
	// costs (EngineOf).
	Engine string
	// Codec forces the compression codec, as codec.Options.Codec.
	Codec string
	Java  javaser.Options
}

// Result is the audit of one record.
type Result struct {
	Record     string      `json:"record"`
	Class      string      `json:"class,omitempty"`
	Contents   int         `json:"contents"`
	Classes    []string    `json:"classes"`
	Findings   []Finding   `json:"findings"`
	Prediction *Prediction `json:"prediction,omitempty"`
}

// Record audits one stored record: name is the file or znode name, data
// its bytes as stored (compression envelopes are removed first).
func Record(name string, data []byte, opts Options) Result {
	res := Result{Record: name, Findings: []Finding{}, Classes: []string{}}
	raw := data
	add := func(f Finding) {
		f.Record = name
		res.Findings = append(res.Findings, f)
	}
	var u envelope.Unwrapped
	var err error
	if opts.Codec != "" {
		form, ok := map[string]envelope.Form{"lz4": envelope.FormLZ4, "lzf": envelope.FormLZF,
			"snappy": envelope.FormSnappy, "zstd": envelope.FormZstd}[strings.ToLower(opts.Codec)]
		if !ok {
			add(Finding{Check: CheckUndecodable, Severity: SeverityHigh, Detail: "unknown compression codec " + opts.Codec})
			return res
		}
		u, err = envelope.OpenAs(form, data, envelope.Limits{})
	} else {
		u, err = envelope.Open(data, envelope.Limits{})
	}
	if u.Serializer == envelope.FormKryo {
		add(Finding{Check: CheckKryo, Severity: SeverityWarning, Class: u.KryoClass,
			Detail: "written by the Kryo recovery serializer; recoverctl audits Java serialization only"})
		return res
	}
	if err != nil {
		add(Finding{Check: CheckUndecodable, Severity: SeverityHigh, Detail: err.Error()})
		// A raw look still finds gadget names in a stream we cannot open.
		data = u.Payload
		if data == nil {
			return res
		}
	} else {
		data = u.Payload
	}

	jopts := opts.Java
	jopts.Record = name
	s := Scan(data, jopts)
	res.Contents = len(s.Contents)
	if len(s.Contents) > 0 {
		if o, ok := s.Contents[0].(*javaser.Object); ok && o != nil {
			res.Class = o.ClassName()
		}
	}
	for _, c := range s.Classes {
		res.Classes = append(res.Classes, c.Name)
	}
	if s.Err != nil {
		add(Finding{Check: CheckUndecodable, Severity: SeverityHigh, Detail: fmt.Sprintf("stream stops at offset %d: %v", s.End, s.Err)})
	}
	if len(s.Contents) > 1 {
		add(Finding{Check: CheckContents, Severity: SeverityWarning,
			Detail: fmt.Sprintf("%d top-level contents; Spark writes one object per record (the Master reads only the first)", len(s.Contents))})
	}
	if s.Err == nil && s.End+s.Padding < len(data) {
		add(Finding{Check: CheckTrailing, Severity: SeverityWarning, Detail: fmt.Sprintf("%d bytes after the stream's end at offset %d", len(data)-s.End, s.End)})
	}

	for _, c := range s.Classes {
		for _, f := range classFindings(c, opts) {
			add(f)
		}
	}
	for _, f := range structural(s) {
		add(f)
	}
	if opts.Allow != nil {
		for _, l := range opts.Allow.CheckLimits(int64(s.Depth), int64(s.Refs), int64(len(data)), int64(s.MaxArray)) {
			add(Finding{Check: CheckLimit, Severity: SeverityHigh, Detail: l})
		}
	}
	if s.Err == nil && len(s.Contents) > 0 {
		add2 := nameCheck(name, data, opts)
		if add2 != nil {
			add(*add2)
		}
	}
	if opts.Target != nil {
		p := Predict(name, s, opts.Target, opts.Engine)
		if u.Codec != envelope.FormUnknown {
			if q, ok := PredictCompressed(name, raw, opts.Target, opts.Engine); ok {
				p = q
			}
		} else if e, _ := EngineOf(opts.Target.Spark, opts.Engine); e.Filter {
			f := opts.RecoveryFilter
			if f == nil {
				f = defaultRecoveryFilter()
			}
			if f != nil {
				filterRejects(&p, s, opts.Target, f)
			}
		}
		res.Prediction = &p
		if p.Verdict != VerdictOK && p.Verdict != VerdictUnknown {
			add(Finding{Check: CheckUpgrade, Severity: SeverityHigh, Class: p.Class,
				Detail: fmt.Sprintf("a Spark %s Master: %s (%s: %s)", p.Target, verdictWords(p), p.Exception, p.Reason)})
		}
	}
	return res
}

func classFindings(c ClassUse, opts Options) []Finding {
	var out []Finding
	base := c.Base()
	if base == "" {
		return nil // array of primitives
	}
	where := string(c.Roles[0])
	for _, r := range c.Roles[1:] {
		where += ", " + string(r)
	}
	for _, g := range matchGadgets(base) {
		f := Finding{Check: CheckGadget, Severity: SeverityCritical, Class: c.Name, Chain: g.Chain, Library: g.Library,
			Detail: fmt.Sprintf("class of the %s gadget chain (%s), as %s", g.Chain, g.Library, where)}
		if opts.Target != nil {
			probe := base
			if g.Probe != "" {
				probe = g.Probe
			}
			if present, known := opts.Target.Present(probe); known {
				f.OnClassPath = &present
			}
		}
		out = append(out, f)
	}
	st, pat := opts.Allow.CheckWhy(base)
	if st == Undecided {
		st, pat = lists().defaultAllow.CheckWhy(base)
	}
	switch st {
	case Rejected:
		out = append(out, Finding{Check: CheckRejected, Severity: SeverityHigh, Class: c.Name,
			Detail: fmt.Sprintf("rejected by %q (as %s)", pat, where)})
	case Undecided:
		if len(out) == 0 { // a gadget finding already says more
			out = append(out, Finding{Check: CheckForeignClass, Severity: SeverityWarning, Class: c.Name,
				Detail: fmt.Sprintf("not a class Spark persists (as %s); allow it with --allow %s if expected", where, base)})
		}
	}
	return out
}

// nameCheck compares the record name with the object inside it.
func nameCheck(name string, data []byte, opts Options) *Finding {
	rec, err := codec.Decode(name, data, codec.Options{Java: opts.Java})
	var me *codec.ModelError
	switch {
	case errors.As(err, &me) && me.Path == "" && rec != nil && strings.HasPrefix(rec.Class, "org.apache.spark.deploy.master."):
		// A Spark record class under the wrong prefix; a foreign root
		// class is reported as such already.
		return &Finding{Check: CheckNameMismatch, Severity: SeverityHigh, Class: rec.Class, Detail: me.Error()}
	case rec == nil:
		return nil
	}
	kind, _ := codec.KindOf(name)
	prefix := string(kind) + "_"
	var id string
	switch {
	case rec.App != nil:
		id = rec.App.ID
	case rec.Driver != nil:
		id = rec.Driver.ID
	case rec.Worker != nil:
		id = rec.Worker.ID
	default:
		return nil
	}
	if want := strings.TrimPrefix(name, prefix); id != want {
		return &Finding{Check: CheckNameMismatch, Severity: SeverityHigh, Class: rec.Class,
			Detail: fmt.Sprintf("record %s holds %s id %q: the Master keys it by the id inside, so removing it later deletes %s%s, not this record", name, kind, id, prefix, id)}
	}
	return nil
}

// Sorted orders findings by severity, then record, check and class.
func Sorted(fs []Finding) []Finding {
	rank := map[string]int{SeverityCritical: 0, SeverityHigh: 1, SeverityWarning: 2}
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b Finding) int {
		if d := rank[a.Severity] - rank[b.Severity]; d != 0 {
			return d
		}
		if d := strings.Compare(a.Record+a.Path, b.Record+b.Path); d != 0 {
			return d
		}
		if d := strings.Compare(a.Check, b.Check); d != 0 {
			return d
		}
		return strings.Compare(a.Class, b.Class)
	})
	return out
}

func verdictWords(p Prediction) string {
	if p.Effect != "" {
		return p.Verdict + ", " + p.Effect
	}
	return p.Verdict
}

var defaultRecoveryFilter = sync.OnceValue(func() *Filter {
	f, err := ParseFilter(DefaultRecoveryFilter)
	if err != nil {
		return nil // a constant: TestRecoveryFilter parses it
	}
	return f
})
