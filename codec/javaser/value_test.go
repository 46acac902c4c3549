package javaser

import (
	"reflect"
	"testing"
)

func TestBoxString(t *testing.T) {
	var a arena
	for _, s := range []string{"", "x", "héllo", string(make([]byte, 1000))} {
		v := a.boxString(s, 100)
		got, ok := v.(string)
		if !ok || got != s || v != any(s) || reflect.ValueOf(v).Kind() != reflect.String || reflect.ValueOf(v).String() != s {
			t.Errorf("boxString(%q) = %#v", s, v)
		}
		switch x := v.(type) {
		case string:
			if x != s {
				t.Errorf("type switch gave %q", x)
			}
		default:
			t.Errorf("type switch gave %T", x)
		}
		m := map[any]int{s: 1}
		if m[v] != 1 {
			t.Errorf("boxed %q does not hash like the string", s)
		}
	}
}
