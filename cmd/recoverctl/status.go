package main

import (
	"context"
	"fmt"
	"github.com/recoverctl/recoverctl/codec/classes"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/inventory"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/rocksdb"
)

type statusOptions struct {
	store  storeFlags
	output string
}

func newStatusCommand() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Sum up a recovery store: counts, problems, leader election, Spark version",
		Long: `Sum up a recovery store: records per kind, undecodable records, foreign
entries, for ZooKeeper the leader election (participants, the leader and since
when), for RocksDB its files, sequence range, records found only in the log,
deletions, the LOCK holder and any damage, and the Spark version the records look written by (from their class
layouts and serialVersionUIDs). Exit code 3 when some records are undecodable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.store.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// statusReport is the data of `recoverctl status`.
type statusReport struct {
	Store       string `json:"store"`
	Workers     int    `json:"workers"`
	Apps        int    `json:"apps"`
	Drivers     int    `json:"drivers"`
	Undecodable int    `json:"undecodable"`
	// Problems names each record counted in Undecodable, with why.
	Problems []recordProblem `json:"problems"`
	Foreign  []string        `json:"foreign"`
	// Quarantined are the corrupted_<record> files a 4.3 FILESYSTEM
	// Master renamed after failing to read them: Spark's, not foreign.
	Quarantined []string `json:"quarantined,omitempty"`
	// Spark names the releases every record agrees with (one Master wrote
	// them all), as ranges with the Scala line; SparkReleases lists them;
	// SparkPerRecord counts what each record alone suggests.
	Spark          string         `json:"sparkversion"`
	SparkReleases  []string       `json:"sparkreleases"`
	SparkPerRecord map[string]int `json:"sparkversions"`
	Serializers    map[string]int `json:"serializers"`
	Codecs         map[string]int `json:"codecs,omitempty"`
	Election       *electionState `json:"leaderelection,omitempty"` // ZooKeeper only
	RocksDB        *rocksdbState  `json:"rocksdb,omitempty"`        // ROCKSDB only
}

// rocksdbState is what a RocksDB directory holds besides its records.
type rocksdbState struct {
	Manifest       string        `json:"manifest"`
	ColumnFamilies []string      `json:"columnfamilies"`
	Files          []rocksdbFile `json:"files"`
	// SmallestSeq and LargestSeq span the entries read (SSTs and logs);
	// LastSequence is the MANIFEST's, what was flushed when it was written.
	SmallestSeq  uint64   `json:"smallestsequence"`
	LargestSeq   uint64   `json:"largestsequence"`
	LastSequence uint64   `json:"manifestlastsequence"`
	LogOnly      []string `json:"logonly"` // records no SST holds yet: a killed Master's last writes
	Deleted      int      `json:"deleted"`
	Locked       bool     `json:"locked"`
	LockPID      int      `json:"lockpid,omitempty"`
	Problems     []string `json:"problems"`
}

type rocksdbFile struct {
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Size         int64  `json:"size"`
	Level        *int   `json:"level,omitempty"`
	ColumnFamily string `json:"columnfamily,omitempty"`
	Table        string `json:"table,omitempty"`   // sst: format version, checksum, compressions
	Records      int    `json:"records,omitempty"` // sst: entries; log: write batches replayed
	Flushed      bool   `json:"flushed,omitempty"` // log: all in SSTs already, not replayed
}

func newRocksDBState(info rocksdb.Info) *rocksdbState {
	r := &rocksdbState{Manifest: info.Manifest, ColumnFamilies: info.ColumnFamilies, Files: []rocksdbFile{},
		SmallestSeq: info.SmallestSeq, LargestSeq: info.LargestSeq, LastSequence: info.LastSequence,
		LogOnly: append([]string{}, info.LogOnly...), Deleted: info.Deleted, Locked: info.Locked, LockPID: info.LockPID, Problems: []string{}}
	for _, f := range info.Files {
		x := rocksdbFile{Name: f.Name, Kind: f.Kind, Size: f.Size, ColumnFamily: f.ColumnFamily, Records: f.Records, Flushed: f.Flushed}
		if f.Kind == "sst" {
			level := f.Level
			x.Level = &level
		}
		if t := f.Table; t != nil {
			x.Table = fmt.Sprintf("format %d, %s, %s", t.FormatVersion, t.Checksum, strings.Join(t.Compression, "+"))
		}
		r.Files = append(r.Files, x)
	}
	for _, p := range info.Problems {
		r.Problems = append(r.Problems, p.Error())
	}
	return r
}

func writeRocksDB(w io.Writer, r *rocksdbState) {
	fmt.Fprintf(w, "rocksdb:      %s, column families %s; sequences %d to %d (MANIFEST last sequence %d)\n",
		r.Manifest, strings.Join(r.ColumnFamilies, ", "), r.SmallestSeq, r.LargestSeq, r.LastSequence)
	for _, f := range r.Files {
		line := fmt.Sprintf("  %-8s %-16s %s", f.Kind, f.Name, humanBytes(f.Size))
		switch f.Kind {
		case "sst":
			line += fmt.Sprintf(", L%d %s, %d entries", *f.Level, f.ColumnFamily, f.Records)
			if f.Table != "" {
				line += ", " + f.Table
			}
		case "log":
			if f.Flushed {
				line += ", flushed (not replayed)"
			} else {
				line += fmt.Sprintf(", %d write batches replayed", f.Records)
			}
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "only in log:  %d%s\n", len(r.LogOnly), list(r.LogOnly))
	fmt.Fprintf(w, "deleted:      %d keys\n", r.Deleted)
	if r.Locked {
		fmt.Fprintf(w, "lock:         held by process %d: a RocksDB (a live Master?) has the database open; read as its files were\n", r.LockPID)
	} else {
		fmt.Fprintf(w, "lock:         free\n")
	}
	fmt.Fprintf(w, "problems:     %d\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
}

// recordProblem is a record that could not be read or decoded.
type recordProblem struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

type electionState struct {
	Participants []participant `json:"participants"`
	Leader       *participant  `json:"leader"`
}

type participant struct {
	Node    string `json:"node"`
	Session string `json:"session"`
	Since   string `json:"since"`
	Leader  bool   `json:"leader"`
}

func runStatus(ctx context.Context, o *statusOptions, stdout, stderr io.Writer) error {
	format, err := parseOutput(o.output)
	if err != nil {
		return err
	}
	st, err := o.store.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.close()
	inv, err := inventory.Load(ctx, st.Reader, inventory.Options{Codec: codec.Options{Codec: st.codec}})
	if err != nil {
		return err
	}
	rep := statusReport{Store: inv.Store, Foreign: []string{}, SparkReleases: []string{}, SparkPerRecord: map[string]int{}, Serializers: map[string]int{}, Codecs: map[string]int{}}
	var fps []codec.Fingerprint
	counts := inv.Counts()
	rep.Workers, rep.Apps, rep.Drivers = counts[store.KindWorker], counts[store.KindApp], counts[store.KindDriver]
	rep.Problems = []recordProblem{}
	for _, it := range inv.Undecodable() {
		why := "not an app, driver or worker record"
		if it.Err != nil {
			why = it.Err.Error()
		}
		rep.Problems = append(rep.Problems, recordProblem{Name: it.Name, Reason: why})
	}
	rep.Undecodable = len(rep.Problems)
	for _, e := range inv.Foreign {
		if _, ok := classes.Quarantined(e.Name); ok {
			rep.Quarantined = append(rep.Quarantined, e.Name)
			continue
		}
		rep.Foreign = append(rep.Foreign, e.Name)
	}
	for _, it := range inv.Items {
		if it.Record == nil {
			continue
		}
		if it.Record.Serializer != "" {
			rep.Serializers[it.Record.Serializer]++
		}
		if it.Record.Codec != "" {
			rep.Codecs[it.Record.Codec]++
		}
		if line := sparkLine(it.Record.Spark); line != "" {
			rep.SparkPerRecord[line]++
			fps = append(fps, it.Record.Spark)
		}
	}
	if len(fps) > 0 {
		all := codec.Combine(fps...)
		rep.Spark = sparkLine(all)
		rep.SparkReleases = append(rep.SparkReleases, all.Matches...)
	}
	if st.zk != nil {
		ps, err := st.zk.Leaders(ctx)
		if err != nil {
			return fmt.Errorf("read leader election: %w", err)
		}
		el := &electionState{Participants: []participant{}}
		for _, p := range ps {
			x := participant{Node: p.Node, Session: fmt.Sprintf("0x%x", p.Session), Since: p.Created.UTC().Format(time.RFC3339), Leader: p.Leader}
			el.Participants = append(el.Participants, x)
			if p.Leader {
				el.Leader = &x
			}
		}
		rep.Election = el
	}
	if st.rdb != nil {
		rep.RocksDB = newRocksDBState(st.rdb.Info())
	}
	if format == outputTable {
		writeStatus(stdout, rep)
	} else if err := writeData(stdout, format, rep); err != nil {
		return err
	}
	return undecodableError(inv)
}

func writeStatus(w io.Writer, r statusReport) {
	fmt.Fprintf(w, "store:        %s\n", termText(r.Store))
	fmt.Fprintf(w, "records:      %d workers, %d apps, %d drivers\n", r.Workers, r.Apps, r.Drivers)
	fmt.Fprintf(w, "undecodable:  %d\n", r.Undecodable)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s: %s\n", termText(p.Name), termText(p.Reason))
	}
	fmt.Fprintf(w, "foreign:      %d%s\n", len(r.Foreign), list(r.Foreign))
	if len(r.Quarantined) > 0 {
		fmt.Fprintf(w, "quarantined:  %d%s (records a Spark 4.3 Master could not read and renamed; no Master reads them again)\n", len(r.Quarantined), list(r.Quarantined))
	}
	switch {
	case r.Spark == "":
		fmt.Fprintf(w, "written by:   unknown\n")
	case len(r.SparkReleases) > 0:
		// Every release whose classes match, as ranges; -o json lists them.
		fmt.Fprintf(w, "written by:   Spark %s\n", termText(r.Spark))
	default:
		fmt.Fprintf(w, "written by:   %s\n", termText(r.Spark)) // unknown layout, or records of different releases
	}
	fmt.Fprintf(w, "serializer:   %s\n", tally(r.Serializers, "-"))
	if len(r.Codecs) > 0 {
		fmt.Fprintf(w, "compression:  %s\n", tally(r.Codecs, "-"))
	}
	if r.Election != nil {
		switch {
		case len(r.Election.Participants) == 0:
			fmt.Fprintf(w, "election:     no Master takes part (none running)\n")
		default:
			fmt.Fprintf(w, "election:     %d participant(s)\n", len(r.Election.Participants))
			for _, p := range r.Election.Participants {
				role := "standby"
				if p.Leader {
					role = "LEADER"
				}
				fmt.Fprintf(w, "  %-8s %s session %s since %s\n", role, termText(p.Node), termText(p.Session), termText(p.Since))
			}
		}
	}
	if r.RocksDB != nil {
		writeRocksDB(w, r.RocksDB)
	}
}

func sparkLine(fp codec.Fingerprint) string {
	if fp.Line == "" {
		return ""
	}
	if fp.Scala != "" {
		return fp.Line + " (Scala " + fp.Scala + ")"
	}
	return fp.Line
}

func list(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + termText(strings.Join(names, ", ")) + ")"
}

func tally(m map[string]int, none string) string {
	if len(m) == 0 {
		return none
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", termText(k), m[k])
	}
	return strings.Join(parts, ", ")
}
