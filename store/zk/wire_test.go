package zk

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// answer builds a multiRead answer: a getData result per payload (nil
// meaning an error result with NoNode), then the done header.
func answer(payloads ...[]byte) []byte {
	var b []byte
	for _, p := range payloads {
		if p == nil {
			b = appendMultiHeader(b, opError, false, zNoNode)
			b = binary.BigEndian.AppendUint32(b, uint32(0xffffff9b)) // -101
			continue
		}
		b = appendMultiHeader(b, opGetData, false, 0)
		b = appendBuffer(b, p)
		st := make([]byte, statBytes)
		binary.BigEndian.PutUint64(st[24:], 1234) // mtime
		b = append(b, st...)
	}
	return appendMultiHeader(b, -1, true, -1)
}

func TestParseMultiRead(t *testing.T) {
	body := answer([]byte("one"), nil, []byte{})
	res, err := parseMultiRead(body, 3)
	if err != nil {
		t.Fatal(err)
	}
	if string(res[0].data) != "one" || res[0].mtime != 1234 || res[1].code != zNoNode || len(res[2].data) != 0 || res[2].code != 0 {
		t.Fatalf("results %+v", res)
	}
	// Every truncation is an error, not a panic or a short result.
	for n := range len(body) {
		if _, err := parseMultiRead(body[:n], 3); err == nil {
			t.Errorf("answer cut at %d of %d bytes accepted", n, len(body))
		}
	}
	if _, err := parseMultiRead(body, 2); err == nil {
		t.Error("three results for two operations accepted")
	}
	if _, err := parseMultiRead(body, 4); err == nil {
		t.Error("three results for four operations accepted")
	}
	bad := bytes.Clone(body)
	binary.BigEndian.PutUint32(bad, 1) // a create result
	if _, err := parseMultiRead(bad, 3); err == nil {
		t.Error("result of another operation accepted")
	}
	huge := answer([]byte("x"))
	binary.BigEndian.PutUint32(huge[9:], 0x7fffffff) // data length
	if _, err := parseMultiRead(huge, 1); err == nil {
		t.Error("data length beyond the answer accepted")
	}
}

func FuzzParseMultiRead(f *testing.F) {
	f.Add(answer([]byte("one"), nil, []byte{}), 3)
	f.Add(answer(), 0)
	f.Fuzz(func(t *testing.T, body []byte, want int) {
		want = min(max(want, 0), 1<<10)
		res, err := parseMultiRead(body, want)
		if err == nil && len(res) != want {
			t.Fatalf("%d results for %d operations without an error", len(res), want)
		}
		for _, r := range res {
			if len(r.data) > len(body) {
				t.Fatal("result larger than the answer")
			}
		}
	})
}
