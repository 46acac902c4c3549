package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/inventory"
)

// table is a tablewriter table whose cells all go through termCell: every
// table recoverctl prints holds names from the data.
type table struct{ t *tablewriter.Table }

func (t table) Append(cells ...any) error {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = termCell(c)
	}
	return t.t.Append(row)
}

func (t table) Render() error { return t.t.Render() }

// newTable makes the borderless, kubectl-like tables recoverctl prints.
func newTable(w io.Writer, header ...any) table {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header...)
	return table{t}
}

func writeTables(w io.Writer, inv *inventory.Inventory, now time.Time) {
	v := inv.View()
	sections := 0
	section := func(title string, n int, fill func(table), header ...any) {
		if n == 0 {
			return
		}
		if sections > 0 {
			fmt.Fprintln(w)
		}
		sections++
		fmt.Fprintf(w, "%s (%d)\n", title, n)
		var buf bytes.Buffer
		t := newTable(&buf, header...)
		fill(t)
		_ = t.Render()
		writeTrimmed(w, buf.Bytes())
	}
	section("WORKERS", len(v.Workers), func(t table) {
		for _, x := range v.Workers {
			_ = t.Append(x.ID, fmt.Sprintf("%s:%d", x.Host, x.Port), x.Cores, mib(x.Memory), workerResources(x.Worker),
				registered(x.ID, now), x.WebUIAddress, x.RecordSize)
		}
	}, "ID", "HOST:PORT", "CORES", "MEMORY", "RESOURCES", "REGISTERED", "WEB UI", "SIZE")
	section("APPS", len(v.ActiveApps), func(t table) {
		for _, x := range v.ActiveApps {
			_ = t.Append(x.ID, x.Name, x.User, optInt(x.MaxCores), mib(x.MemoryPerExecutor), when(x.StartTime, now),
				endpoint(x.Driver), x.AppUIURL, x.RecordSize)
		}
	}, "ID", "NAME", "USER", "MAX CORES", "MEM/EXECUTOR", "SUBMITTED", "DRIVER", "WEB UI", "SIZE")
	section("DRIVERS", len(v.ActiveDrivers), func(t table) {
		for _, x := range v.ActiveDrivers {
			_ = t.Append(x.ID, x.MainClass, x.Cores, mib(x.Memory), x.Supervise, when(x.StartTime, now), x.JarURL, x.RecordSize)
		}
	}, "ID", "MAIN CLASS", "CORES", "MEMORY", "SUPERVISE", "SUBMITTED", "JAR", "SIZE")
	section("UNDECODABLE", len(v.Undecodable), func(t table) {
		for _, p := range v.Undecodable {
			_ = t.Append(p.Record, p.Kind, p.RecordSize, p.Error)
		}
	}, "RECORD", "KIND", "SIZE", "ERROR")
	section("FOREIGN (not Spark records; left alone)", len(v.Foreign), func(t table) {
		for _, f := range v.Foreign {
			_ = t.Append(f.Name, f.Size)
		}
	}, "NAME", "SIZE")
	if sections == 0 {
		fmt.Fprintf(w, "no records in %s\n", termText(inv.Store))
	}
}

// writeTrimmed drops the padding tablewriter leaves after the last column.
func writeTrimmed(w io.Writer, b []byte) {
	for line := range bytes.Lines(b) {
		fmt.Fprintln(w, strings.TrimRight(string(line), " \n"))
	}
}

func mib(mb int32) string {
	if mb%1024 == 0 && mb != 0 {
		return fmt.Sprintf("%d GiB", mb/1024)
	}
	return fmt.Sprintf("%d MiB", mb)
}

func optInt(p *int32) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func endpoint(e *codec.Endpoint) string {
	if e == nil {
		return "-"
	}
	return fmt.Sprintf("%s:%d", e.Host, e.Port)
}

func workerResources(w *codec.Worker) string {
	if len(w.Resources) == 0 {
		return "-"
	}
	var parts []string
	for name, r := range w.Resources {
		parts = append(parts, fmt.Sprintf("%s:%d", name, len(r.Addresses)))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// when prints a Master timestamp (epoch ms) with its age, in UTC so that
// output does not depend on the reader's zone.
func when(ms int64, now time.Time) string {
	if ms <= 0 {
		return "-"
	}
	t := time.UnixMilli(ms).UTC()
	return t.Format("2006-01-02 15:04:05Z") + " (" + age(now.Sub(t)) + ")"
}

// registered reads the registration time a worker id carries
// (worker-yyyyMMddHHmmss-host-port, in the worker's local zone, which the
// record does not keep; shown as written).
func registered(id string, now time.Time) string {
	rest, ok := strings.CutPrefix(id, "worker-")
	if !ok || len(rest) < 14 {
		return "-"
	}
	t, err := time.Parse("20060102150405", rest[:14])
	if err != nil {
		return "-"
	}
	return t.Format("2006-01-02 15:04:05") + " (" + age(now.Sub(t)) + ")"
}

func age(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
