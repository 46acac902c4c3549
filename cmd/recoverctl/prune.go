package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/livemaster"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/prune"
	"github.com/recoverctl/recoverctl/store"
)

func newPruneCommand() *cobra.Command {
	var (
		sf storeFlags
		o  pruneOptions
	)
	cmd := &cobra.Command{
		Use:   "prune [rules]",
		Short: "Delete stale or broken entries from a store, keeping them in an archive",
		Long: `prune deletes entries of a store (named like ls names it) chosen by rules:

  --undecodable          records that do not decode (Kryo records are not undecodable)
  --older-than DURATION  apps and drivers started, workers registered, before now-DURATION
                         (units h, m, s and d for days: 720h, 30d); workers by the time in
                         their id worker-yyyyMMddHHmmss-host-port
  --duplicate-workers    older worker records of a host:port registered again (the newest stays)
  --kind KIND            app, driver or worker (repeatable)
  --id ID                an id or record name, exact or prefix (repeatable)
  --foreign              entries that are no Spark record; prune is the only command that
                         touches them, and only with this flag

A Spark record is deleted when it matches every record rule given. Foreign
entries are deleted only with --foreign (narrowed by --id prefixes).

prune prints its plan (--dry-run stops there), asks on a terminal (--yes is
required otherwise), saves every entry it will delete into an archive in
--backup-dir whose name it prints first (restore it with recoverctl restore),
deletes, and lists the store again. It refuses while a live Master holds the
store (exit 6) unless --force.`,
		Example: `  recoverctl prune --zk zk1:2181 --undecodable --dry-run
  recoverctl prune --fs /var/spark/recovery --kind app --older-than 30d --yes
  recoverctl prune --zk zk1:2181 --duplicate-workers --yes -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(o.output)
			if err != nil {
				return err
			}
			rules, err := o.rules()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runPrune(ctx, &sf, &o, rules, format, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	sf.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&o.undecodable, "undecodable", false, "records that do not decode")
	fl.StringVar(&o.olderThan, "older-than", "", "started or registered longer ago than this (720h, 30d)")
	fl.BoolVar(&o.duplicateWorkers, "duplicate-workers", false, "older worker records of one host:port (the newest stays)")
	fl.StringSliceVar(&o.kinds, "kind", nil, "app, driver or worker (repeatable)")
	fl.StringArrayVar(&o.ids, "id", nil, "id or record name, exact or prefix (repeatable)")
	fl.BoolVar(&o.foreign, "foreign", false, "entries that are no Spark record")
	o.w.register(cmd, false)
	fl.StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

type pruneOptions struct {
	undecodable, duplicateWorkers, foreign bool
	olderThan                              string
	kinds, ids                             []string
	output                                 string
	now                                    time.Time // tests
	w                                      writeFlags
}

// parseAge reads a Go duration, or a whole number of days ("30d").
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q: want a positive number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration such as 720h or 30d", s)
	}
	return d, nil
}

func (o *pruneOptions) rules() (prune.Rules, error) {
	r := prune.Rules{Undecodable: o.undecodable, DuplicateWorkers: o.duplicateWorkers, IDs: o.ids, Foreign: o.foreign, Now: o.now}
	if o.olderThan != "" {
		d, err := parseAge(o.olderThan)
		if err != nil {
			return r, usageError{fmt.Errorf("--older-than %w", err)}
		}
		r.OlderThan = d
	}
	for _, k := range o.kinds {
		switch strings.TrimSuffix(strings.ToLower(k), "s") {
		case "app":
			r.Kinds = append(r.Kinds, store.KindApp)
		case "driver":
			r.Kinds = append(r.Kinds, store.KindDriver)
		case "worker":
			r.Kinds = append(r.Kinds, store.KindWorker)
		default:
			return r, usageError{fmt.Errorf("--kind %q: want app, driver or worker", k)}
		}
	}
	for _, id := range o.ids {
		if id == "" {
			return r, usageError{errors.New("--id: empty")}
		}
	}
	if !o.undecodable && r.OlderThan == 0 && !o.duplicateWorkers && len(r.Kinds) == 0 && len(o.ids) == 0 && !o.foreign {
		return r, usageError{errors.New("no rule: give --undecodable, --older-than, --duplicate-workers, --kind, --id or --foreign")}
	}
	return r, nil
}

// pruneResult is the -o json contract.
type pruneResult struct {
	Store      string             `json:"store"`
	Delete     []pruneItem        `json:"delete"`
	Kept       int                `json:"kept"`    // Spark records left alone
	Foreign    int                `json:"foreign"` // foreign entries left alone
	DryRun     bool               `json:"dry_run"`
	LiveMaster *livemaster.Result `json:"live_master,omitempty"`
	Result     *plan.Result       `json:"result,omitempty"`
}

// pruneItem is one entry the plan deletes, with why.
type pruneItem struct {
	Name    string     `json:"name"`
	Kind    string     `json:"kind"`
	Size    int64      `json:"size"`
	Time    *time.Time `json:"time,omitempty"`
	Reasons []string   `json:"reasons"`
}

func runPrune(ctx context.Context, sf *storeFlags, o *pruneOptions, rules prune.Rules, format outputFormat, stdin io.Reader, stdout, stderr io.Writer) error {
	st, err := sf.openTarget(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.close()
	res := pruneResult{DryRun: o.w.dryRun, Delete: []pruneItem{}}
	rules.Codec = codec.Options{Codec: st.codec}
	c := &change{
		target: st, guarded: []*openedStore{st}, holder: "recoverctl prune " + st.String(), verb: "Delete",
		plan: func(ctx context.Context, _ plan.Progress) (*plan.Plan, plan.Source, error) {
			p, err := prune.PlanPrune(ctx, st.Store, rules)
			return p, nil, err
		},
		show: func(p *plan.Plan) {
			res.Store = p.Target
			for _, s := range p.Steps {
				res.Delete = append(res.Delete, pruneItem{Name: s.Name, Kind: s.Kind.String(), Size: s.Size, Time: s.Time, Reasons: s.Reasons})
				if s.Kind == store.KindForeign {
					continue
				}
			}
			entries, _ := st.Store.List(ctx)
			deleted := map[string]bool{}
			for _, s := range p.Steps {
				deleted[s.Name] = true
			}
			for _, e := range entries {
				switch {
				case deleted[e.Name]:
				case e.Kind == store.KindForeign:
					res.Foreign++
				default:
					res.Kept++
				}
			}
			if format == outputTable {
				fmt.Fprintf(stdout, "store %s\n", termText(p.Target))
				for _, it := range res.Delete {
					fmt.Fprintf(stdout, "  delete %s (%d bytes): %s\n", termText(it.Name), it.Size, termText(strings.Join(it.Reasons, "; ")))
				}
				fmt.Fprintf(stdout, "plan: delete %d, keep %d records and %d foreign entries\n", len(res.Delete), res.Kept, res.Foreign)
				if o.w.dryRun {
					fmt.Fprintln(stdout, "dry run: nothing deleted")
				}
			}
		},
	}
	p, r, err := o.w.run(ctx, c, sf.verbose, stdin, stderr)
	if len(c.live) > 0 {
		res.LiveMaster = &c.live[0]
	}
	if p != nil && !o.w.dryRun && p.Writes() > 0 {
		res.Result = &r
	}
	if err == nil && p != nil && !o.w.dryRun && p.Writes() > 0 && format == outputTable {
		fmt.Fprintf(stdout, "deleted %d entries (%d already gone); saved in %s\n", r.Deleted, r.Gone, termText(r.Backup))
	}
	if p != nil && format != outputTable {
		if werr := writeData(stdout, format, res); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
