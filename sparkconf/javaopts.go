package sparkconf

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

type optToken struct {
	text string
	line int // line of the token's first character; 0: from the environment
}

var errOptionQuote = errors.New("unbalanced quote or trailing backslash in option string")

// splitJavaOptions splits an option string the way Spark's launcher does
// before putting it on the java command line: whitespace separates options,
// single and double quotes group, a backslash outside single quotes escapes
// the next character. It does not expand anything.
func splitJavaOptions(s span) ([]optToken, error) {
	var (
		toks          []optToken
		cur           strings.Builder
		curLine       int
		inOpt         bool
		single, dbl   bool
		escape        bool
		hasData       bool
		markStartLine = func(i int) {
			if !inOpt {
				curLine = s.lineAt(i)
			}
		}
	)
	for i := 0; i < len(s.b); {
		r, size := utf8.DecodeRune(s.b[i:])
		at := i
		i += size
		switch {
		case escape:
			cur.WriteRune(r)
			escape = false
		case r == '\\' && !single:
			markStartLine(at)
			escape, inOpt, hasData = true, true, true
		case r == '\'' && !dbl:
			markStartLine(at)
			single = !single
			inOpt, hasData = true, true
		case r == '"' && !single:
			markStartLine(at)
			dbl = !dbl
			inOpt, hasData = true, true
		case javaWhitespace(r) && !single && !dbl:
			if inOpt {
				toks = append(toks, optToken{text: cur.String(), line: curLine})
				cur.Reset()
				inOpt, hasData = false, false
			}
		default:
			markStartLine(at)
			cur.WriteRune(r)
			inOpt, hasData = true, true
		}
	}
	if hasData {
		toks = append(toks, optToken{text: cur.String(), line: curLine})
	}
	if single || dbl || escape {
		return toks, errOptionQuote
	}
	return toks, nil
}

// javaWhitespace is Java's Character.isWhitespace, which the launcher uses:
// it includes \r, \v and the information separators but not no-break spaces.
func javaWhitespace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x1C, 0x1D, 0x1E, 0x1F:
		return true
	case 0xA0, 0x2007, 0x202F:
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}

// javaOptsLines splits conf/java-opts into lines like BufferedReader.readLine:
// \n, \r and \r\n all end a line.
func javaOptsLines(data []byte) []string {
	var lines []string
	start := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			lines = append(lines, string(data[start:i]))
			start = i + 1
		case '\r':
			lines = append(lines, string(data[start:i]))
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(data) {
		lines = append(lines, string(data[start:]))
	}
	return lines
}
