package inventory

import (
	"reflect"
	"strings"
)

// detach copies every string reachable from v (a pointer to a decoded
// record) into memory of its own. The decoder hands out strings that share
// one copy of the record's bytes, which is cheap while decoding but would
// keep every record's whole input alive for as long as a listing holds its
// values: with 100,000 records that is the difference between memory that
// follows the output and memory that follows the store.
func detach(v any) {
	detachValue(reflect.ValueOf(v), 0)
}

// maxDetachDepth bounds the walk; decoded models are a few levels deep, and
// the generic values of unknown fields are bounded by the decoder.
const maxDetachDepth = 64

func detachValue(v reflect.Value, depth int) {
	if depth > maxDetachDepth || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			detachValue(v.Elem(), depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				detachValue(f, depth+1)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if !v.IsNil() && v.CanSet() {
				v.SetBytes(append([]byte(nil), v.Bytes()...))
			}
			return
		}
		for i := range v.Len() {
			detachValue(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.IsNil() || !v.CanSet() {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(iter.Key())
			detachValue(k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(iter.Value())
			detachValue(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return
		}
		e := reflect.New(v.Elem().Type()).Elem()
		e.Set(v.Elem())
		detachValue(e, depth+1)
		v.Set(e)
	case reflect.String:
		if v.CanSet() {
			v.SetString(strings.Clone(v.String()))
		}
	}
}
