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
	verdict := ""
	for _, p := range preds {
		switch p.Verdict {
		case classes.VerdictOK:
			ok = append(ok, p.Record)
		case classes.VerdictUnknown:
			unknown = append(unknown, p.Record)
		default:
			bad = append(bad, p.Record)
			verdict = p.Verdict
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
	switch verdict {
	case classes.VerdictDropped:
		fmt.Fprintf(&b, "Its Master deletes the other %d when it recovers, and the apps, drivers and workers they describe are forgotten. ", len(bad))
	case classes.VerdictQuarantined:
		fmt.Fprintf(&b, "Its Master renames the other %d to %s<name>, never reads them again, and recovers the rest. ", len(bad), classes.QuarantinePrefix)
	case classes.VerdictFails:
		fmt.Fprintf(&b, "Its Master stops on the first of the other %d it reads and stays in STANDBY: it will not become ALIVE until they are gone. ", len(bad))
	default:
		fmt.Fprintf(&b, "Its Master cannot read the other %d. ", len(bad))
	}
	ids := make([]string, len(bad))
	for i, n := range bad {
		ids[i] = "--id " + n
	}
	fmt.Fprintf(&b, "To prepare the store: recoverctl backup %s --to BACKUP, then recoverctl prune %s %s; or stay on the release that wrote them.",
		store, store, strings.Join(ids, " "))
	return b.String()
}
