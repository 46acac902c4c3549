package envelope

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen checks that no input panics, that every failure is a *FormatError or a
// *KryoError, and that no success exceeds the size cap. Each input is also forced through
// every codec, so decoders are reached without their magic bytes.
func FuzzOpen(f *testing.F) {
	paths, _ := filepath.Glob("testdata/samples/*/*.bin")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil && len(data) < 8<<10 {
			f.Add(data)
		}
	}
	lim := Limits{MaxSize: 4 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(u Unwrapped, err error) {
			var fe *FormatError
			var ke *KryoError
			if err != nil && !errors.As(err, &fe) && !errors.As(err, &ke) {
				t.Fatalf("error %v (%T) is neither *FormatError nor *KryoError", err, err)
			}
			if int64(len(u.Payload)) > lim.capFor(len(data)) {
				t.Fatalf("payload %d bytes over cap %d", len(u.Payload), lim.capFor(len(data)))
			}
			if err == nil && u.Codec == FormUnknown && !bytes.Equal(u.Payload, data) {
				t.Fatal("uncompressed payload differs from input")
			}
		}
		check(Open(data, lim))
		for _, c := range []Form{FormLZ4, FormLZF, FormSnappy, FormZstd} {
			check(OpenAs(c, data, lim))
		}
	})
}
