package envelope

import (
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Wrap writes payload in the framing of one of Spark's compression codecs,
// the inverse of Open, for stores whose Master reads compressed records
// (spark.deploy.recoveryCompressionCodec). The output is what Spark's
// CompressionCodec input streams read; it need not match the JVM's bytes,
// since callers compare payloads, not framings.

// codecBlockSize is Spark's default block size for lz4 and snappy (32 KiB).
const codecBlockSize = 32 << 10

func Wrap(codec string, payload []byte) ([]byte, error) {
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
	return nil, fmt.Errorf("wrap: unknown codec %q", codec)
}

// lz4-java LZ4BlockOutputStream: blocks of "LZ4Block", token, compressed
// and original length and checksum (little-endian), then an empty block.
const lz4Level = 5 // ceil(log2(32 KiB)) - 10

func compressLZ4(payload []byte) ([]byte, error) {
	var c lz4.Compressor
	out := make([]byte, 0, len(payload)+lz4HeaderLen*(2+len(payload)/codecBlockSize))
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
		out = appendLZ4Header(out, method, len(data), len(block), xxh32(block, lz4Seed)&lz4ChecksumMask)
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
