package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
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

// The sections of the listing's table; a row's spooled cells start with
// the tag of its section.
const (
	secWorker = "w"
	secApp    = "a"
	secDriver = "d"
)

var sectionHeaders = map[string][]string{
	secWorker: {"ID", "HOST:PORT", "CORES", "MEMORY", "RESOURCES", "REGISTERED", "WEB UI", "SIZE"},
	secApp:    {"ID", "NAME", "USER", "MAX CORES", "MEM/EXECUTOR", "SUBMITTED", "DRIVER", "WEB UI", "SIZE"},
	secDriver: {"ID", "MAIN CLASS", "CORES", "MEMORY", "SUPERVISE", "SUBMITTED", "JAR", "SIZE"},
}

// rowCells makes the table row of a decoded item, its section's tag
// first. ls gives it to inventory.Options.Cells, so that a listing keeps
// each record's row in the spool instead of its decoded value in memory.
func rowCells(now time.Time) func(inventory.Item) []string {
	return func(it inventory.Item) []string {
		switch x := it.ViewElement().(type) {
		case inventory.WorkerView:
			return cells(secWorker, x.ID, fmt.Sprintf("%s:%d", x.Host, x.Port), x.Cores, mib(x.Memory), workerResources(x.Worker),
				registered(x.ID, now), x.WebUIAddress, x.RecordSize)
		case inventory.AppView:
			return cells(secApp, x.ID, x.Name, x.User, optInt(x.MaxCores), mib(x.MemoryPerExecutor), when(x.StartTime, now),
				endpoint(x.Driver), x.AppUIURL, x.RecordSize)
		case inventory.DriverView:
			return cells(secDriver, x.ID, x.MainClass, x.Cores, mib(x.Memory), x.Supervise, when(x.StartTime, now), x.JarURL, x.RecordSize)
		}
		return nil
	}
}

func cells(tag string, vs ...any) []string {
	out := make([]string, 1, len(vs)+1)
	out[0] = tag
	for _, v := range vs {
		out = append(out, termCell(v))
	}
	return out
}

// writeTables prints the listing's tables. The rows of decoded records
// are read from the inventory's spool twice, once for the column widths
// and once to print, so that memory does not grow with the rows; a table
// library would hold them all.
func writeTables(out io.Writer, inv *inventory.Inventory, now time.Time) error {
	w := bufio.NewWriterSize(out, 64<<10)
	row := rowCells(now)
	get := func(it inventory.Item) ([]string, error) {
		c, err := inv.Cells(it)
		if err != nil || c != nil {
			return c, err
		}
		return row(it), nil
	}
	widths, counts := map[string][]int{}, map[string]int{}
	for tag, h := range sectionHeaders {
		widths[tag] = widen(nil, h)
	}
	var undecodable [][]string
	for _, it := range inv.Items {
		if !it.Decoded() {
			p := it.Problem()
			undecodable = append(undecodable, []string{termCell(p.Record), termCell(p.Kind), termCell(p.RecordSize), termCell(p.Error)})
			continue
		}
		c, err := get(it)
		if err != nil {
			return err
		}
		if len(c) == 0 {
			continue
		}
		counts[c[0]]++
		widths[c[0]] = widen(widths[c[0]], c[1:])
	}
	sections := 0
	begin := func(title string, n int) {
		if sections > 0 {
			fmt.Fprintln(w)
		}
		sections++
		fmt.Fprintf(w, "%s (%d)\n", title, n)
	}
	for _, sec := range []struct{ tag, title string }{{secWorker, "WORKERS"}, {secApp, "APPS"}, {secDriver, "DRIVERS"}} {
		if counts[sec.tag] == 0 {
			continue
		}
		begin(sec.title, counts[sec.tag])
		ws := widths[sec.tag]
		writeRow(w, ws, sectionHeaders[sec.tag])
		for _, it := range inv.Items {
			if !it.Decoded() {
				continue
			}
			c, err := get(it)
			if err != nil {
				return err
			}
			if len(c) > 0 && c[0] == sec.tag {
				writeRow(w, ws, c[1:])
			}
		}
	}
	small := func(title string, header []string, rows [][]string) {
		if len(rows) == 0 {
			return
		}
		begin(title, len(rows))
		ws := widen(nil, header)
		for _, r := range rows {
			ws = widen(ws, r)
		}
		writeRow(w, ws, header)
		for _, r := range rows {
			writeRow(w, ws, r)
		}
	}
	small("UNDECODABLE", []string{"RECORD", "KIND", "SIZE", "ERROR"}, undecodable)
	var foreign [][]string
	for _, f := range inv.Foreign {
		foreign = append(foreign, []string{termCell(f.Name), termCell(f.Size)})
	}
	small("FOREIGN (not Spark records; left alone)", []string{"NAME", "SIZE"}, foreign)
	if sections == 0 {
		fmt.Fprintf(w, "no records in %s\n", termText(inv.Store))
	}
	return w.Flush()
}

// widen grows ws to the display width of every cell of row.
func widen(ws []int, row []string) []int {
	for i, c := range row {
		if i >= len(ws) {
			ws = append(ws, 0)
		}
		ws[i] = max(ws[i], twwidth.Width(c))
	}
	return ws
}

// writeRow prints cells left-aligned in columns of widths ws, two spaces
// apart, without trailing blanks: the layout newTable gives.
func writeRow(w *bufio.Writer, ws []int, row []string) {
	var line strings.Builder
	for i, c := range row {
		line.WriteString(c)
		if i < len(row)-1 {
			line.WriteString(strings.Repeat(" ", ws[i]-twwidth.Width(c)+2))
		}
	}
	w.WriteString(strings.TrimRight(line.String(), " "))
	w.WriteByte('\n')
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
