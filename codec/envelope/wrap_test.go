package envelope

import (
	"bytes"
	"testing"
)

// Wrap is Open's inverse for every codec, on payloads around the block sizes.
func TestWrapOpenRoundTrip(t *testing.T) {
	// Open checks that a codec holds a serializer's stream.
	payload := append(make([]byte, 0, 100_000), 0xAC, 0xED, 0x00, 0x05)
	for i := 0; len(payload) < cap(payload); i++ {
		payload = append(payload, byte(i*7), byte(i>>3), 0xAC, 0xED)
	}
	forms := map[string]Form{"lz4": FormLZ4, "lzf": FormLZF, "snappy": FormSnappy, "zstd": FormZstd}
	for codec, form := range forms {
		for _, n := range []int{4, 5, 32 << 10, 32<<10 + 1, 0xFFFF + 3, len(payload)} {
			data, err := Wrap(codec, payload[:n])
			if err != nil {
				t.Fatalf("%s %d: %v", codec, n, err)
			}
			u, err := OpenAs(form, data, Limits{})
			if err != nil {
				t.Fatalf("%s %d: open: %v", codec, n, err)
			}
			if !bytes.Equal(u.Payload, payload[:n]) {
				t.Errorf("%s %d: round trip changed the payload", codec, n)
			}
		}
	}
	if _, err := Wrap("brotli", payload); err == nil {
		t.Error("an unknown codec was accepted")
	}
}
