package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/store"
)

func TestTermText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain name 42", "plain name 42"},
		{"Ünïcødé ETL 日本", "Ünïcødé ETL 日本"},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"\x1b]0;title\x07\x1b[2J", `\x1b]0;title\x07\x1b[2J`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"csi\u009b31m nel\u0085", `csi\u009b31m nel\u0085`},
		{"txt.\u202eexe", `txt.\u202eexe`},
		{"\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069", `\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
		{"zero\u200bwidth \u200f", `zero\u200bwidth \u200f`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{`back\slash`, `back\\slash`},
		{"tag \U000e0041", `tag \U000e0041`},
	} {
		if got := termText(tc.in); got != tc.want {
			t.Errorf("termText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// assertTerminalSafe fails on any byte or rune that a terminal would act on
// rather than show: C0 controls other than the line breaks the printer
// itself writes, DEL, C1 controls, bidi controls, invalid UTF-8.
func assertTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		bad := r == utf8.RuneError || (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || isBidiControl(r)
		if bad {
			t.Errorf("%s: raw %U at byte %d reaches the terminal:\n%s", what, r, i, out)
			return
		}
	}
}

// hostileName is an application name as a spark-submit caller may choose
// it: a window title, a clear screen, a colour, a carriage return and a
// newline forging a row, and a right-to-left override.
const hostileName = "evil\x1b]0;pwned\x07\x1b[2J\x1b[31m\rFAKE\napp-20990101000000-0000  forged\u202etxt.exe"

// hostileCapture copies the golden capture and renames one app, in the
// Java stream itself (the TC_STRING holding the name, its length fixed),
// and adds a foreign and an undecodable entry whose file names hold
// controls.
func hostileCapture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(goldenCapture)
	if err != nil {
		t.Fatal(err)
	}
	const old = "recoverctl nightly aggregation"
	renamed := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(goldenCapture, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		oldStr := append([]byte{0x74, 0, byte(len(old))}, old...)
		if bytes.Count(b, oldStr) == 1 {
			newStr := append([]byte{0x74}, binary.BigEndian.AppendUint16(nil, uint16(len(hostileName)))...)
			b = bytes.Replace(b, oldStr, append(newStr, hostileName...), 1)
			renamed++
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if renamed != 1 {
		t.Fatalf("renamed %d app records, want 1 (capture changed?)", renamed)
	}
	for name, data := range map[string][]byte{
		"notes\x1b[2J\u202e.txt":             []byte("foreign"),
		"app_app-\x1b]0;x\x07-\u009b31m-bad": {0xac, 0xed, 0x00, 0x05, 0x73, 0x72},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHostileNamesEscapedInLsStatusAudit(t *testing.T) {
	dir := hostileCapture(t)
	// The name was changed in the record, not only on screen: JSON, which
	// escapes by itself, carries it exactly.
	doc, _, _ := lsJSON(t, "--fs", dir)
	found := false
	for _, a := range doc["activeapps"].([]any) {
		if a.(map[string]any)["name"] == hostileName {
			found = true
		}
	}
	if !found {
		t.Fatalf("the modified record does not decode to the hostile name: %v", doc["activeapps"])
	}

	o := &lsOptions{now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }, output: "table"}
	o.store.fsDir = dir
	o.store.timeout = 10 * time.Second
	var stdout, stderr bytes.Buffer
	if err := runLs(context.Background(), o, nil, &stdout, &stderr); err == nil {
		t.Fatal("ls: want the undecodable record's exit, got none")
	}
	table := stdout.String()
	assertTerminalSafe(t, "ls", table)
	abs, _ := filepath.Abs(dir)
	golden(t, "ls-hostile.table.golden", []byte(strings.ReplaceAll(table, abs, "RECORDS")))
	for _, want := range []string{
		`evil\x1b]0;pwned\x07\x1b[2J\x1b[31m\rFAKE\napp-20990101000000-0000  forged\u202etxt.exe`,
		`notes\x1b[2J\u202e.txt`,
		`app_app-\x1b]0;x\x07-\u009b31m-bad`,
	} {
		if !strings.Contains(table, want) {
			t.Errorf("ls table lacks the escaped %s:\n%s", want, table)
		}
	}
	// The forged row stays inside its cell: APPS (2) has a header and two rows.
	apps := table[strings.Index(table, "APPS (2)\n"):]
	apps = apps[:strings.Index(apps, "\n\n")]
	if n := strings.Count(apps, "\n"); n != 3 {
		t.Errorf("APPS section has %d lines after its title, want header + 2 rows:\n%s", n, apps)
	}

	out, _, code := runRoot(t, "status", "--fs", dir)
	if code != exitUndecodable {
		t.Errorf("status: exit %d, want %d", code, exitUndecodable)
	}
	assertTerminalSafe(t, "status", out)
	if !strings.Contains(out, `notes\x1b[2J\u202e.txt`) {
		t.Errorf("status lacks the escaped foreign name:\n%s", out)
	}

	out, _, code = runRoot(t, "audit", "--fs", dir)
	if code != exitFindings {
		t.Errorf("audit: exit %d, want %d", code, exitFindings)
	}
	assertTerminalSafe(t, "audit", out)
	if !strings.Contains(out, `app_app-\x1b]0;x\x07-\u009b31m-bad`) {
		t.Errorf("audit lacks the escaped undecodable record name:\n%s", out)
	}
}

// listSource is a backup.Source over records held in memory.
type listSource []store.Record

func (s listSource) List(context.Context) ([]store.Entry, error) {
	var es []store.Entry
	for _, r := range s {
		es = append(es, r.Entry)
	}
	return es, nil
}

func (s listSource) Read(_ context.Context, name string) (store.Record, error) {
	for _, r := range s {
		if r.Name == name {
			return r, nil
		}
	}
	return store.Record{}, store.ErrNotFound
}

func (s listSource) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	names := req.Names
	if names == nil {
		for _, r := range s {
			names = append(names, r.Name)
		}
	}
	for _, n := range names {
		rec, err := s.Read(ctx, n)
		if err != nil {
			rec = store.NewRecord(n, nil)
		}
		if err := fn(rec, err); err != nil {
			return err
		}
	}
	return nil
}

func (s listSource) String() string { return "mem://" }

func TestCraftedArchiveEscapedInVerifyAndRestorePlan(t *testing.T) {
	dir := t.TempDir()
	// Archive record names cannot hold C0 or C1 controls or DEL (backup
	// and verify refuse them); bidi overrides and isolates are valid
	// UTF-8 file names that Spark could write.
	name := "app_app-20261128050054-0001\u202e2J\u2066"
	kind, id := store.ParseName(name)
	src := listSource{{Entry: store.Entry{Name: name, Kind: kind, ID: id, Size: 3}, Data: []byte("abc")}}
	path := filepath.Join(dir, "crafted.rctl.zst")
	info := backup.Info{
		StoreKind: "fs\x1b[2J",
		Address:   "fs:///srv\x1b]0;owned\x07\r\nFAKE: intact\u202e",
		Time:      time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
	}
	if _, err := backup.WriteFile(context.Background(), src, path, info, nil); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := runRoot(t, "verify", path)
	if code != exitOK {
		t.Fatalf("verify: exit %d: %s", code, stderr)
	}
	assertTerminalSafe(t, "verify", out)
	for _, want := range []string{`fs\x1b[2J store`, `fs:///srv\x1b]0;owned\x07\r\nFAKE: intact\u202e`} {
		if !strings.Contains(out, want) {
			t.Errorf("verify lacks %s:\n%s", want, out)
		}
	}

	target := t.TempDir()
	out, stderr, code = runRoot(t, "restore", path, "--fs", target, "--dry-run")
	if code != exitOK {
		t.Fatalf("restore --dry-run: exit %d: %s", code, stderr)
	}
	assertTerminalSafe(t, "restore --dry-run", out)
	for _, want := range []string{`fs:///srv\x1b]0;owned\x07\r\nFAKE: intact\u202e (fs\x1b[2J)`, `app_app-20261128050054-0001\u202e2J\u2066 (3 bytes)`} {
		if !strings.Contains(out, want) {
			t.Errorf("restore --dry-run lacks %s:\n%s", want, out)
		}
	}
}

func TestTermLinesKeepsItsLineBreaks(t *testing.T) {
	var out bytes.Buffer
	w := &termLines{w: &out}
	for _, chunk := range []string{"classdesc \x1b[2", "Jevil\n  field", " \u202eI\n", "tail\r"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "classdesc \\x1b[2Jevil\n  field \\u202eI\ntail\\r"; out.String() != want {
		t.Errorf("termLines wrote %q, want %q", out.String(), want)
	}
}

// unescapeTerm inverts termText, for the fuzz target: that it exists shows
// that what a person reads names one string only.
func unescapeTerm(s string) (string, bool) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		i++
		switch s[i] {
		case '\\':
			b = append(b, '\\')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
			if i+n >= len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil {
				return "", false
			}
			if s[i] == 'x' {
				b = append(b, byte(v))
			} else {
				b = utf8.AppendRune(b, rune(v))
			}
			i += n
		default:
			return "", false
		}
	}
	return string(b), true
}

func FuzzTermText(f *testing.F) {
	for _, s := range []string{hostileName, "plain", "Ünïcødé ETL 日本", "\xff\\x1b", "\u202e\u2066\x00\x7f\u0085", `\\n`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := termText(s)
		if !utf8.ValidString(out) {
			t.Fatalf("termText(%q) = %q: not UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) || isBidiControl(r) || !unicode.IsPrint(r) {
				t.Fatalf("termText(%q) = %q holds %U", s, out, r)
			}
		}
		if back, ok := unescapeTerm(out); !ok || back != s {
			t.Fatalf("termText(%q) = %q reads back as %q (%v)", s, out, back, ok)
		}
	})
}
