package envelope

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// compress-lzf chunk framing: 'Z' 'V' type, then for type 0 (stored) a uint16 BE length
// and the bytes, for type 1 (compressed) uint16 BE compressed length, uint16 BE original
// length and a liblzf block. No checksum and no end marker: an empty stream is zero bytes.
const (
	lzfTypeStored     = 0
	lzfTypeCompressed = 1
)

func openLZF(data []byte, capacity int64) ([]byte, error) {
	out := make([]byte, 0, min(int64(len(data))*2, capacity))
	pos := 0
	for pos < len(data) {
		if len(data)-pos < 5 {
			return nil, formatErr(len(data), "chunk header", fmt.Sprintf("%d bytes", len(data)-pos), "lzf chunk header: %w", ErrTruncated)
		}
		if data[pos] != 'Z' || data[pos+1] != 'V' {
			return nil, formatErr(pos, "ZV", hexPrefix(data[pos:pos+2]), "lzf chunk magic: %w", ErrCorrupt)
		}
		typ := data[pos+2]
		clen := int(binary.BigEndian.Uint16(data[pos+3:]))
		olen, hdr := clen, 5
		switch typ {
		case lzfTypeStored:
		case lzfTypeCompressed:
			if len(data)-pos < 7 {
				return nil, formatErr(len(data), "chunk header", fmt.Sprintf("%d bytes", len(data)-pos), "lzf chunk header: %w", ErrTruncated)
			}
			olen, hdr = int(binary.BigEndian.Uint16(data[pos+5:])), 7
		default:
			return nil, formatErr(pos+2, "type 0 or 1", fmt.Sprint(typ), "lzf chunk type: %w", ErrCorrupt)
		}
		start := pos
		pos += hdr
		if clen > len(data)-pos {
			return nil, formatErr(len(data), fmt.Sprintf("%d bytes", clen), fmt.Sprintf("%d bytes", len(data)-pos), "lzf chunk at offset %d: %w", start, ErrTruncated)
		}
		if int64(len(out)+olen) > capacity {
			return nil, formatErr(start, fmt.Sprintf("at most %d bytes", capacity), fmt.Sprintf("%d bytes", len(out)+olen), "lzf: %w", ErrLimit)
		}
		src := data[pos : pos+clen]
		if typ == lzfTypeStored {
			out = append(out, src...)
		} else {
			o := len(out)
			out = slices.Grow(out, olen)[:o+olen]
			if off, err := lzfBlock(src, out[o:]); err != nil {
				return nil, formatErr(pos+off, "", "", "lzf chunk at offset %d: %w", start, err)
			}
		}
		pos += clen
	}
	return out, nil
}

// lzfBlock decodes one liblzf block into dst, which it must fill exactly; back-references
// stay inside the chunk (compress-lzf compresses each chunk on its own). It returns the
// offset in src of a failure.
func lzfBlock(src, dst []byte) (int, error) {
	ip, op := 0, 0
	for ip < len(src) {
		ctrl := int(src[ip])
		ip++
		if ctrl < 32 {
			n := ctrl + 1
			if n > len(src)-ip {
				return ip, fmt.Errorf("literal run of %d: %w", n, ErrCorrupt)
			}
			if n > len(dst)-op {
				return ip, fmt.Errorf("literal run past declared length %d: %w", len(dst), ErrCorrupt)
			}
			copy(dst[op:], src[ip:ip+n])
			ip += n
			op += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if ip >= len(src) {
				return ip, fmt.Errorf("back-reference length: %w", ErrCorrupt)
			}
			n += int(src[ip])
			ip++
		}
		if ip >= len(src) {
			return ip, fmt.Errorf("back-reference offset: %w", ErrCorrupt)
		}
		ref := op - (ctrl&0x1f)<<8 - int(src[ip]) - 1
		ip++
		n += 2
		if ref < 0 {
			return ip, fmt.Errorf("back-reference before chunk start: %w", ErrCorrupt)
		}
		if n > len(dst)-op {
			return ip, fmt.Errorf("back-reference past declared length %d: %w", len(dst), ErrCorrupt)
		}
		// Byte by byte: the source may overlap what is being written (run-length copies).
		for i := 0; i < n; i++ {
			dst[op+i] = dst[ref+i]
		}
		op += n
	}
	if op != len(dst) {
		return ip, fmt.Errorf("decoded %d of %d bytes: %w", op, len(dst), ErrCorrupt)
	}
	return ip, nil
}
