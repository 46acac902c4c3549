package sparkconf

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

type property struct {
	key, value string
	line       int // line the logical line starts on
}

type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

var errMalformedUnicode = errors.New(`malformed \uxxxx escape`)

// parseProperties reads a file the way java.util.Properties.load(Reader)
// does, which is how Spark reads spark-defaults.conf: natural lines end at
// \n, \r or \r\n; # and ! start comments; an odd number of trailing
// backslashes continues a line and the next line's leading blanks are
// dropped; the key ends at the first unescaped '=', ':' or blank; escapes
// \t \n \r \f \uXXXX are decoded and any other \c is c. Duplicate keys are
// all returned, in order; the last one wins.
func parseProperties(data []byte) ([]property, error) {
	text := string(data)
	var props []property
	var logical strings.Builder
	continuing := false
	startLine := 0
	lineNo := 0
	for pos := 0; pos < len(text); {
		end := pos
		for end < len(text) && text[end] != '\n' && text[end] != '\r' {
			end++
		}
		natural := text[pos:end]
		next := end
		if next < len(text) {
			if text[next] == '\r' && next+1 < len(text) && text[next+1] == '\n' {
				next++
			}
			next++
		}
		pos = next
		lineNo++

		trimmed := strings.TrimLeft(natural, " \t\f")
		if !continuing {
			if trimmed == "" || trimmed[0] == '#' || trimmed[0] == '!' {
				continue
			}
			startLine = lineNo
			logical.Reset()
		}
		if odd := trailingBackslashes(trimmed)%2 == 1; odd {
			logical.WriteString(trimmed[:len(trimmed)-1])
			continuing = true
			continue
		}
		logical.WriteString(trimmed)
		continuing = false
		p, err := splitProperty(logical.String())
		if err != nil {
			return nil, &lineError{line: startLine, err: err}
		}
		p.line = startLine
		props = append(props, p)
	}
	if continuing {
		p, err := splitProperty(logical.String())
		if err != nil {
			return nil, &lineError{line: startLine, err: err}
		}
		p.line = startLine
		props = append(props, p)
	}
	return props, nil
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

func isPropBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

func splitProperty(line string) (property, error) {
	keyEnd, valueStart := len(line), len(line)
	hasSep := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' {
			keyEnd, valueStart, hasSep = i, i+1, true
			break
		}
		if isPropBlank(c) {
			keyEnd, valueStart = i, i+1
			break
		}
	}
	for valueStart < len(line) {
		c := line[valueStart]
		if !isPropBlank(c) {
			if !hasSep && (c == '=' || c == ':') {
				hasSep = true
			} else {
				break
			}
		}
		valueStart++
	}
	key, err := unescapeProperty(line[:keyEnd])
	if err != nil {
		return property{}, err
	}
	val, err := unescapeProperty(line[valueStart:])
	if err != nil {
		return property{}, err
	}
	return property{key: key, value: val}, nil
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	var pending []uint16 // UTF-16 units from \u escapes, joined into runes
	flush := func() {
		if len(pending) > 0 {
			b.WriteString(string(utf16.Decode(pending)))
			pending = pending[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			flush()
			b.WriteByte(c)
			continue
		}
		i++
		c = s[i]
		if c == 'u' {
			if i+4 >= len(s) {
				return "", errMalformedUnicode
			}
			var v uint16
			for k := 1; k <= 4; k++ {
				h := s[i+k]
				switch {
				case h >= '0' && h <= '9':
					v = v<<4 | uint16(h-'0')
				case h >= 'a' && h <= 'f':
					v = v<<4 | uint16(h-'a'+10)
				case h >= 'A' && h <= 'F':
					v = v<<4 | uint16(h-'A'+10)
				default:
					return "", errMalformedUnicode
				}
			}
			pending = append(pending, v)
			i += 4
			continue
		}
		flush()
		switch c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return b.String(), nil
}
