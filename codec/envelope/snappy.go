package envelope

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/klauspost/compress/snappy"
)

// snappy-java SnappyOutputStream framing (not the official Snappy framing format): a
// 16-byte header (0x82 "SNAPPY" 0x00, int32 BE version 1, int32 BE compatible version 1),
// then chunks of int32 BE length and one raw Snappy block. No checksum, no end marker.
// SnappyInputStream accepts a new header where a chunk length is expected, which is how
// concatenated streams read back.
//
// klauspost's snappy/xerial package reads this framing too, but it ignores 1-3 trailing
// bytes, does not accept concatenated streams and decodes S2 extensions, so only the block
// decoder (DecodeStrict, standard Snappy only) is used from it.
const snappyHeaderLen = 16

func openSnappy(data []byte, capacity int64) ([]byte, error) {
	out := make([]byte, 0, min(int64(len(data))*2, capacity))
	pos := 0
	for pos < len(data) {
		if bytes.HasPrefix(data[pos:], magicSnappy) || (pos == 0) {
			if len(data)-pos < snappyHeaderLen {
				return nil, formatErr(len(data), "16-byte header", fmt.Sprintf("%d bytes", len(data)-pos), "snappy header: %w", ErrTruncated)
			}
			if !bytes.HasPrefix(data[pos:], magicSnappy) {
				return nil, formatErr(pos, hexPrefix(magicSnappy), hexPrefix(data[pos:]), "snappy header: %w", ErrCorrupt)
			}
			if compat := binary.BigEndian.Uint32(data[pos+12:]); compat != 1 {
				return nil, formatErr(pos+12, "compatible version 1", fmt.Sprint(compat), "snappy header: %w", ErrCorrupt)
			}
			pos += snappyHeaderLen
			continue
		}
		if len(data)-pos < 4 {
			return nil, formatErr(len(data), "4-byte chunk length", fmt.Sprintf("%d bytes", len(data)-pos), "snappy chunk: %w", ErrTruncated)
		}
		clen := int64(binary.BigEndian.Uint32(data[pos:]))
		start := pos
		pos += 4
		if clen == 0 || clen > int64(len(data)-pos) {
			if clen == 0 || clen > 1<<31 {
				return nil, formatErr(start, "", "", "snappy chunk length %d: %w", clen, ErrCorrupt)
			}
			return nil, formatErr(len(data), fmt.Sprintf("%d bytes", clen), fmt.Sprintf("%d bytes", len(data)-pos), "snappy chunk at offset %d: %w", start, ErrTruncated)
		}
		src := data[pos : pos+int(clen)]
		olen, err := snappy.DecodedLen(src)
		if err != nil {
			return nil, formatErr(pos, "", "", "snappy chunk at offset %d: %w (%v)", start, ErrCorrupt, err)
		}
		if int64(len(out))+int64(olen) > capacity {
			return nil, formatErr(start, fmt.Sprintf("at most %d bytes", capacity), fmt.Sprintf("%d bytes", int64(len(out))+int64(olen)), "snappy: %w", ErrLimit)
		}
		o := len(out)
		out = slices.Grow(out, olen)[:o+olen]
		if _, err := snappy.DecodeStrict(out[o:], src); err != nil {
			return nil, formatErr(pos, "", "", "snappy chunk at offset %d: %w (%v)", start, ErrCorrupt, err)
		}
		pos += int(clen)
	}
	return out, nil
}
