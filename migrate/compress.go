package migrate

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compressors write the framings Spark's CompressionCodec input streams read
// (see spark-recovery-format.md, section 5). Their output need not match
// the JVM's byte for byte: plans compare payloads, not framings.

// codecBlockSize is Spark's default block size for lz4 and snappy (32 KiB).
const codecBlockSize = 32 << 10

func compress(codec string, payload []byte) ([]byte, error) {
	switch codec {
	case "lz4":
		return compressLZ4(payload)
	case "lzf":
		return compressLZF(payload), nil
	case "snappy":
		return xerial.Encode(nil, payload), nil
	case "zstd":
		return compressZstd(payload)
	}
	return nil, fmt.Errorf("compress: unknown codec %q", codec)
}

// lz4-java LZ4BlockOutputStream: blocks of "LZ4Block", token, compressed
// and original length and checksum (little-endian), then an empty block.
const (
	lz4MethodRaw  = 0x10
	lz4MethodLZ4  = 0x20
	lz4Level      = 5 // ceil(log2(32 KiB)) - 10
	lz4HeaderSize = 21
	lz4Seed       = 0x9747b28c
)

func compressLZ4(payload []byte) ([]byte, error) {
	var c lz4.Compressor
	out := make([]byte, 0, len(payload)+lz4HeaderSize*(2+len(payload)/codecBlockSize))
	buf := make([]byte, lz4.CompressBlockBound(codecBlockSize))
	for p := payload; len(p) > 0; {
		block := p[:min(len(p), codecBlockSize)]
		p = p[len(block):]
		n, err := c.CompressBlock(block, buf)
		if err != nil {
			return nil, fmt.Errorf("compress lz4: %w", err)
		}
		method, data := byte(lz4MethodLZ4), buf[:n]
		if n == 0 || n >= len(block) {
			method, data = lz4MethodRaw, block
		}
		out = appendLZ4Header(out, method, len(data), len(block), xxh32(block, lz4Seed)&0x0FFFFFFF)
		out = append(out, data...)
	}
	return appendLZ4Header(out, lz4MethodRaw, 0, 0, 0), nil
}

func appendLZ4Header(out []byte, method byte, compressed, original int, checksum uint32) []byte {
	out = append(out, "LZ4Block"...)
	out = append(out, method|lz4Level)
	out = binary.LittleEndian.AppendUint32(out, uint32(compressed))
	out = binary.LittleEndian.AppendUint32(out, uint32(original))
	return binary.LittleEndian.AppendUint32(out, checksum)
}

// compressLZF writes stored chunks ('Z' 'V' 0x00, big-endian length):
// valid LZF that every reader accepts; records are small, so not
// compressing costs little. An empty payload is an empty stream, as
// compress-lzf writes it.
func compressLZF(payload []byte) []byte {
	const maxChunk = 0xFFFF
	out := make([]byte, 0, len(payload)+5*(1+len(payload)/maxChunk))
	for p := payload; len(p) > 0; {
		chunk := p[:min(len(p), maxChunk)]
		p = p[len(chunk):]
		out = append(out, 'Z', 'V', 0)
		out = binary.BigEndian.AppendUint16(out, uint16(len(chunk)))
		out = append(out, chunk...)
	}
	return out
}

func compressZstd(payload []byte) ([]byte, error) {
	// Level 1 (fastest) is Spark's default spark.io.compression.zstd.level;
	// one frame with the content size, as zstd-jni writes at close.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("compress zstd: %w", err)
	}
	defer enc.Close()
	return enc.EncodeAll(payload, nil), nil
}

// xxh32 is XXHash32 for lz4-java's block checksum. codec/envelope has its
// own unexported copy; no importable one is in the module graph.
const (
	xxPrime1 uint32 = 2654435761
	xxPrime2 uint32 = 2246822519
	xxPrime3 uint32 = 3266489917
	xxPrime4 uint32 = 668265263
	xxPrime5 uint32 = 374761393
)

func xxRound(acc, lane uint32) uint32 {
	return bits.RotateLeft32(acc+lane*xxPrime2, 13) * xxPrime1
}

func xxh32(b []byte, seed uint32) uint32 {
	n := len(b)
	var h uint32
	if n >= 16 {
		v1 := seed + xxPrime1 + xxPrime2
		v2 := seed + xxPrime2
		v3 := seed
		v4 := seed - xxPrime1
		for len(b) >= 16 {
			v1 = xxRound(v1, binary.LittleEndian.Uint32(b[0:]))
			v2 = xxRound(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = xxRound(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = xxRound(v4, binary.LittleEndian.Uint32(b[12:]))
			b = b[16:]
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = seed + xxPrime5
	}
	h += uint32(n)
	for ; len(b) >= 4; b = b[4:] {
		h += binary.LittleEndian.Uint32(b) * xxPrime3
		h = bits.RotateLeft32(h, 17) * xxPrime4
	}
	for _, c := range b {
		h += uint32(c) * xxPrime5
		h = bits.RotateLeft32(h, 11) * xxPrime1
	}
	h ^= h >> 15
	h *= xxPrime2
	h ^= h >> 13
	h *= xxPrime3
	h ^= h >> 16
	return h
}
