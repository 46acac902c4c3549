package javaser

import "unsafe"

// Boxing a Go string into an interface costs one allocation per string, and
// strings are half the allocations of a decoded Spark record. boxString
// builds the interface over a string header kept in an arena chunk instead,
// so a chunk of strings costs one allocation. The result is an ordinary
// interface value holding a string (type switches, ==, reflect all work;
// TestBoxString checks that); the chunk stays alive as long as any of its
// strings is referenced, like every other arena chunk.

// eface is the runtime layout of an empty interface, stable since Go 1.0.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var stringType = func() unsafe.Pointer {
	var v any = ""
	return (*eface)(unsafe.Pointer(&v)).typ
}()

func (a *arena) boxString(s string, inputLen int) Value {
	p := &take(&a.strs, 1, 2*a.size(inputLen))[0]
	*p = s
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ = stringType
	e.data = unsafe.Pointer(p)
	return v
}
