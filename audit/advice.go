package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/recoverctl/recoverctl/codec/classes"
)

// Group is the records for which a target Master does the same thing for
// the same reason.
type Group struct {
	Verdict   string   `json:"verdict"`
	Effect    string   `json:"effect,omitempty"`
	Class     string   `json:"class,omitempty"`
	Exception string   `json:"exception,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Records   []string `json:"records"`
}

// Groups gathers predictions with one verdict, class and reason (a
// quarantine's effect names each record, so it is not part of the key),
// readable ones first, in the order of their first record.
func Groups(preds []classes.Prediction) []Group {
	var out []Group
	idx := map[[4]string]int{}
	for _, p := range preds {
		k := [4]string{p.Verdict, p.Class, p.Exception, p.Reason}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			effect := p.Effect
			if p.Verdict == classes.VerdictQuarantined {
				effect = "quarantined as " + classes.QuarantinePrefix + "<name>"
			}
			out = append(out, Group{Verdict: p.Verdict, Effect: effect, Class: p.Class, Exception: p.Exception, Reason: p.Reason})
		}
		out[i].Records = append(out[i].Records, p.Record)
	}
	slices.SortStableFunc(out, func(a, b Group) int {
		return boolInt(a.Verdict != classes.VerdictOK) - boolInt(b.Verdict != classes.VerdictOK)
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Advice is one paragraph for the operator: which records survive the
// move to the target, what its Master does with the rest, and the
// commands that prepare the store. store is the store flags as typed
// ("--fs /var/spark/recovery"); "" when there are no predictions.
func Advice(target, store string, preds []classes.Prediction) string {
	if len(preds) == 0 {
		return ""
	}
	var ok, bad, unknown []string
	byVerdict := map[string]int{}
	for _, p := range preds {
		switch p.Verdict {
		case classes.VerdictOK:
			ok = append(ok, p.Record)
		case classes.VerdictUnknown:
			unknown = append(unknown, p.Record)
		default:
			bad = append(bad, p.Record)
			byVerdict[p.Verdict]++
		}
	}
	var b strings.Builder
	if len(bad) == 0 {
		fmt.Fprintf(&b, "All %d records read on Spark %s", len(ok), target)
		if len(unknown) > 0 {
			fmt.Fprintf(&b, " except %d whose classes the tables do not hold (%s): check them before upgrading", len(unknown), strings.Join(unknown, ", "))
		}
		b.WriteString(".")
		return b.String()
	}
	fmt.Fprintf(&b, "%d of %d records survive the move to Spark %s. ", len(ok), len(preds), target)
	var what []string
	for _, v := range []string{classes.VerdictDropped, classes.VerdictSkipped, classes.VerdictQuarantined, classes.VerdictFails, classes.VerdictBroken} {
		n := byVerdict[v]
		if n == 0 {
			continue
		}
		switch v {
		case classes.VerdictDropped:
			what = append(what, fmt.Sprintf("deletes %d when it recovers (the apps, drivers and workers they describe are forgotten)", n))
		case classes.VerdictSkipped:
			what = append(what, fmt.Sprintf("skips %d its recovery filter rejects, leaving them in place unrecovered", n))
		case classes.VerdictQuarantined:
			what = append(what, fmt.Sprintf("renames %d to %s<name> and never reads them again", n, classes.QuarantinePrefix))
		case classes.VerdictFails:
			what = append(what, fmt.Sprintf("stops on the first of %d it reads and stays in STANDBY: it will not become ALIVE until they are gone", n))
		default:
			what = append(what, fmt.Sprintf("cannot read %d", n))
		}
	}
	fmt.Fprintf(&b, "Its Master %s. ", strings.Join(what, "; "))
	ids := make([]string, len(bad))
	for i, n := range bad {
		ids[i] = "--id " + n
	}
	fmt.Fprintf(&b, "To prepare the store: recoverctl backup %s --to BACKUP, then recoverctl prune %s %s; or stay on the release that wrote them.",
		store, store, strings.Join(ids, " "))
	return b.String()
}
