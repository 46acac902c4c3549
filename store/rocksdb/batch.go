package rocksdb

import (
	"encoding/binary"
	"fmt"
)

// Value types shared by write batches and SST internal keys (RocksDB's
// ValueType).
const (
	typeDeletion            = 0x0
	typeValue               = 0x1
	typeMerge               = 0x2
	typeLogData             = 0x3
	typeCFDeletion          = 0x4
	typeCFValue             = 0x5
	typeCFMerge             = 0x6
	typeSingleDeletion      = 0x7
	typeCFSingleDeletion    = 0x8
	typeBeginPrepare        = 0x9
	typeEndPrepare          = 0xA
	typeCommit              = 0xB
	typeRollback            = 0xC
	typeNoop                = 0xD
	typeCFRangeDeletion     = 0xE
	typeRangeDeletion       = 0xF
	typeCFBlobIndex         = 0x10
	typeBlobIndex           = 0x11
	typeBeginPersistPrepare = 0x12
	typeBeginUnprepare      = 0x13
	typeDeletionWithTS      = 0x14
	typeCommitWithTS        = 0x15
	typeWideColumnEntity    = 0x16
	typeCFWideColumnEntity  = 0x17
	typeValuePreferredSeqno = 0x18
	typeCFValuePrefSeqno    = 0x19

	batchHeaderSize = 12
)

// op is one counted operation of a write batch, with its own sequence number.
type op struct {
	kind  byte // typeValue, typeDeletion, typeSingleDeletion or typeRangeDeletion
	cf    uint32
	key   []byte
	value []byte // the value, or the end key of a range deletion
	seq   uint64
}

// parseBatch decodes a whole write batch (a WAL logical record) before
// returning any of it, so that a damaged batch is applied not at all, as
// RocksDB's recovery does. off is the record's offset in the log file.
func parseBatch(file string, off int64, data []byte) (first uint64, ops []op, err error) {
	c := &cursor{file: file, base: off, b: data}
	if len(data) < batchHeaderSize {
		return 0, nil, c.errf("a write batch header of 12 bytes", fmt.Sprintf("%d bytes", len(data)), ErrTruncated)
	}
	first = binary.LittleEndian.Uint64(data)
	count := binary.LittleEndian.Uint32(data[8:])
	c.pos = batchHeaderSize
	// Every counted op takes at least 2 bytes, which bounds the allocation.
	if uint64(count) > uint64(len(data)) {
		return 0, nil, c.errf(fmt.Sprintf("at most %d ops in %d bytes", len(data)/2, len(data)), fmt.Sprintf("count %d", count), nil)
	}
	ops = make([]op, 0, count)
	seq := first
	for c.left() > 0 {
		start := c.pos
		tag := c.b[c.pos]
		c.pos++
		var o op
		cfTag := false
		switch tag {
		case typeCFValue, typeCFDeletion, typeCFSingleDeletion, typeCFRangeDeletion, typeCFMerge, typeCFBlobIndex, typeCFWideColumnEntity, typeCFValuePrefSeqno:
			cfTag = true
		}
		if cfTag {
			if o.cf, err = c.uvarint32("column family id"); err != nil {
				return 0, nil, err
			}
		}
		switch tag {
		case typeValue, typeCFValue:
			o.kind = typeValue
			if o.key, err = c.slice("key"); err != nil {
				return 0, nil, err
			}
			if o.value, err = c.slice("value"); err != nil {
				return 0, nil, err
			}
		case typeDeletion, typeCFDeletion, typeSingleDeletion, typeCFSingleDeletion:
			o.kind = typeDeletion
			if tag == typeSingleDeletion || tag == typeCFSingleDeletion {
				o.kind = typeSingleDeletion
			}
			if o.key, err = c.slice("key"); err != nil {
				return 0, nil, err
			}
		case typeRangeDeletion, typeCFRangeDeletion:
			o.kind = typeRangeDeletion
			if o.key, err = c.slice("range deletion begin key"); err != nil {
				return 0, nil, err
			}
			if o.value, err = c.slice("range deletion end key"); err != nil {
				return 0, nil, err
			}
		case typeLogData:
			if _, err = c.slice("log data"); err != nil {
				return 0, nil, err
			}
			continue
		case typeNoop:
			continue
		case typeMerge, typeCFMerge:
			c.pos = start
			return 0, nil, c.errf("a put or delete", "a merge operand (Spark configures no merge operator)", ErrUnsupported)
		case typeBlobIndex, typeCFBlobIndex:
			c.pos = start
			return 0, nil, c.errf("a value stored in place", "a blob index (BlobDB)", ErrUnsupported)
		case typeWideColumnEntity, typeCFWideColumnEntity, typeValuePreferredSeqno, typeCFValuePrefSeqno:
			c.pos = start
			return 0, nil, c.errf("a plain value", fmt.Sprintf("value type 0x%x (wide columns or TimedPut)", tag), ErrUnsupported)
		case typeBeginPrepare, typeEndPrepare, typeCommit, typeRollback, typeBeginPersistPrepare, typeBeginUnprepare, typeCommitWithTS:
			c.pos = start
			return 0, nil, c.errf("a plain write batch", fmt.Sprintf("transaction marker 0x%x", tag), ErrUnsupported)
		default:
			c.pos = start
			return 0, nil, c.errf("a write batch tag", fmt.Sprintf("0x%x", tag), nil)
		}
		if uint32(len(ops)) == count {
			c.pos = start
			return 0, nil, c.errf(fmt.Sprintf("%d ops as the header says", count), "more", nil)
		}
		o.seq = seq
		seq++
		ops = append(ops, o)
	}
	if uint32(len(ops)) != count {
		return 0, nil, c.errf(fmt.Sprintf("%d ops as the header says", count), fmt.Sprintf("%d", len(ops)), ErrTruncated)
	}
	return first, ops, nil
}
