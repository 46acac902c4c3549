package rocksdb

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// The log format shared by write-ahead logs and MANIFEST files: 32 KiB
// blocks of physical records, each with a CRC32C, a length and a type; a
// logical record too long for what is left of a block is split into
// FIRST/MIDDLE/LAST fragments.
const (
	logBlockSize        = 32768
	legacyHeaderSize    = 7
	recyclableHeaderLen = 11

	recZero             = 0
	recFull             = 1
	recFirst            = 2
	recMiddle           = 3
	recLast             = 4
	recRecyclableFull   = 5
	recRecyclableFirst  = 6
	recRecyclableMiddle = 7
	recRecyclableLast   = 8
	recSetCompression   = 9
	recUDTSize          = 10
	recRecyclableUDT    = 11
	// Types with this bit set may be skipped by a reader that does not know
	// them (RocksDB's kRecordTypeSafeIgnoreMask).
	recSafeIgnoreMask = 0x80
	// A logical record above this is refused: RocksDB's own write batches
	// are limited by memory, and no Spark record comes near it.
	maxLogicalRecord = 1 << 30
)

type logRecord struct {
	off  int64 // offset of its first physical record
	data []byte
}

// logResult is what a log file holds up to its first damage. problem is
// nil when the file ended cleanly; tailOnly tells that the damage is an
// incomplete last record, what a killed writer leaves.
type logResult struct {
	records  []logRecord
	problem  *FormatError
	tailOnly bool
}

// readLog splits a log file into logical records. number is the file's log
// number: a recyclable record carrying another number is left over from the
// file's previous use and ends the log, as in RocksDB.
func readLog(file string, data []byte, number uint64) logResult {
	var res logResult
	var frag []byte
	fragStart := int64(-1)
	stop := func(off int, want, got string, err error, tail bool) logResult {
		res.problem = &FormatError{File: file, Offset: int64(off), Want: want, Got: got, Err: err}
		res.tailOnly = tail
		return res
	}
	pos := 0
	for pos < len(data) {
		inBlock := logBlockSize - pos%logBlockSize
		if inBlock < legacyHeaderSize {
			pos += inBlock // the writer zero-fills a block trailer too short for a header
			continue
		}
		if len(data)-pos < legacyHeaderSize {
			if allZero(data[pos:]) {
				break
			}
			return stop(pos, "a log record header", fmt.Sprintf("%d bytes at end of file", len(data)-pos), ErrTruncated, true)
		}
		typ := data[pos+6]
		length := int(binary.LittleEndian.Uint16(data[pos+4:]))
		if typ == recZero && length == 0 {
			// Preallocated or padded space: nothing more in this block.
			if allZero(data[pos:min(len(data), pos+inBlock)]) {
				pos += inBlock
				continue
			}
		}
		hdr := legacyHeaderSize
		recyclable := false
		switch typ {
		case recRecyclableFull, recRecyclableFirst, recRecyclableMiddle, recRecyclableLast, recRecyclableUDT:
			hdr, recyclable = recyclableHeaderLen, true
		}
		if typ&recSafeIgnoreMask != 0 && typ&1 == 1 {
			// Odd safe-to-ignore types are the recyclable forms (kRecyclePredecessorWALInfoType).
			hdr, recyclable = recyclableHeaderLen, true
		}
		if hdr+length > inBlock {
			if pos+hdr+length > len(data) && pos+inBlock >= len(data) {
				return stop(pos, fmt.Sprintf("a record of %d bytes", length), fmt.Sprintf("%d bytes at end of file", len(data)-pos), ErrTruncated, true)
			}
			return stop(pos, "a record inside its 32 KiB block", fmt.Sprintf("length %d with %d bytes left in the block", length, inBlock-hdr), nil, false)
		}
		if pos+hdr+length > len(data) {
			return stop(pos, fmt.Sprintf("a record of %d bytes", length), fmt.Sprintf("%d bytes at end of file", len(data)-pos-hdr), ErrTruncated, true)
		}
		want := binary.LittleEndian.Uint32(data[pos:])
		got := maskCRC(crc32.Checksum(data[pos+6:pos+hdr+length], crcTable))
		if want != got {
			// A checksum failure in the last block of a file whose rest is
			// zeros is a write torn by the kill; anything else is damage.
			tail := pos+hdr+length >= len(data) || allZero(data[pos+hdr+length:])
			return stop(pos, fmt.Sprintf("CRC32C %08x", want), fmt.Sprintf("%08x", got), ErrChecksum, tail)
		}
		if recyclable && binary.LittleEndian.Uint32(data[pos+7:]) != uint32(number) {
			break // the rest is from the file's previous life
		}
		payload := data[pos+hdr : pos+hdr+length]
		start := pos
		pos += hdr + length
		switch typ {
		case recFull, recRecyclableFull:
			if fragStart >= 0 {
				return stop(int(fragStart), "a LAST fragment", "a FULL record", nil, false)
			}
			res.records = append(res.records, logRecord{off: int64(start), data: payload})
		case recFirst, recRecyclableFirst:
			if fragStart >= 0 {
				return stop(int(fragStart), "a LAST fragment", "a FIRST record", nil, false)
			}
			frag = append([]byte(nil), payload...)
			fragStart = int64(start)
		case recMiddle, recRecyclableMiddle, recLast, recRecyclableLast:
			if fragStart < 0 {
				return stop(start, "a FULL or FIRST record", fmt.Sprintf("fragment type %d", typ), nil, false)
			}
			if len(frag)+len(payload) > maxLogicalRecord {
				return stop(int(fragStart), "a logical record of at most 1 GiB", "more", ErrLimit, false)
			}
			frag = append(frag, payload...)
			if typ == recLast || typ == recRecyclableLast {
				res.records = append(res.records, logRecord{off: fragStart, data: frag})
				frag, fragStart = nil, -1
			}
		case recSetCompression:
			return stop(start, "uncompressed log records", "a WAL compression record (wal_compression)", ErrUnsupported, false)
		case recUDTSize, recRecyclableUDT:
			// Pairs of column family id and timestamp size: a family whose
			// keys carry timestamps would be misread, so it stops the log.
			if len(payload)%6 != 0 {
				return stop(start, "timestamp sizes in 6-byte pairs", fmt.Sprintf("%d bytes", len(payload)), nil, false)
			}
			for i := 0; i < len(payload); i += 6 {
				if sz := binary.LittleEndian.Uint16(payload[i+4:]); sz != 0 {
					return stop(start, "keys without user-defined timestamps", fmt.Sprintf("column family %d with %d-byte timestamps", binary.LittleEndian.Uint32(payload[i:]), sz), ErrUnsupported, false)
				}
			}
		default:
			if typ&recSafeIgnoreMask == 0 {
				return stop(start, "a log record type", fmt.Sprintf("type %d", typ), ErrUnsupported, false)
			}
		}
	}
	if fragStart >= 0 {
		return stop(int(fragStart), "the LAST fragment of a record", "end of file", ErrTruncated, true)
	}
	return res
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
