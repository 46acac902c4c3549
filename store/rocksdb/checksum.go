package rocksdb

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"

	"github.com/cespare/xxhash/v2"
	"github.com/zeebo/xxh3"
)

// Checksum types of the block-based table (RocksDB's ChecksumType).
const (
	checksumNone     = 0
	checksumCRC32C   = 1
	checksumXXHash   = 2
	checksumXXHash64 = 3
	checksumXXH3     = 4
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maskCRC is RocksDB's crc32c::Mask: stored CRCs are rotated and offset so
// that a CRC of data holding CRCs does not degenerate.
func maskCRC(c uint32) uint32 { return ((c >> 15) | (c << 17)) + 0xa282ead8 }

func checksumName(t byte) string {
	switch t {
	case checksumNone:
		return "none"
	case checksumCRC32C:
		return "CRC32C"
	case checksumXXHash:
		return "xxHash"
	case checksumXXHash64:
		return "xxHash64"
	case checksumXXH3:
		return "XXH3"
	}
	return "unknown"
}

// blockChecksum is ComputeBuiltinChecksumWithLastByte: the checksum of data
// followed by one more byte (the block's compression type), computed without
// copying data.
func blockChecksum(t byte, data []byte, last byte) uint32 {
	switch t {
	case checksumCRC32C:
		c := crc32.Update(0, crcTable, data)
		c = crc32.Update(c, crcTable, []byte{last})
		return maskCRC(c)
	case checksumXXHash:
		return xxh32(data, last, true)
	case checksumXXHash64:
		d := xxhash.New()
		_, _ = d.Write(data)
		_, _ = d.Write([]byte{last})
		return uint32(d.Sum64())
	case checksumXXH3:
		// RocksDB hashes the data alone and mixes the last byte in afterwards,
		// to avoid XXH3's streaming state.
		return uint32(xxh3.Hash(data)) ^ uint32(last)*0x6b9083d9
	}
	return 0
}

// wholeChecksum is ComputeBuiltinChecksum over data (used for the v6 footer).
func wholeChecksum(t byte, data []byte) uint32 {
	switch t {
	case checksumCRC32C:
		return maskCRC(crc32.Checksum(data, crcTable))
	case checksumXXHash:
		return xxh32(data, 0, false)
	case checksumXXHash64:
		return uint32(xxhash.Sum64(data))
	case checksumXXH3:
		if len(data) == 0 {
			return 0
		}
		return blockChecksum(t, data[:len(data)-1], data[len(data)-1])
	}
	return 0
}

// contextModifier is ChecksumModifierForContext (format_version 6): the
// checksum of a block also depends on its offset, so a block copied to the
// wrong place fails.
func contextModifier(base uint32, offset uint64) uint32 {
	if base == 0 {
		return 0
	}
	return base ^ (uint32(offset) + uint32(offset>>32))
}

const (
	p32_1 = 2654435761
	p32_2 = 2246822519
	p32_3 = 3266489917
	p32_4 = 668265263
	p32_5 = 374761393
)

// xxh32 is XXH32 with seed 0 over data plus, when withLast, one more byte.
// No maintained Go module for XXH32 is already a dependency, and it is short.
func xxh32(data []byte, last byte, withLast bool) uint32 {
	total := len(data)
	if withLast {
		total++
	}
	round := func(v, w uint32) uint32 { return bits.RotateLeft32(v+w*p32_2, 13) * p32_1 }
	var tail [16]byte
	t := 0
	fillTail := func(from int) {
		t = copy(tail[:], data[from:])
		if withLast {
			tail[t] = last
			t++
		}
	}
	var h uint32
	if total >= 16 {
		v1 := uint32(0x24234428) // p32_1 + p32_2 mod 2^32
		v2 := uint32(p32_2)
		v3 := uint32(0)
		v4 := uint32(0x61c8864f) // -p32_1 mod 2^32
		stripe := func(b []byte) {
			v1 = round(v1, binary.LittleEndian.Uint32(b))
			v2 = round(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = round(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = round(v4, binary.LittleEndian.Uint32(b[12:]))
		}
		p := 0
		for ; p+16 <= len(data); p += 16 {
			stripe(data[p:])
		}
		fillTail(p)
		if t == 16 { // the extra byte completed a stripe
			stripe(tail[:])
			t = 0
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		fillTail(0)
		h = p32_5
	}
	h += uint32(total)
	q := 0
	for ; q+4 <= t; q += 4 {
		h += binary.LittleEndian.Uint32(tail[q:]) * p32_3
		h = bits.RotateLeft32(h, 17) * p32_4
	}
	for ; q < t; q++ {
		h += uint32(tail[q]) * p32_5
		h = bits.RotateLeft32(h, 11) * p32_1
	}
	h ^= h >> 15
	h *= p32_2
	h ^= h >> 13
	h *= p32_3
	h ^= h >> 16
	return h
}
