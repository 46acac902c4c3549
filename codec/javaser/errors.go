package javaser

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, reachable through errors.Is on any error this package
// returns.
var (
	// ErrTruncated means the input ended inside a value, or a declared length
	// is larger than what is left of the input.
	ErrTruncated = errors.New("truncated input")
	// ErrLimit means a bound from Options (depth, handles, string or array
	// length, allocation budget) would have been exceeded.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupported marks valid streams this package cannot parse generically
	// (protocol-1 Externalizable data).
	ErrUnsupported = errors.New("unsupported")
	// ErrAnnotation is returned by AnnotationReader when the annotation does
	// not hold what the caller asked for next.
	ErrAnnotation = errors.New("annotation does not match the expected layout")
)

// FormatError reports malformed or unacceptable input at a byte offset.
type FormatError struct {
	Record string // name of the record being decoded, from Options.Record
	Offset int64  // offset in the input where the offending item starts
	Want   string // what the grammar allows there, if that is the problem
	Got    string // what the input holds instead
	Err    error  // ErrTruncated, ErrLimit, ErrUnsupported or nil
}

func (e *FormatError) Error() string {
	var b strings.Builder
	if e.Record != "" {
		b.WriteString(e.Record)
		b.WriteString(": ")
	}
	b.WriteString("offset ")
	b.WriteString(strconv.FormatInt(e.Offset, 10))
	b.WriteString(": ")
	switch {
	case e.Want != "" && e.Got != "":
		b.WriteString("expected " + e.Want + ", got " + e.Got)
	case e.Want != "":
		b.WriteString("expected " + e.Want)
	case e.Got != "":
		b.WriteString(e.Got)
	}
	if e.Err != nil {
		if e.Want != "" || e.Got != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

// ExceptionError reports a TC_EXCEPTION: the writer hit an exception while
// serializing and recorded the exception object instead of finishing the
// object it was writing (ObjectInputStream throws WriteAbortedException here).
type ExceptionError struct {
	Record    string
	Offset    int64 // offset of the TC_EXCEPTION byte
	Exception Value // usually an *Object of a java.lang.Throwable subclass
}

func (e *ExceptionError) Error() string {
	var b strings.Builder
	if e.Record != "" {
		b.WriteString(e.Record)
		b.WriteString(": ")
	}
	b.WriteString("offset ")
	b.WriteString(strconv.FormatInt(e.Offset, 10))
	b.WriteString(": stream holds an exception written by the serializer: ")
	b.WriteString(e.ExceptionClass())
	if m := e.Message(); m != "" {
		b.WriteString(": ")
		b.WriteString(m)
	}
	return b.String()
}

// ExceptionClass is the class name of the recorded exception.
func (e *ExceptionError) ExceptionClass() string {
	if o, ok := e.Exception.(*Object); ok {
		return o.ClassName()
	}
	return "?"
}

// Message is the recorded exception's detailMessage, if any.
func (e *ExceptionError) Message() string {
	if o, ok := e.Exception.(*Object); ok {
		if v, ok := o.FieldIn("java.lang.Throwable", "detailMessage"); ok {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return ""
}
