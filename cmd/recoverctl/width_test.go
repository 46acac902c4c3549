package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// longNameDir is the golden capture with one app's name made 300
// characters long in its Java stream (the string's length prefix
// rewritten with it), as a careless job name makes it.
func longNameDir(t *testing.T) (dir, long string) {
	t.Helper()
	recs := readDirRecords(t, goldenCapture)
	const short = "recoverctl nightly aggregation"
	long = strings.Repeat("nightly aggregation of every click stream ", 8)[:300]
	old := append([]byte{0x74, 0, byte(len(short))}, short...)
	repl := append(binary.BigEndian.AppendUint16([]byte{0x74}, uint16(len(long))), long...)
	found := false
	for n, d := range recs {
		if bytes.Contains(d, old) {
			recs[n] = bytes.Replace(d, old, repl, 1)
			found = true
		}
	}
	if !found {
		t.Fatalf("no app named %q in %s", short, goldenCapture)
	}
	return writeRecordDir(t, recs), long
}

// TestLsWidthGolden prints ls for a terminal 40 and 200 columns wide and
// for a pipe: on a terminal every line fits and the long name is cut with
// an ellipsis, ids whole at 200; on a pipe, and with -o wide on a
// terminal, every value is whole.
func TestLsWidthGolden(t *testing.T) {
	dir, long := longNameDir(t)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ls := func(t *testing.T, output string, cols int) string {
		t.Helper()
		o := &lsOptions{now: func() time.Time { return now }, output: output}
		o.store.fsDir, o.store.timeout = dir, 10*time.Second
		var stdout, stderr bytes.Buffer
		if err := runLs(context.Background(), o, nil, widthWriter{Writer: &stdout, cols: cols}, &stderr); err != nil {
			t.Fatalf("ls: %v (stderr %s)", err, stderr.String())
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(stdout.String(), abs, "RECORDS")
	}
	for _, c := range []struct {
		golden string
		cols   int
	}{
		{"ls-40cols.table.golden", 40},
		{"ls-200cols.table.golden", 200},
		{"ls-pipe.table.golden", 0},
	} {
		t.Run(c.golden, func(t *testing.T) {
			out := ls(t, "table", c.cols)
			if c.cols == 0 {
				if !strings.Contains(out, long) {
					t.Error("the long name is not whole on a pipe")
				}
			} else {
				for _, line := range strings.Split(out, "\n") {
					if w := twwidth.Width(line); w > c.cols {
						t.Errorf("%d columns wide, want at most %d: %q", w, c.cols, line)
					}
				}
				if strings.Contains(out, long) || !strings.Contains(out, "…") {
					t.Error("the long name is not cut with an ellipsis")
				}
			}
			if c.cols == 200 && !strings.Contains(out, "app-20261128050054-0001") {
				t.Error("an id was cut at 200 columns")
			}
			golden(t, c.golden, []byte(out))
		})
	}
	if wide, pipe := ls(t, "wide", 40), ls(t, "table", 0); wide != pipe {
		t.Errorf("-o wide on a 40-column terminal is not the whole table:\n%s", wide)
	}
}

func TestFitTable(t *testing.T) {
	header := []string{"ID", "NAME", "N"}
	rows := [][]string{{"app-1", strings.Repeat("x", 50), "7"}, {"app-2", "short", "12"}}
	header, rows = fitTable(header, rows, 30)
	// 30 columns less 2 of padding per column leave 24: ID (5) and N (2)
	// stay whole, NAME gets the 17 left.
	if len(header) != 3 || rows[0][0] != "app-1" || rows[0][2] != "7" || twwidth.Width(rows[0][1]) != 17 || !strings.HasSuffix(rows[0][1], "…") || rows[1][1] != "short" {
		t.Fatalf("%q", rows)
	}
	_, fitted := fitTable([]string{"A", "B"}, [][]string{{"a", "b"}}, 80)
	if fitted[0][0] != "a" || fitted[0][1] != "b" {
		t.Fatalf("a table that fits changed: %q", fitted)
	}
	// Too narrow for every column at its minimum: the right ones go.
	h, r := fitTable([]string{"ID", "NAME", "USER", "MEMORY"}, [][]string{{strings.Repeat("i", 20), strings.Repeat("n", 20), "root", "512 MiB"}}, 24)
	if len(h) != 2 || len(r[0]) != 2 || twwidth.Width(r[0][0])+twwidth.Width(r[0][1])+4 > 24 {
		t.Fatalf("%q %q", h, r)
	}
}
