package javaser

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder, then walks and dumps
// whatever it produced: no input may panic, loop, or yield an error that is
// neither a *FormatError nor an *ExceptionError.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/gen/*.ser")
	hostile, _ := filepath.Glob("testdata/hostile/*.bin")
	for _, p := range append(seeds, hostile...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= 64<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data, Options{MaxAlloc: 8 << 20})
		if err := d.ReadHeader(); err != nil {
			return
		}
		for i := 0; d.More() && i < 1000; i++ {
			v, err := d.ReadContent()
			if err == io.EOF { // a stream may end with TC_RESET
				return
			}
			if err != nil {
				var fe *FormatError
				var ee *ExceptionError
				switch {
				case errors.As(err, &ee):
					v = ee.Exception
				case errors.As(err, &fe):
					return
				default:
					t.Fatalf("error of type %T: %v", err, err)
				}
			}
			if err := Dump(io.Discard, v); err != nil {
				t.Fatal(err)
			}
			Walk(v, func(v Value) bool {
				if o, ok := v.(*Object); ok {
					o.Field("x")
					for i := range o.Classes {
						r := o.Classes[i].Annotation()
						for !r.Done() {
							if _, err := r.ReadInt(); err != nil {
								if _, err := r.ReadObject(); err != nil {
									break
								}
							}
						}
					}
				}
				return true
			})
		}
	})
}
