package javaser

// arena hands out the decoder's structs and slices from chunks, so a record
// costs a few allocations rather than several per object. Everything in a
// chunk lives as long as any of it is referenced; all of it belongs to one
// decoded stream, so that costs nothing extra in practice.
type arena struct {
	objs    []Object
	descs   []ClassDesc
	cdata   []ClassData
	values  []Value
	fields  []Field
	layouts []*ClassDesc
	chunk   int
}

// take returns n zeroed elements from *pool, starting a new chunk of at
// least size elements when the current one is full. The result is capped so
// that an append by a caller cannot run into a neighbour.
func take[T any](pool *[]T, n, size int) []T {
	if cap(*pool)-len(*pool) < n {
		*pool = make([]T, 0, max(n, size))
	}
	l := len(*pool)
	*pool = (*pool)[:l+n]
	return (*pool)[l : l+n : l+n]
}

func (a *arena) size(inputLen int) int {
	if a.chunk == 0 {
		// About one object or descriptor per 100 bytes of a record.
		a.chunk = min(max(inputLen/100, 8), 256)
	}
	return a.chunk
}

// reset makes the current chunk of every pool reusable for the next
// stream: what the stream decoded before handed out is overwritten, which
// is why Decoder.Reset says its earlier values are dead. Earlier chunks
// are left to the garbage collector; the current ones are zeroed, as take
// promises, and handed out again.
func (a *arena) reset() {
	reuse(&a.objs)
	reuse(&a.descs)
	reuse(&a.cdata)
	reuse(&a.values)
	reuse(&a.fields)
	reuse(&a.layouts)
	a.chunk = 0
}

func reuse[T any](pool *[]T) {
	clear(*pool)
	*pool = (*pool)[:0]
}
