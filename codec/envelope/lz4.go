package envelope

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/pierrec/lz4/v4"
)

// lz4-java LZ4BlockOutputStream framing: blocks of
// magic "LZ4Block" | token | compressedLen int32 LE | originalLen int32 LE | checksum int32 LE,
// where token = method (0x10 raw, 0x20 lz4) | (log2(blockSize) - 10), and the checksum is
// XXHash32(seed 0x9747b28c) of the original bytes masked to 28 bits (asChecksum). A stream
// ends with an empty raw block whose checksum is 0.
const (
	lz4HeaderLen    = 21
	lz4MethodRaw    = 0x10
	lz4MethodLZ4    = 0x20
	lz4Seed         = 0x9747b28c
	lz4ChecksumMask = 0x0FFFFFFF
)

func openLZ4(data []byte, capacity int64) ([]byte, error) {
	out := make([]byte, 0, min(int64(len(data))*2, capacity))
	pos := 0
	ended := false
	for pos < len(data) {
		if len(data)-pos < lz4HeaderLen {
			return nil, formatErr(len(data), fmt.Sprintf("%d-byte header", lz4HeaderLen), fmt.Sprintf("%d bytes", len(data)-pos), "lz4 block header: %w", ErrTruncated)
		}
		h := data[pos : pos+lz4HeaderLen]
		if string(h[:8]) != string(magicLZ4) {
			return nil, formatErr(pos, "LZ4Block", hexPrefix(h[:8]), "lz4 block magic: %w", ErrCorrupt)
		}
		token := h[8]
		method := token & 0xF0
		blockSize := int64(1) << (10 + token&0x0F)
		clen := int64(int32(binary.LittleEndian.Uint32(h[9:])))
		olen := int64(int32(binary.LittleEndian.Uint32(h[13:])))
		sum := binary.LittleEndian.Uint32(h[17:])
		switch {
		case method != lz4MethodRaw && method != lz4MethodLZ4:
			return nil, formatErr(pos+8, "method 0x10 or 0x20", fmt.Sprintf("0x%02x", method), "lz4 block token: %w", ErrCorrupt)
		case clen < 0 || olen < 0 || olen > blockSize:
			return nil, formatErr(pos+9, fmt.Sprintf("lengths within block size %d", blockSize), fmt.Sprintf("compressed %d, original %d", clen, olen), "lz4 block lengths: %w", ErrCorrupt)
		case (olen == 0) != (clen == 0) || (method == lz4MethodRaw && clen != olen):
			return nil, formatErr(pos+9, "", "", "lz4 block lengths: compressed %d, original %d, method 0x%02x: %w", clen, olen, method, ErrCorrupt)
		}
		pos += lz4HeaderLen
		if olen == 0 {
			if sum != 0 {
				return nil, formatErr(pos-4, "0", fmt.Sprintf("0x%08x", sum), "lz4 end block checksum: %w", ErrCorrupt)
			}
			ended = true
			continue
		}
		ended = false
		if clen > int64(len(data)-pos) {
			return nil, formatErr(len(data), fmt.Sprintf("%d bytes", clen), fmt.Sprintf("%d bytes", len(data)-pos), "lz4 block at offset %d: %w", pos-lz4HeaderLen, ErrTruncated)
		}
		if int64(len(out))+olen > capacity {
			return nil, formatErr(pos-lz4HeaderLen, fmt.Sprintf("at most %d bytes", capacity), fmt.Sprintf("%d bytes", int64(len(out))+olen), "lz4: %w", ErrLimit)
		}
		src := data[pos : pos+int(clen)]
		start := len(out)
		out = slices.Grow(out, int(olen))[:start+int(olen)]
		dst := out[start:]
		if method == lz4MethodRaw {
			copy(dst, src)
		} else {
			n, err := lz4.UncompressBlock(src, dst)
			if err != nil || int64(n) != olen {
				return nil, formatErr(pos, "", "", "lz4 block: %w (decoded %d of %d bytes: %v)", ErrCorrupt, n, olen, err)
			}
		}
		if got := xxh32(dst, lz4Seed) & lz4ChecksumMask; got != sum {
			return nil, formatErr(pos-4, fmt.Sprintf("0x%08x", sum), fmt.Sprintf("0x%08x", got), "lz4 block: %w", ErrChecksum)
		}
		pos += int(clen)
	}
	if !ended {
		return nil, formatErr(len(data), "end block", "end of data", "lz4 stream: %w", ErrTruncated)
	}
	return out, nil
}
