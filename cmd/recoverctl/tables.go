package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"golang.org/x/sys/unix"

	"github.com/recoverctl/recoverctl/codec"
	"github.com/recoverctl/recoverctl/inventory"
)

// table is a tablewriter table whose cells all go through termCell: every
// table recoverctl prints holds names from the data. Rows are kept until
// Render so that a table for a terminal can be fitted to its width.
type table struct {
	t      *tablewriter.Table
	width  int // terminal columns to fit; 0 prints every value whole
	header []string
	rows   [][]string
}

func (t *table) Append(cells ...any) error {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = termCell(c)
	}
	t.rows = append(t.rows, row)
	return nil
}

func (t *table) Render() error {
	header, rows := t.header, t.rows
	if t.width > 0 && len(header) > 0 {
		header, rows = fitTable(header, rows, t.width)
	}
	t.t.Header(header)
	for _, r := range rows {
		if err := t.t.Append(r); err != nil {
			return err
		}
	}
	return t.t.Render()
}

// cellPadding is what newTable puts after every cell.
const cellPadding = 2

// minColumn is the narrowest a column is shortened to: enough to tell
// values apart by their start.
const minColumn = 8

// fitTable shortens the widest columns, cutting their cells with an
// ellipsis, until a row fits in width terminal columns. Columns narrower
// than the level it finds stay whole, so ids and counts survive a long
// app name. Where even minColumn for every column is too wide, the
// columns on the right are left out (-o wide shows them), never the id
// that leads each table. It returns the header and rows to print.
func fitTable(header []string, rows [][]string, width int) ([]string, [][]string) {
	n := len(header)
	natural := make([]int, n)
	floor := make([]int, n)
	for i, h := range header {
		natural[i] = twwidth.Width(h)
	}
	for _, r := range rows {
		for i := 0; i < len(r) && i < n; i++ {
			natural[i] = max(natural[i], twwidth.Width(r[i]))
		}
	}
	keep, used := 0, 0
	for i, h := range header {
		floor[i] = min(natural[i], max(twwidth.Width(h), minColumn))
		if used += floor[i] + cellPadding; used > width && i > 0 {
			break
		}
		keep = i + 1
	}
	header, natural, floor = header[:keep], natural[:keep], floor[:keep]
	for j, r := range rows {
		rows[j] = r[:min(len(r), keep)]
	}
	avail := width - cellPadding*keep
	total := func(level int) int {
		sum := 0
		for i := range natural {
			sum += min(natural[i], max(level, floor[i]))
		}
		return sum
	}
	hi := slices.Max(natural)
	if total(hi) <= avail {
		return header, rows
	}
	// The highest level at which the columns fit: shortening stops there.
	lo := 0
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if total(mid) <= avail {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	for i := range natural {
		limit := max(lo, floor[i])
		if natural[i] <= limit {
			continue
		}
		for _, r := range rows {
			if i < len(r) && twwidth.Width(r[i]) > limit {
				r[i] = twwidth.Truncate(r[i], limit-1, "") + "…"
			}
		}
	}
	return header, rows
}

// tableWidth is how wide the tables written to w may be: a terminal's
// width, no limit (0) on a pipe or file, where values print whole for
// scripts and grep, or what a widthWriter says.
func tableWidth(w io.Writer) int {
	if ww, ok := w.(widthWriter); ok {
		return ww.cols
	}
	f, ok := w.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

// widthWriter fixes the width of the tables written to it: 0 for -o wide
// (every value whole on a terminal too), a number in tests.
type widthWriter struct {
	io.Writer
	cols int
}

// newTable makes the borderless, kubectl-like tables recoverctl prints,
// fitted to w's width (tableWidth).
func newTable(w io.Writer, header ...any) *table {
	return newTableWidth(w, tableWidth(w), header...)
}

func newTableWidth(w io.Writer, width int, header ...any) *table {
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
		tablewriter.WithPadding(tw.Padding{Left: "", Right: strings.Repeat(" ", cellPadding), Overwrite: true}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	hs := make([]string, len(header))
	for i, h := range header {
		hs[i] = fmt.Sprint(h)
	}
	return &table{t: t, width: width, header: hs}
}

func writeTables(w io.Writer, inv *inventory.Inventory, now time.Time) {
	v := inv.View()
	cols := tableWidth(w)
	sections := 0
	section := func(title string, n int, fill func(*table), header ...any) {
		if n == 0 {
			return
		}
		if sections > 0 {
			fmt.Fprintln(w)
		}
		sections++
		fmt.Fprintf(w, "%s (%d)\n", title, n)
		var buf bytes.Buffer
		t := newTableWidth(&buf, cols, header...)
		fill(t)
		_ = t.Render()
		writeTrimmed(w, buf.Bytes())
	}
	section("WORKERS", len(v.Workers), func(t *table) {
		for _, x := range v.Workers {
			_ = t.Append(x.ID, fmt.Sprintf("%s:%d", x.Host, x.Port), x.Cores, mib(x.Memory), workerResources(x.Worker),
				registered(x.ID, now), x.WebUIAddress, x.RecordSize)
		}
	}, "ID", "HOST:PORT", "CORES", "MEMORY", "RESOURCES", "REGISTERED", "WEB UI", "SIZE")
	section("APPS", len(v.ActiveApps), func(t *table) {
		for _, x := range v.ActiveApps {
			_ = t.Append(x.ID, x.Name, x.User, optInt(x.MaxCores), mib(x.MemoryPerExecutor), when(x.StartTime, now),
				endpoint(x.Driver), x.AppUIURL, x.RecordSize)
		}
	}, "ID", "NAME", "USER", "MAX CORES", "MEM/EXECUTOR", "SUBMITTED", "DRIVER", "WEB UI", "SIZE")
	section("DRIVERS", len(v.ActiveDrivers), func(t *table) {
		for _, x := range v.ActiveDrivers {
			_ = t.Append(x.ID, x.MainClass, x.Cores, mib(x.Memory), x.Supervise, when(x.StartTime, now), x.JarURL, x.RecordSize)
		}
	}, "ID", "MAIN CLASS", "CORES", "MEMORY", "SUPERVISE", "SUBMITTED", "JAR", "SIZE")
	section("UNDECODABLE", len(v.Undecodable), func(t *table) {
		for _, p := range v.Undecodable {
			_ = t.Append(p.Record, p.Kind, p.RecordSize, p.Error)
		}
	}, "RECORD", "KIND", "SIZE", "ERROR")
	section("FOREIGN (not Spark records; left alone)", len(v.Foreign), func(t *table) {
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
