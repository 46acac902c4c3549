package envelope

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// maxZstdWindow bounds the history buffer a frame may ask for. zstd-jni at Spark's levels
// uses windows of 512 KiB (level 1) to 8 MiB (level 19); 128 MiB is what --ultra level 22
// can ask for, and is still bounded memory.
const maxZstdWindow = 128 << 20

// openZstd decodes concatenated Zstandard frames (zstd-jni writes ordinary RFC 8878 frames,
// with no content size and no checksum). It streams into a buffer capped at capacity rather
// than using DecodeAll, because the decoder clamps the window size to its memory cap, and a
// small record written at a high level has a window far larger than its ratio cap.
func openZstd(data []byte, capacity, maxSize int64) ([]byte, error) {
	window := min(uint64(maxSize), maxZstdWindow)
	window = max(window, zstd.MinWindowSize)
	dec, err := zstd.NewReader(bytes.NewReader(data),
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(uint64(max(maxSize, int64(window)))),
		zstd.WithDecoderMaxWindow(window))
	if err != nil {
		return nil, formatErr(0, "", "", "zstd decoder: %w", err)
	}
	defer dec.Close()
	out := make([]byte, 0, min(int64(len(data))*4, capacity)+1)
	for {
		if len(out) == cap(out) {
			if int64(len(out)) > capacity {
				return nil, formatErr(0, fmt.Sprintf("at most %d bytes", capacity), "more", "zstd: %w", ErrLimit)
			}
			// Grow by doubling but never past capacity+1: one byte past the cap is how
			// a bomb is told from a record of exactly the cap.
			out = append(out, 0)[:len(out)]
			if int64(cap(out)) > capacity+1 {
				out = out[: len(out) : capacity+1]
			}
		}
		n, err := dec.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, zstdError(err, len(data))
		}
	}
	if int64(len(out)) > capacity {
		return nil, formatErr(0, fmt.Sprintf("at most %d bytes", capacity), "more", "zstd: %w", ErrLimit)
	}
	return out, nil
}

func zstdError(err error, n int) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return formatErr(n, "", "", "zstd frame: %w", ErrTruncated)
	case errors.Is(err, zstd.ErrCRCMismatch):
		return formatErr(0, "", "", "zstd frame: %w", ErrChecksum)
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded),
		errors.Is(err, zstd.ErrFrameSizeExceeded):
		return formatErr(0, "", "", "zstd frame: %w (%v)", ErrLimit, err)
	}
	return formatErr(0, "", "", "zstd frame: %w (%v)", ErrCorrupt, err)
}
