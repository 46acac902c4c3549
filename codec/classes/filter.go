package classes

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Status is a serialization filter's answer, as java.io.ObjectInputFilter.Status.
type Status int

const (
	Undecided Status = iota
	Allowed
	Rejected
)

func (s Status) String() string {
	switch s {
	case Allowed:
		return "ALLOWED"
	case Rejected:
		return "REJECTED"
	}
	return "UNDECIDED"
}

// ErrPattern is a malformed filter pattern.
var ErrPattern = errors.New("invalid serialization filter pattern")

// Filter is a JEP-290 pattern filter with exactly the semantics of
// java.io.ObjectInputFilter.Config.createFilter (JDK 17-25):
//
//   - patterns are separated by ';'; empty patterns are ignored; white
//     space is part of a pattern;
//   - "maxdepth=n", "maxrefs=n", "maxbytes=n", "maxarray=n" set limits;
//   - "module/pattern" matches only classes of that named module;
//   - "pkg.Class" matches that class; "pkg.*" every class of package pkg
//     (not of its sub-packages); "pkg.**" every class whose name starts
//     with "pkg."; "Prefix*" every class whose name starts with Prefix
//     ("*" alone matches everything);
//   - "!pattern" rejects what pattern matches;
//   - the first pattern that matches, left to right, decides; none means
//     UNDECIDED;
//   - an array is judged by its element type, at any dimension; arrays of
//     primitives are UNDECIDED.
//
// Module names are not in a stream: a class's module is taken from its
// package for the JDK's own packages (java.base, java.rmi, java.xml, ...)
// and is unnamed for everything else, as it is for Spark's and Scala's jars
// on a Master's class path.
type Filter struct {
	src      string
	patterns []pattern
	// Limits; -1 means unlimited.
	MaxDepth, MaxRefs, MaxBytes, MaxArray int64
}

type pattern struct {
	text   string // the pattern as written
	negate bool
	module string // "" for none
	kind   byte   // '=' class, 'p' package (.*), 's' sub-packages (.**), '*' prefix
	arg    string
}

// ParseFilter parses a filter string.
func ParseFilter(spec string) (*Filter, error) {
	f := &Filter{src: spec, MaxDepth: -1, MaxRefs: -1, MaxBytes: -1, MaxArray: -1}
	hasLimits := false
	for p := range strings.SplitSeq(spec, ";") {
		if p == "" {
			continue
		}
		if eq := strings.IndexByte(p, '='); eq >= 0 {
			v, err := strconv.ParseInt(p[eq+1:], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: %q: limit value: %v", ErrPattern, p, err)
			}
			if v < 0 {
				return nil, fmt.Errorf("%w: %q: negative limit", ErrPattern, p)
			}
			switch {
			case strings.HasPrefix(p, "maxdepth="):
				f.MaxDepth = v
			case strings.HasPrefix(p, "maxarray="):
				f.MaxArray = v
			case strings.HasPrefix(p, "maxrefs="):
				f.MaxRefs = v
			case strings.HasPrefix(p, "maxbytes="):
				f.MaxBytes = v
			default:
				return nil, fmt.Errorf("%w: unknown limit %q", ErrPattern, p[:eq])
			}
			hasLimits = true
			continue
		}
		pt := pattern{text: p, negate: p[0] == '!'}
		off := 0
		if pt.negate {
			off = 1
		}
		if slash := strings.IndexByte(p[off:], '/'); slash >= 0 {
			if slash == 0 {
				return nil, fmt.Errorf("%w: module name is missing in %q", ErrPattern, p)
			}
			pt.module = p[off : off+slash]
			off += slash + 1
		}
		n := len(p)
		switch {
		case strings.HasSuffix(p, ".*"):
			pt.kind, pt.arg = 'p', substr(p, off, n-2)
			if pt.arg == "" {
				return nil, fmt.Errorf("%w: package missing in %q", ErrPattern, p)
			}
		case strings.HasSuffix(p, ".**"):
			pt.kind, pt.arg = 's', substr(p, off, n-2) // keeps the '.'
			if len(pt.arg) < 2 {
				return nil, fmt.Errorf("%w: package missing in %q", ErrPattern, p)
			}
		case strings.HasSuffix(p, "*"):
			pt.kind, pt.arg = '*', substr(p, off, n-1)
		default:
			pt.kind, pt.arg = '=', p[off:]
			if pt.arg == "" {
				return nil, fmt.Errorf("%w: class or package missing in %q", ErrPattern, p)
			}
		}
		f.patterns = append(f.patterns, pt)
	}
	if len(f.patterns) == 0 && !hasLimits {
		return nil, fmt.Errorf("%w: no non-empty patterns in %q", ErrPattern, spec)
	}
	return f, nil
}

// substr is Java's String.substring(begin, end), which throws when end <
// begin: "a/*" has a module and nothing after it, which Java rejects with
// StringIndexOutOfBoundsException; here it is simply an empty argument.
func substr(s string, begin, end int) string {
	if end < begin {
		return ""
	}
	return s[begin:end]
}

// String is the filter as given.
func (f *Filter) String() string { return f.src }

// Check judges one class by its binary name ("a.b.C", "[La.b.C;", "[I").
// Limits are not looked at; see CheckLimits.
func (f *Filter) Check(class string) Status {
	st, _ := f.CheckWhy(class)
	return st
}

// CheckWhy is Check plus the pattern that decided ("" when undecided).
func (f *Filter) CheckWhy(class string) (Status, string) {
	if f == nil {
		return Undecided, ""
	}
	if strings.HasPrefix(class, "[") {
		class = baseClass(class)
		if class == "" {
			return Undecided, "" // primitive element type
		}
	}
	for _, p := range f.patterns {
		if p.module != "" && p.module != moduleOf(class) {
			continue
		}
		var m bool
		switch p.kind {
		case '=':
			m = class == p.arg
		case 'p':
			m = packageOf(class) == p.arg
		case 's', '*':
			m = strings.HasPrefix(class, p.arg)
		}
		if m {
			if p.negate {
				return Rejected, p.text
			}
			return Allowed, p.text
		}
	}
	return Undecided, ""
}

// CheckLimits applies the limit patterns to a stream's figures and returns
// the limits it exceeds.
func (f *Filter) CheckLimits(depth, refs, bytes, array int64) []string {
	if f == nil {
		return nil
	}
	var out []string
	over := func(name string, v, lim int64) {
		if lim >= 0 && v > lim {
			out = append(out, fmt.Sprintf("%s=%d exceeded (%d)", name, lim, v))
		}
	}
	over("maxdepth", depth, f.MaxDepth)
	over("maxrefs", refs, f.MaxRefs)
	over("maxbytes", bytes, f.MaxBytes)
	over("maxarray", array, f.MaxArray)
	return out
}

// packageOf is Class.getPackageName for a binary name.
func packageOf(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[:i]
	}
	return ""
}

// jdkModules maps package prefixes of the JDK to their module (the
// packages a Spark record or a gadget chain can name).
var jdkModules = []struct{ prefix, module string }{
	{"java.lang.", "java.base"}, {"java.util.", "java.base"}, {"java.io.", "java.base"},
	{"java.net.", "java.base"}, {"java.math.", "java.base"}, {"java.time.", "java.base"},
	{"java.nio.", "java.base"}, {"java.security.", "java.base"}, {"java.text.", "java.base"},
	{"javax.crypto.", "java.base"}, {"javax.security.auth.", "java.base"},
	{"sun.reflect.annotation.", "java.base"}, {"jdk.internal.", "java.base"}, {"sun.security.", "java.base"},
	{"java.rmi.", "java.rmi"}, {"sun.rmi.", "java.rmi"}, {"javax.rmi.ssl.", "java.rmi"},
	{"javax.management.", "java.management"}, {"com.sun.jmx.", "java.management"},
	{"javax.xml.", "java.xml"}, {"com.sun.org.apache.", "java.xml"},
	{"java.beans.", "java.desktop"}, {"java.awt.", "java.desktop"}, {"javax.swing.", "java.desktop"},
	{"java.sql.", "java.sql"}, {"javax.sql.rowset.", "java.sql.rowset"}, {"com.sun.rowset.", "java.sql.rowset"},
	{"javax.sql.", "java.sql"}, {"javax.naming.", "java.naming"}, {"com.sun.jndi.", "java.naming"},
}

func moduleOf(class string) string {
	for _, m := range jdkModules {
		if strings.HasPrefix(class, m.prefix) {
			return m.module
		}
	}
	return "" // the unnamed module of the class path
}
