package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// termText makes a string from the data safe to print for a person: an
// application name is chosen by whoever ran spark-submit, and a file name or
// an archive's manifest by whoever could write there. Printed raw, their
// escape sequences would retitle or clear the terminal, colour it, forge
// table rows (CR, newline) or reorder what is read (bidi overrides). Every
// such character is shown as a visible escape instead: \n \r \t, \xHH for
// the other C0 controls, DEL and bytes that are not UTF-8, \uHHHH for C1
// controls, bidirectional overrides and isolates (U+202A-U+202E,
// U+2066-U+2069) and every other rune unicode.IsPrint refuses (format
// characters, unassigned code points). The backslash is doubled, so that
// an escape seen is always one recoverctl made.
func termText(s string) string {
	if isPlain(s) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b = fmt.Appendf(b, `\x%02x`, s[i])
			i++
			continue
		}
		b = appendTermRune(b, r)
		i += n
	}
	return string(b)
}

// isPlain is termText's fast path: printable ASCII without a backslash.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

func appendTermRune(b []byte, r rune) []byte {
	switch r {
	case '\\':
		return append(b, `\\`...)
	case '\n':
		return append(b, `\n`...)
	case '\r':
		return append(b, `\r`...)
	case '\t':
		return append(b, `\t`...)
	}
	switch {
	case r < 0x20 || r == 0x7f:
		return fmt.Appendf(b, `\x%02x`, r)
	case r >= 0x80 && r <= 0x9f, isBidiControl(r), !unicode.IsPrint(r):
		if r > 0xffff {
			return fmt.Appendf(b, `\U%08x`, r)
		}
		return fmt.Appendf(b, `\u%04x`, r)
	}
	return utf8.AppendRune(b, r)
}

// isBidiControl: the embeddings, overrides and isolates that reorder the
// text around them. unicode.IsPrint refuses them too (they are format
// characters); they are named here because they are the ones that matter.
func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// termCell is termText for a table cell of any type.
func termCell(v any) string {
	switch x := v.(type) {
	case string:
		return termText(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return termText(fmt.Sprint(v))
}

// termLines is an io.Writer that passes text through termText line by line,
// keeping its own line breaks: for multi-line output that embeds names
// from the data (the Java serialization tree of `show --raw`).
type termLines struct {
	w       io.Writer
	pending []byte
}

func (t *termLines) Write(p []byte) (int, error) {
	t.pending = append(t.pending, p...)
	for {
		i := bytes.IndexByte(t.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		if _, err := io.WriteString(t.w, termText(string(t.pending[:i]))+"\n"); err != nil {
			return 0, err
		}
		t.pending = t.pending[i+1:]
	}
}

// Flush writes what is left after the last line break.
func (t *termLines) Flush() error {
	if len(t.pending) == 0 {
		return nil
	}
	_, err := io.WriteString(t.w, termText(string(t.pending)))
	t.pending = nil
	return err
}
