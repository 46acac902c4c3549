package rocksdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Block-based table constants (RocksDB's table/format.h).
const (
	legacyTableMagic      = 0xdb4775248b80fb57
	tableMagic            = 0x88e241b785f4cff7
	plainTableMagic       = 0x8242229663bf9564
	legacyPlainTableMagic = 0x4f3418eb7a8f13b8
	cuckooTableMagic      = 0x926789d0c5f17873

	legacyFooterLen = 48
	footerLen       = 53
	blockTrailerLen = 5
	maxFormatVer    = 6

	compNone      = 0
	compSnappy    = 1
	compZlib      = 2
	compBZip2     = 3
	compLZ4       = 4
	compLZ4HC     = 5
	compXpress    = 6
	compZSTD      = 7
	compZSTDNotFn = 0x40

	// One block never holds more than this once decompressed; RocksDB's
	// blocks are block_size (4 KiB for Spark) or one oversized entry.
	maxBlockSize = 64 << 20

	indexBinarySearch      = 0
	indexHashSearch        = 1
	indexTwoLevel          = 2
	indexBinaryAndFirstKey = 3
)

var extendedMagic = []byte{0x3e, 0x00, 0x7a, 0x00}

type blockHandle struct{ off, size uint64 }

// TableInfo is what the footer and properties of one SST say.
type TableInfo struct {
	FormatVersion uint32
	Checksum      string
	Compression   []string // block compressions seen, in order of first use
	DataBlocks    int
	Entries       int
}

type table struct {
	file        string
	data        []byte
	footerOff   uint64
	checksum    byte
	version     uint32
	baseContext uint32
	info        TableInfo
	metaHandle  blockHandle
	indexHandle blockHandle
}

// internalEntry is one key of an SST: user key, sequence and value type.
type internalEntry struct {
	key   []byte
	seq   uint64
	kind  byte
	value []byte
}

// readTable decodes one SST. err means nothing of it could be read (footer,
// meta index or index damaged); problems are data blocks that failed and
// were skipped while the rest were read.
func readTable(file string, data []byte, fn func(internalEntry)) (info TableInfo, problems []error, err error) {
	t := &table{file: file, data: data}
	if err := t.footer(); err != nil {
		return t.info, nil, err
	}
	meta, err := t.block(t.metaHandle, "meta index block")
	if err != nil {
		return t.info, nil, err
	}
	metaEntries, err := t.entries(meta, t.metaHandle.off, "meta index block")
	if err != nil {
		return t.info, nil, err
	}
	props := map[string][]byte{}
	var rangeDel *blockHandle
	indexHandle := t.indexHandle
	haveIndex := t.version < 6
	for _, e := range metaEntries {
		h, _, herr := decodeHandle(&cursor{file: file, base: int64(t.metaHandle.off), b: e.value}, "meta block handle")
		if herr != nil {
			return t.info, nil, herr
		}
		switch string(e.key) {
		case "rocksdb.properties":
			pb, err := t.block(h, "properties block")
			if err != nil {
				return t.info, nil, err
			}
			pe, err := t.entries(pb, h.off, "properties block")
			if err != nil {
				return t.info, nil, err
			}
			for _, p := range pe {
				props[string(p.key)] = p.value
			}
		case "rocksdb.range_del":
			hh := h
			rangeDel = &hh
		case "rocksdb.index":
			indexHandle, haveIndex = h, true
		}
	}
	if !haveIndex {
		return t.info, nil, &FormatError{File: file, Offset: int64(t.metaHandle.off), Want: "a rocksdb.index entry in the meta index block", Got: "none"}
	}
	indexType := uint32(indexBinarySearch)
	if v, ok := props["rocksdb.block.based.table.index.type"]; ok && len(v) == 4 {
		indexType = binary.LittleEndian.Uint32(v)
	}
	deltaValues := propUint(props, "rocksdb.index.value.is.delta.encoded") != 0
	if indexType > indexBinaryAndFirstKey {
		return t.info, nil, &FormatError{File: file, Offset: int64(indexHandle.off), Want: "a known index type", Got: fmt.Sprintf("index type %d", indexType), Err: ErrUnsupported}
	}
	if g := propUint(props, "rocksdb.external_sst_file.global_seqno"); g != 0 {
		return t.info, nil, &FormatError{File: file, Offset: int64(t.metaHandle.off), Want: "sequence numbers in the keys", Got: "an ingested file with a global sequence number", Err: ErrUnsupported}
	}
	ib, err := t.block(indexHandle, "index block")
	if err != nil {
		return t.info, nil, err
	}
	handles, err := t.indexHandles(ib, indexHandle.off, deltaValues, indexType == indexBinaryAndFirstKey)
	if err != nil {
		return t.info, nil, err
	}
	if indexType == indexTwoLevel {
		// A partitioned index: the top level points at index partitions,
		// encoded as the top level is, and they at the data blocks.
		var data []blockHandle
		for _, ph := range handles {
			pb, err := t.block(ph, "index partition")
			if err != nil {
				return t.info, nil, err
			}
			hs, err := t.indexHandles(pb, ph.off, deltaValues, false)
			if err != nil {
				return t.info, nil, err
			}
			if len(data)+len(hs) > len(t.data) {
				return t.info, nil, &FormatError{File: file, Offset: int64(ph.off), Want: "fewer data blocks than bytes in the file", Got: "more", Err: ErrLimit}
			}
			data = append(data, hs...)
		}
		handles = data
	}
	t.info.DataBlocks = len(handles)
	emit := func(blk []byte, h blockHandle, what string) error {
		es, err := t.entries(blk, h.off, what)
		if err != nil {
			return err
		}
		for _, e := range es {
			if len(e.key) < 8 {
				return &FormatError{File: file, Offset: int64(h.off), Want: "an internal key of at least 8 bytes", Got: fmt.Sprintf("%d bytes", len(e.key))}
			}
			trailer := binary.LittleEndian.Uint64(e.key[len(e.key)-8:])
			fn(internalEntry{key: e.key[:len(e.key)-8], seq: trailer >> 8, kind: byte(trailer), value: e.value})
			t.info.Entries++
		}
		return nil
	}
	for _, h := range handles {
		blk, err := t.block(h, "data block")
		if err == nil {
			err = emit(blk, h, "data block")
		}
		if err != nil {
			problems = append(problems, err)
		}
	}
	if rangeDel != nil {
		blk, err := t.block(*rangeDel, "range deletion block")
		if err == nil {
			err = emit(blk, *rangeDel, "range deletion block")
		}
		if err != nil {
			// Without its range tombstones the file would show deleted keys.
			return t.info, problems, err
		}
	}
	return t.info, problems, nil
}

func propUint(props map[string][]byte, name string) uint64 {
	v, ok := props[name]
	if !ok {
		return 0
	}
	u, n := binary.Uvarint(v)
	if n <= 0 {
		return 0
	}
	return u
}

func decodeHandle(c *cursor, what string) (blockHandle, int, error) {
	start := c.pos
	off, err := c.uvarint(what + " offset")
	if err != nil {
		return blockHandle{}, 0, err
	}
	size, err := c.uvarint(what + " size")
	if err != nil {
		return blockHandle{}, 0, err
	}
	return blockHandle{off, size}, c.pos - start, nil
}

func (t *table) footer() error {
	n := uint64(len(t.data))
	if n < legacyFooterLen {
		return &FormatError{File: t.file, Offset: 0, Want: "an SST footer of at least 48 bytes", Got: fmt.Sprintf("a file of %d bytes", n), Err: ErrTruncated}
	}
	magic := binary.LittleEndian.Uint64(t.data[n-8:])
	switch magic {
	case legacyTableMagic:
		t.footerOff = n - legacyFooterLen
		t.checksum = checksumCRC32C
		c := &cursor{file: t.file, base: int64(t.footerOff), b: t.data[t.footerOff : n-8]}
		return t.footerHandles(c)
	case tableMagic:
	case plainTableMagic, legacyPlainTableMagic:
		return &FormatError{File: t.file, Offset: int64(n - 8), Want: "a block-based table", Got: "a plain table", Err: ErrUnsupported}
	case cuckooTableMagic:
		return &FormatError{File: t.file, Offset: int64(n - 8), Want: "a block-based table", Got: "a cuckoo table", Err: ErrUnsupported}
	default:
		return &FormatError{File: t.file, Offset: int64(n - 8), Want: fmt.Sprintf("table magic %016x", uint64(tableMagic)), Got: fmt.Sprintf("%016x", magic)}
	}
	if n < footerLen {
		return &FormatError{File: t.file, Offset: 0, Want: "an SST footer of 53 bytes", Got: fmt.Sprintf("a file of %d bytes", n), Err: ErrTruncated}
	}
	t.footerOff = n - footerLen
	f := t.data[t.footerOff:]
	t.checksum = f[0]
	t.version = binary.LittleEndian.Uint32(f[41:])
	t.info.FormatVersion = t.version
	t.info.Checksum = checksumName(t.checksum)
	if t.version > maxFormatVer {
		return &FormatError{File: t.file, Offset: int64(t.footerOff + 41), Want: fmt.Sprintf("format_version at most %d", maxFormatVer), Got: fmt.Sprint(t.version), Err: ErrUnsupported}
	}
	if t.checksum > checksumXXH3 {
		return &FormatError{File: t.file, Offset: int64(t.footerOff), Want: "checksum type 0 to 4", Got: fmt.Sprint(t.checksum), Err: ErrUnsupported}
	}
	if t.version < 6 {
		return t.footerHandles(&cursor{file: t.file, base: int64(t.footerOff + 1), b: f[1:41]})
	}
	if !bytes.Equal(f[1:5], extendedMagic) {
		return &FormatError{File: t.file, Offset: int64(t.footerOff + 1), Want: "the format_version 6 footer magic 3e007a00", Got: fmt.Sprintf("%x", f[1:5])}
	}
	stored := binary.LittleEndian.Uint32(f[5:])
	t.baseContext = binary.LittleEndian.Uint32(f[9:])
	metaSize := uint64(binary.LittleEndian.Uint32(f[13:]))
	if t.checksum != checksumNone {
		var cp [footerLen]byte
		copy(cp[:], f)
		binary.LittleEndian.PutUint32(cp[5:], 0)
		got := wholeChecksum(t.checksum, cp[:]) + contextModifier(t.baseContext, t.footerOff)
		if got != stored {
			return &FormatError{File: t.file, Offset: int64(t.footerOff), Want: fmt.Sprintf("footer %s %08x", checksumName(t.checksum), stored), Got: fmt.Sprintf("%08x", got), Err: ErrChecksum}
		}
	}
	if metaSize+blockTrailerLen > t.footerOff {
		return &FormatError{File: t.file, Offset: int64(t.footerOff + 13), Want: "a meta index block inside the file", Got: fmt.Sprintf("size %d", metaSize), Err: ErrTruncated}
	}
	t.metaHandle = blockHandle{t.footerOff - metaSize - blockTrailerLen, metaSize}
	return nil
}

func (t *table) footerHandles(c *cursor) error {
	var err error
	if t.metaHandle, _, err = decodeHandle(c, "meta index handle"); err != nil {
		return err
	}
	if t.indexHandle, _, err = decodeHandle(c, "index handle"); err != nil {
		return err
	}
	return nil
}

// block reads, checks and decompresses the block at h. The result may
// alias the file's bytes.
func (t *table) block(h blockHandle, what string) ([]byte, error) {
	if h.size > maxBlockSize {
		return nil, &FormatError{File: t.file, Offset: int64(h.off), Want: fmt.Sprintf("a %s of at most %d bytes", what, maxBlockSize), Got: fmt.Sprint(h.size), Err: ErrLimit}
	}
	if h.off > t.footerOff || h.size+blockTrailerLen > t.footerOff-h.off {
		return nil, &FormatError{File: t.file, Offset: int64(h.off), Want: fmt.Sprintf("a %s before the footer at %d", what, t.footerOff), Got: fmt.Sprintf("%d bytes at %d", h.size, h.off), Err: ErrTruncated}
	}
	raw := t.data[h.off : h.off+h.size]
	comp := t.data[h.off+h.size]
	if t.checksum != checksumNone {
		stored := binary.LittleEndian.Uint32(t.data[h.off+h.size+1:])
		got := blockChecksum(t.checksum, raw, comp) + contextModifier(t.baseContext, h.off)
		if got != stored {
			return nil, &FormatError{File: t.file, Offset: int64(h.off), Want: fmt.Sprintf("%s %s %08x", what, checksumName(t.checksum), stored), Got: fmt.Sprintf("%08x", got), Err: ErrChecksum}
		}
	}
	t.noteCompression(comp)
	out, err := decompress(comp, raw, t.version)
	if err != nil {
		return nil, &FormatError{File: t.file, Offset: int64(h.off), Want: "a " + what + " that decompresses", Got: err.Error(), Err: unwrapSentinel(err)}
	}
	return out, nil
}

func (t *table) noteCompression(c byte) {
	n := compressionName(c)
	for _, s := range t.info.Compression {
		if s == n {
			return
		}
	}
	t.info.Compression = append(t.info.Compression, n)
}

func compressionName(c byte) string {
	switch c {
	case compNone:
		return "none"
	case compSnappy:
		return "snappy"
	case compZlib:
		return "zlib"
	case compBZip2:
		return "bzip2"
	case compLZ4:
		return "LZ4"
	case compLZ4HC:
		return "LZ4HC"
	case compXpress:
		return "xpress"
	case compZSTD, compZSTDNotFn:
		return "ZSTD"
	}
	return fmt.Sprintf("compression 0x%x", c)
}

type sentinelErr struct {
	msg string
	err error
}

func (e *sentinelErr) Error() string { return e.msg }
func (e *sentinelErr) Unwrap() error { return e.err }

func unwrapSentinel(err error) error {
	if s, ok := err.(*sentinelErr); ok {
		return s.err
	}
	return nil
}

var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBlockSize), zstd.WithDecoderMaxWindow(maxBlockSize))
})

func decompress(comp byte, raw []byte, version uint32) ([]byte, error) {
	switch comp {
	case compNone:
		return raw, nil
	case compSnappy:
		n, err := snappy.DecodedLen(raw)
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		if n > maxBlockSize {
			return nil, &sentinelErr{fmt.Sprintf("snappy block of %d bytes", n), ErrLimit}
		}
		out, err := snappy.Decode(make([]byte, n), raw)
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		return out, nil
	case compLZ4, compLZ4HC, compZSTD, compZSTDNotFn:
	default:
		return nil, &sentinelErr{compressionName(comp) + " blocks", ErrUnsupported}
	}
	if version < 2 {
		return nil, &sentinelErr{fmt.Sprintf("%s blocks of format_version %d", compressionName(comp), version), ErrUnsupported}
	}
	// format_version 2 and later put the decompressed size first.
	size, n := binary.Uvarint(raw)
	if n <= 0 || size > 0xFFFFFFFF {
		return nil, &sentinelErr{"a decompressed size varint", ErrTruncated}
	}
	if size > maxBlockSize {
		return nil, &sentinelErr{fmt.Sprintf("a block of %d bytes decompressed", size), ErrLimit}
	}
	src := raw[n:]
	if comp == compLZ4 || comp == compLZ4HC {
		// LZ4 cannot expand more than 255 times; a larger claim is damage,
		// and must not cost the allocation.
		if size > 255*uint64(len(src))+16 {
			return nil, &sentinelErr{fmt.Sprintf("LZ4: %d bytes claimed from %d", size, len(src)), ErrLimit}
		}
		out := make([]byte, size)
		m, err := lz4.UncompressBlock(src, out)
		if err != nil {
			return nil, fmt.Errorf("LZ4: %w", err)
		}
		if uint64(m) != size {
			return nil, fmt.Errorf("LZ4: %d bytes, %d declared", m, size)
		}
		return out, nil
	}
	d, err := zstdDecoder()
	if err != nil {
		return nil, fmt.Errorf("ZSTD: %w", err)
	}
	out, err := d.DecodeAll(src, make([]byte, 0, min(size, 1<<20)))
	if err != nil {
		return nil, fmt.Errorf("ZSTD: %w", err)
	}
	if uint64(len(out)) != size {
		return nil, fmt.Errorf("ZSTD: %d bytes, %d declared", len(out), size)
	}
	return out, nil
}

type blockEntry struct {
	off   int // offset of the entry in the block
	key   []byte
	value []byte
}

// restarts returns where a block's entries end and its restart offsets.
func (t *table) restarts(b []byte, base uint64, what string) (int, []uint32, error) {
	c := &cursor{file: t.file, base: int64(base), b: b}
	if len(b) < 4 {
		return 0, nil, c.errf("a "+what+" of at least 4 bytes", fmt.Sprint(len(b)), ErrTruncated)
	}
	packed := binary.LittleEndian.Uint32(b[len(b)-4:])
	end := len(b) - 4
	num := packed
	if packed&(1<<31) != 0 {
		// Data block hash index: buckets and their count sit before the footer.
		num = packed &^ (1 << 31)
		if end < 2 {
			return 0, nil, c.errf("a hash index bucket count", "end of block", ErrTruncated)
		}
		buckets := int(binary.LittleEndian.Uint16(b[end-2:]))
		end -= 2 + buckets
		if end < 0 {
			return 0, nil, c.errf("hash index buckets inside the block", fmt.Sprint(buckets), ErrTruncated)
		}
	}
	if uint64(num)*4 > uint64(end) {
		c.pos = len(b) - 4
		return 0, nil, c.errf(fmt.Sprintf("%d restart points in %d bytes", num, end), "fewer bytes", ErrTruncated)
	}
	end -= int(num) * 4
	rs := make([]uint32, num)
	for i := range rs {
		rs[i] = binary.LittleEndian.Uint32(b[end+4*i:])
		if int(rs[i]) > end {
			c.pos = end + 4*i
			return 0, nil, c.errf("a restart point inside the entries", fmt.Sprint(rs[i]), nil)
		}
	}
	return end, rs, nil
}

// entries decodes every entry of a block: keys are prefix-compressed against
// the previous key, restarted at each restart point.
func (t *table) entries(b []byte, base uint64, what string) ([]blockEntry, error) {
	end, rs, err := t.restarts(b, base, what)
	if err != nil {
		return nil, err
	}
	c := &cursor{file: t.file, base: int64(base), b: b[:end]}
	var out []blockEntry
	var prev []byte
	next := 0
	for c.left() > 0 {
		start := c.pos
		for next < len(rs) && int(rs[next]) < start {
			next++
		}
		restart := next < len(rs) && int(rs[next]) == start
		shared, err := c.uvarint32("shared key length")
		if err != nil {
			return nil, err
		}
		nonShared, err := c.uvarint32("unshared key length")
		if err != nil {
			return nil, err
		}
		vlen, err := c.uvarint32("value length")
		if err != nil {
			return nil, err
		}
		if shared > uint32(len(prev)) || (restart && shared != 0) {
			c.pos = start
			return nil, c.errf(fmt.Sprintf("a shared prefix of at most %d bytes", len(prev)), fmt.Sprint(shared), nil)
		}
		delta, err := c.bytes(uint64(nonShared), "key")
		if err != nil {
			return nil, err
		}
		val, err := c.bytes(uint64(vlen), "value")
		if err != nil {
			return nil, err
		}
		key := make([]byte, int(shared)+len(delta))
		copy(key, prev[:shared])
		copy(key[shared:], delta)
		prev = key
		out = append(out, blockEntry{off: start, key: key, value: val})
	}
	return out, nil
}

// indexHandles lists the data block handles of an index block. From
// format_version 4 values are delta encoded: no value length, a full handle
// for a key that shares no prefix with the previous one, else the size
// difference to the previous block, which ends where this one starts.
func (t *table) indexHandles(b []byte, base uint64, delta, firstKey bool) ([]blockHandle, error) {
	if !delta {
		es, err := t.entries(b, base, "index block")
		if err != nil {
			return nil, err
		}
		out := make([]blockHandle, 0, len(es))
		for _, e := range es {
			h, _, err := decodeHandle(&cursor{file: t.file, base: int64(base) + int64(e.off), b: e.value}, "data block handle")
			if err != nil {
				return nil, err
			}
			out = append(out, h)
		}
		return out, nil
	}
	end, _, err := t.restarts(b, base, "index block")
	if err != nil {
		return nil, err
	}
	c := &cursor{file: t.file, base: int64(base), b: b[:end]}
	var out []blockHandle
	var prev *blockHandle
	for c.left() > 0 {
		shared, err := c.uvarint32("shared key length")
		if err != nil {
			return nil, err
		}
		nonShared, err := c.uvarint32("unshared key length")
		if err != nil {
			return nil, err
		}
		if _, err := c.bytes(uint64(nonShared), "index key"); err != nil {
			return nil, err
		}
		var h blockHandle
		// RocksDB writes the full handle exactly when the key shares nothing
		// with the previous one (restart points among them).
		if shared == 0 || prev == nil {
			if h, _, err = decodeHandle(c, "data block handle"); err != nil {
				return nil, err
			}
		} else {
			zz, err := c.uvarint("data block size delta")
			if err != nil {
				return nil, err
			}
			d := int64(zz>>1) ^ -int64(zz&1)
			h = blockHandle{off: prev.off + prev.size + blockTrailerLen, size: uint64(int64(prev.size) + d)}
		}
		if firstKey {
			if _, err := c.slice("first key"); err != nil {
				return nil, err
			}
		}
		if len(out) >= len(b) {
			return nil, c.errf("fewer index entries than bytes", "more", ErrLimit)
		}
		out = append(out, h)
		prev = &out[len(out)-1]
	}
	return out, nil
}
