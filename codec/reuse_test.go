package codec

import (
	"encoding/json"
	"testing"
)

// One Decoder reused across every capture record, with damaged records in
// between, must give exactly what a fresh Decode gives: reuse must not leak
// anything of a previous record (or of a failed one) into the next.
func TestDecoderReuseMatchesDecode(t *testing.T) {
	d := NewDecoder(Options{})
	typed := func(rec *Record) string {
		if rec == nil {
			return "nil"
		}
		b, err := json.Marshal(struct {
			App    *App
			Driver *Driver
			Worker *Worker
			Spark  Fingerprint
			Class  string
			Codec  string
		}{rec.App, rec.Driver, rec.Worker, rec.Spark, rec.Class, rec.Codec})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	n := 0
	for _, c := range loadCaptures(t) {
		for _, name := range sortedNames(c.records) {
			data := c.records[name]
			want, wantErr := Decode(name, data, Options{})
			// A truncated copy first: it fails midway, leaving the reused
			// memory half written (RocksDB values end in zeros past the
			// object: cut the object itself).
			cut := len(data)
			if want != nil && want.Codec == "" && want.Trailing > 0 {
				cut = want.Trailing
			}
			if _, err := d.Decode(name, data[:cut*2/3]); err == nil {
				t.Errorf("%s/%s truncated to 2/3: no error", c.dir, name)
			}
			got, gotErr := d.Decode(name, data)
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
				t.Fatalf("%s/%s: reused decoder error %v, Decode error %v", c.dir, name, gotErr, wantErr)
			}
			if g, w := typed(got), typed(want); g != w {
				t.Fatalf("%s/%s: reused decoder gives\n%s\nDecode gives\n%s", c.dir, name, g, w)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no capture records")
	}
}
