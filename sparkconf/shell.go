package sparkconf

import (
	"fmt"
	"strings"
)

// span is text with, for every byte, the spark-env.sh line it was written
// on (0: it came from the environment). Keeping the line through expansion is
// what lets a -D option in SPARK_DAEMON_JAVA_OPTS="$SPARK_DAEMON_JAVA_OPTS
// -D..." be traced to the line that wrote it.
type span struct {
	b     []byte
	lines []int
}

func spanOf(s string, line int) span {
	sp := span{}
	for i := 0; i < len(s); i++ {
		sp.add(s[i], line)
	}
	return sp
}

func (s *span) add(c byte, line int) {
	s.b = append(s.b, c)
	s.lines = append(s.lines, line)
}

func (s *span) addSpan(o span) {
	s.b = append(s.b, o.b...)
	s.lines = append(s.lines, o.lines...)
}

func (s span) sub(i, j int) span {
	return span{b: s.b[i:j], lines: s.lines[i:j]}
}

func (s span) lineAt(i int) int {
	if i < len(s.lines) {
		return s.lines[i]
	}
	return 0
}

// shellCmd is one simple command of spark-env.sh, split into words that
// still carry their quotes.
type shellCmd struct {
	line  int
	words []span
	bad   string // an operator that makes this more than a simple command
	text  string // source text, for messages
}

// maxShellInput bounds the work spent on a file that is not a real
// spark-env.sh (a binary, a log) while leaving room for any honest one.
const maxShellInput = 4 << 20

type shell struct {
	file     string
	env      func(string) string
	vars     map[string]*span // nil value: unset in the script
	warnings []Warning

	depth     int // nesting of if/case/loops/functions being skipped
	blockWord string
	blockLine int
	sawCRLF   bool
}

func newShell(file string, env func(string) string) *shell {
	return &shell{file: file, env: env, vars: map[string]*span{}}
}

func (sh *shell) seed(name, value string) {
	v := spanOf(value, 0)
	sh.vars[name] = &v
}

func (sh *shell) warn(line int, format string, args ...any) {
	sh.warnings = append(sh.warnings, Warning{Source: Source{File: sh.file, Line: line}, Message: fmt.Sprintf(format, args...)})
}

// lookup returns a variable's value as the script would see it; set is false
// for a variable that is unset (or empty in the environment, which the
// injected env cannot tell apart from unset).
func (sh *shell) lookup(name string) (span, bool) {
	if v, ok := sh.vars[name]; ok {
		if v == nil {
			return span{}, false
		}
		return *v, true
	}
	if e := sh.env(name); e != "" {
		return spanOf(e, 0), true
	}
	return span{}, false
}

func (sh *shell) run(data []byte) {
	if len(data) > maxShellInput {
		sh.warn(0, "file is larger than %d bytes; only the start was read", maxShellInput)
		data = data[:maxShellInput]
	}
	if strings.Contains(string(data), "\r\n") {
		sh.sawCRLF = true
		sh.warn(0, "file has Windows (CRLF) line endings; bash keeps each \\r in the values it assigns, "+
			"which Spark's launcher then treats as a separator; a trailing backslash no longer continues a line")
	}
	lx := lexer{data: data, line: 1}
	cmds := lx.run()
	for _, c := range cmds {
		sh.eval(c)
	}
	if lx.problem != "" {
		sh.warn(lx.problemLine, "%s; bash stops at this point, so the rest of the file was not read", lx.problem)
	}
	if sh.depth > 0 {
		sh.warn(sh.blockLine, "%s block is never closed", sh.blockWord)
	}
}

var blockOpeners = map[string]bool{"if": true, "case": true, "for": true, "while": true, "until": true, "select": true, "function": true, "{": true}
var blockClosers = map[string]bool{"fi": true, "esac": true, "done": true, "}": true}
var blockMiddles = map[string]bool{"then": true, "else": true, "elif": true, "do": true}

func wordText(w span) string { return strings.TrimRight(string(w.b), "\r") }

func (sh *shell) eval(c shellCmd) {
	words := c.words
	for len(words) > 0 && wordText(words[0]) == "" {
		words = words[1:] // a lone \r from CRLF line endings
	}
	if len(words) == 0 {
		return
	}
	first := wordText(words[0])
	last := wordText(words[len(words)-1])

	switch {
	case blockOpeners[first] || last == "{":
		if sh.depth == 0 {
			sh.blockWord, sh.blockLine = first, c.line
			if last == "{" && !blockOpeners[first] {
				sh.blockWord = "function"
			}
			sh.warn(c.line, "%s block not evaluated (recoverctl does not run shell logic); assignments inside it are ignored: %s", sh.blockWord, c.text)
		}
		sh.depth++
		return
	case blockClosers[first]:
		if sh.depth > 0 {
			sh.depth--
		}
		return
	case blockMiddles[first]:
		words = words[1:]
	}
	if sh.depth > 0 {
		for _, w := range words {
			if name, _, _, ok := splitAssignment(w); ok {
				sh.warn(c.line, "assignment to %s inside the %s block at line %d is not applied", name, sh.blockWord, sh.blockLine)
			}
		}
		return
	}
	if len(words) == 0 {
		return
	}
	if c.bad != "" {
		sh.warn(c.line, "not evaluated (contains %q): %s", c.bad, c.text)
		return
	}
	first = wordText(words[0])
	switch first {
	case "export", "readonly", "declare", "typeset", "local":
		for _, w := range words[1:] {
			if name, app, val, ok := splitAssignment(w); ok {
				sh.assign(c.line, name, app, val)
				continue
			}
			t := wordText(w)
			if strings.HasPrefix(t, "-") && t != "-x" {
				sh.warn(c.line, "%s %s not understood; line skipped: %s", first, t, c.text)
				return
			}
		}
		return
	case "unset":
		for _, w := range words[1:] {
			t := wordText(w)
			if t == "-v" {
				continue
			}
			if strings.HasPrefix(t, "-") {
				sh.warn(c.line, "unset %s not understood: %s", t, c.text)
				return
			}
			sh.vars[t] = nil
		}
		return
	case ":", "true":
		return
	}
	n := 0
	for n < len(words) {
		if _, _, _, ok := splitAssignment(words[n]); !ok {
			break
		}
		n++
	}
	if n < len(words) {
		if n > 0 {
			sh.warn(c.line, "command %q not executed, and the assignments before it would only apply to that command: %s", wordText(words[n]), c.text)
		} else {
			sh.warn(c.line, "command %q not executed: %s", first, c.text)
		}
		return
	}
	for _, w := range words {
		name, app, val, _ := splitAssignment(w)
		sh.assign(c.line, name, app, val)
	}
}

func (sh *shell) assign(line int, name string, appendTo bool, raw span) {
	val, problems := sh.expand(raw, true)
	for _, p := range problems {
		sh.warn(line, "%s: %s; %s may differ when the Master starts", name, p, name)
	}
	if appendTo {
		old, _ := sh.lookup(name)
		old = span{b: append([]byte{}, old.b...), lines: append([]int{}, old.lines...)}
		old.addSpan(val)
		val = old
	}
	sh.vars[name] = &val
}

// splitAssignment recognises NAME=value and NAME+=value words.
func splitAssignment(w span) (name string, appendTo bool, value span, ok bool) {
	b := w.b
	i := 0
	for i < len(b) && (b[i] == '_' || isAlpha(b[i]) || (i > 0 && isDigit(b[i]))) {
		i++
	}
	if i == 0 || i >= len(b) {
		return "", false, span{}, false
	}
	switch {
	case b[i] == '=':
		return string(b[:i]), false, w.sub(i+1, len(b)), true
	case b[i] == '+' && i+1 < len(b) && b[i+1] == '=':
		return string(b[:i]), true, w.sub(i+2, len(b)), true
	}
	return "", false, span{}, false
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isNameByte(c byte, first bool) bool {
	return c == '_' || isAlpha(c) || (!first && isDigit(c))
}

// expand performs what bash does to the value of an assignment: tilde,
// parameter expansion and quote removal (no word splitting, no globbing).
// Constructs it does not evaluate are returned as problems and expand to "".
func (sh *shell) expand(raw span, assignment bool) (span, []string) {
	var out span
	var problems []string
	b := raw.b
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\'':
			j := indexByteFrom(b, '\'', i+1)
			out.addSpan(raw.sub(i+1, j))
			i = min(j+1, len(b))
		case c == '"':
			i = sh.expandDouble(raw, i+1, &out, &problems)
		case c == '\\':
			if i+1 < len(b) {
				out.add(b[i+1], raw.lines[i+1])
				i += 2
			} else {
				out.add(c, raw.lines[i])
				i++
			}
		case c == '$':
			i = sh.expandDollar(raw, i, &out, &problems)
		case c == '`':
			j := closingBacktick(b, i+1)
			problems = append(problems, fmt.Sprintf("command substitution %s not evaluated", string(b[i:min(j+1, len(b))])))
			i = min(j+1, len(b))
		case c == '~' && i == 0 && assignment && (len(b) == 1 || b[1] == '/'):
			if home, ok := sh.lookup("HOME"); ok {
				out.addSpan(home)
			} else {
				problems = append(problems, "~ not expanded (HOME unknown)")
			}
			i++
		default:
			out.add(c, raw.lines[i])
			i++
		}
	}
	return out, problems
}

func (sh *shell) expandDouble(raw span, i int, out *span, problems *[]string) int {
	b := raw.b
	for i < len(b) {
		c := b[i]
		switch c {
		case '"':
			return i + 1
		case '\\':
			if i+1 < len(b) && strings.IndexByte("$`\"\\", b[i+1]) >= 0 {
				out.add(b[i+1], raw.lines[i+1])
				i += 2
				continue
			}
			out.add(c, raw.lines[i])
			i++
		case '$':
			i = sh.expandDollar(raw, i, out, problems)
		case '`':
			j := closingBacktick(b, i+1)
			*problems = append(*problems, fmt.Sprintf("command substitution %s not evaluated", string(b[i:min(j+1, len(b))])))
			i = min(j+1, len(b))
		default:
			out.add(c, raw.lines[i])
			i++
		}
	}
	return i
}

// expandDollar handles the $ at b[i] and returns the index after it.
func (sh *shell) expandDollar(raw span, i int, out *span, problems *[]string) int {
	b := raw.b
	if i+1 >= len(b) {
		out.add('$', raw.lines[i])
		return i + 1
	}
	n := b[i+1]
	switch {
	case n == '(':
		j := closingParen(b, i+2)
		*problems = append(*problems, fmt.Sprintf("command substitution %s not evaluated", string(b[i:min(j+1, len(b))])))
		return min(j+1, len(b))
	case n == '{':
		j := closingBrace(b, i+2)
		sh.expandBraced(raw, i, raw.sub(i+2, min(j, len(b))), out, problems)
		return min(j+1, len(b))
	case isNameByte(n, true):
		j := i + 1
		for j < len(b) && isNameByte(b[j], false) {
			j++
		}
		v, _ := sh.lookup(string(b[i+1 : j]))
		out.addSpan(v)
		return j
	case isDigit(n) || strings.IndexByte("@*#?$!-", n) >= 0:
		*problems = append(*problems, fmt.Sprintf("special parameter $%c not evaluated", n))
		return i + 2
	}
	out.add('$', raw.lines[i])
	return i + 1
}

func (sh *shell) expandBraced(raw span, at int, inner span, out *span, problems *[]string) {
	b := inner.b
	j := 0
	for j < len(b) && isNameByte(b[j], j == 0) {
		j++
	}
	name, rest := string(b[:j]), b[j:]
	whole := "${" + string(b) + "}"
	if name == "" {
		*problems = append(*problems, fmt.Sprintf("%s not evaluated", whole))
		return
	}
	val, set := sh.lookup(name)
	if len(rest) == 0 {
		out.addSpan(val)
		return
	}
	colon := rest[0] == ':'
	op := rest
	if colon {
		op = rest[1:]
	}
	if len(op) == 0 || strings.IndexByte("-=+", op[0]) < 0 {
		*problems = append(*problems, fmt.Sprintf("%s not evaluated", whole))
		return
	}
	// With a colon an empty value counts as unset.
	present := set && (!colon || len(val.b) > 0)
	word := func() span {
		w, p := sh.expand(inner.sub(len(b)-len(op)+1, len(b)), false)
		*problems = append(*problems, p...)
		return w
	}
	switch op[0] {
	case '-':
		if present {
			out.addSpan(val)
		} else {
			out.addSpan(word())
		}
	case '=':
		if present {
			out.addSpan(val)
		} else {
			w := word()
			sh.vars[name] = &w
			out.addSpan(w)
		}
	case '+':
		if present {
			out.addSpan(word())
		}
	}
}

func indexByteFrom(b []byte, c byte, from int) int {
	if from > len(b) {
		return len(b)
	}
	if k := strings.IndexByte(string(b[from:]), c); k >= 0 {
		return from + k
	}
	return len(b)
}

func closingBacktick(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case '\\':
			i += 2
			continue
		case '`':
			return i
		}
		i++
	}
	return len(b)
}

// closingParen finds the ) that closes a $( opened before i, skipping quoted
// text; it returns len(b) when there is none.
func closingParen(b []byte, i int) int { return closing(b, i, '(', ')') }

// closingBrace finds the } that closes a ${ opened before i, likewise.
func closingBrace(b []byte, i int) int { return closing(b, i, '{', '}') }

func closing(b []byte, i int, open, close byte) int {
	depth := 1
	for i < len(b) {
		switch b[i] {
		case '\\':
			i += 2
			continue
		case '\'':
			i = indexByteFrom(b, '\'', i+1) + 1
			continue
		case '"':
			i = closingDoubleQuote(b, i+1) + 1
			continue
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return len(b)
}

func closingDoubleQuote(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case '\\':
			i += 2
			continue
		case '"':
			return i
		case '`':
			i = closingBacktick(b, i+1) + 1
			continue
		case '$':
			if i+1 < len(b) && b[i+1] == '(' {
				i = closingParen(b, i+2) + 1
				continue
			}
		}
		i++
	}
	return len(b)
}

// lexer cuts spark-env.sh into simple commands, the way bash's parser finds
// word and command boundaries, without interpreting anything.
type lexer struct {
	data []byte
	i    int
	line int

	cmds    []shellCmd
	cur     shellCmd
	word    span
	inWord  bool
	cmdFrom int

	problem     string
	problemLine int
}

func (lx *lexer) startWord() {
	if !lx.inWord {
		if len(lx.cur.words) == 0 && lx.cur.bad == "" {
			lx.cur.line = lx.line
			lx.cmdFrom = lx.i
		}
		lx.inWord = true
		lx.word = span{}
	}
}

func (lx *lexer) endWord() {
	if lx.inWord {
		lx.cur.words = append(lx.cur.words, lx.word)
		lx.inWord = false
	}
}

func (lx *lexer) endCmd() {
	lx.endWord()
	if len(lx.cur.words) > 0 || lx.cur.bad != "" {
		lx.cur.text = messageText(lx.data[lx.cmdFrom:min(lx.i, len(lx.data))])
		lx.cmds = append(lx.cmds, lx.cur)
	}
	lx.cur = shellCmd{}
}

func messageText(b []byte) string {
	s := strings.ReplaceAll(string(b), "\\\n", " ")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// copyTo appends data[from:to] to the current word, counting newlines.
func (lx *lexer) copyTo(to int) {
	for lx.i < to && lx.i < len(lx.data) {
		c := lx.data[lx.i]
		lx.word.add(c, lx.line)
		if c == '\n' {
			lx.line++
		}
		lx.i++
	}
}

func (lx *lexer) fail(what string, line int) []shellCmd {
	lx.problem, lx.problemLine = what, line
	lx.cur = shellCmd{}
	return lx.cmds
}

func (lx *lexer) run() []shellCmd {
	d := lx.data
	for lx.i < len(d) {
		c := d[lx.i]
		switch {
		case c == '\n':
			lx.endCmd()
			lx.line++
			lx.i++
		case c == ' ' || c == '\t':
			lx.endWord()
			lx.i++
		case c == '#' && !lx.inWord:
			for lx.i < len(d) && d[lx.i] != '\n' {
				lx.i++
			}
		case c == ';':
			lx.endWord()
			if lx.i+1 < len(d) && d[lx.i+1] == ';' {
				lx.cur.bad = ";;"
				lx.i++
			}
			lx.endCmd()
			lx.i++
		case strings.IndexByte("&|<>()", c) >= 0:
			if len(lx.cur.words) == 0 && lx.cur.bad == "" && !lx.inWord {
				lx.cur.line = lx.line
				lx.cmdFrom = lx.i
			}
			lx.endWord()
			if lx.cur.bad == "" {
				lx.cur.bad = string(c)
			}
			lx.i++
		case c == '\\':
			if lx.i+1 < len(d) && d[lx.i+1] == '\n' {
				lx.i += 2 // line continuation: gone before words are formed
				lx.line++
				continue
			}
			lx.startWord()
			lx.copyTo(lx.i + 2)
		case c == '\'':
			lx.startWord()
			start := lx.line
			j := indexByteFrom(d, '\'', lx.i+1)
			if j >= len(d) {
				return lx.fail("unterminated single quote", start)
			}
			lx.copyTo(j + 1)
		case c == '"':
			lx.startWord()
			start := lx.line
			j := closingDoubleQuote(d, lx.i+1)
			if j >= len(d) {
				return lx.fail("unterminated double quote", start)
			}
			lx.copyDouble(j)
		case c == '`':
			lx.startWord()
			start := lx.line
			j := closingBacktick(d, lx.i+1)
			if j >= len(d) {
				return lx.fail("unterminated backquote", start)
			}
			lx.copyTo(j + 1)
		case c == '$' && lx.i+1 < len(d) && (d[lx.i+1] == '(' || d[lx.i+1] == '{'):
			lx.startWord()
			start := lx.line
			var j int
			if d[lx.i+1] == '(' {
				j = closingParen(d, lx.i+2)
			} else {
				j = closingBrace(d, lx.i+2)
			}
			if j >= len(d) {
				return lx.fail(fmt.Sprintf("unterminated $%c", d[lx.i+1]), start)
			}
			lx.copyTo(j + 1)
		default:
			lx.startWord()
			lx.copyTo(lx.i + 1)
		}
	}
	lx.endCmd()
	return lx.cmds
}

// copyDouble copies a double-quoted string ending at index end, dropping
// backslash-newline pairs, which bash removes inside double quotes too.
func (lx *lexer) copyDouble(end int) {
	d := lx.data
	for lx.i <= end {
		if d[lx.i] == '\\' && lx.i+1 < len(d) && d[lx.i+1] == '\n' {
			lx.i += 2
			lx.line++
			continue
		}
		if d[lx.i] == '\\' && lx.i+1 <= end {
			lx.copyTo(lx.i + 2)
			continue
		}
		lx.copyTo(lx.i + 1)
	}
}
