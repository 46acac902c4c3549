package rocksdb

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// Writers for the log, write batch and version edit formats, to build small
// databases that hold one situation each. They follow RocksDB's writers
// (db/log_writer.cc, db/write_batch.cc, db/version_edit.cc); the readers are
// checked against RocksDB's own files in real_test.go.

type logWriter struct {
	buf        []byte
	recyclable bool
	number     uint32
}

func (w *logWriter) add(rec []byte) {
	hdr := legacyHeaderSize
	if w.recyclable {
		hdr = recyclableHeaderLen
	}
	first := true
	for {
		left := logBlockSize - len(w.buf)%logBlockSize
		if left < hdr {
			w.buf = append(w.buf, make([]byte, left)...)
			left = logBlockSize
		}
		n := min(len(rec), left-hdr)
		end := n == len(rec)
		typ := byte(recMiddle)
		switch {
		case first && end:
			typ = recFull
		case first:
			typ = recFirst
		case end:
			typ = recLast
		}
		if w.recyclable {
			typ += 4
		}
		h := make([]byte, hdr)
		binary.LittleEndian.PutUint16(h[4:], uint16(n))
		h[6] = typ
		if w.recyclable {
			binary.LittleEndian.PutUint32(h[7:], w.number)
		}
		crc := crc32.Update(0, crcTable, h[6:])
		crc = crc32.Update(crc, crcTable, rec[:n])
		binary.LittleEndian.PutUint32(h, maskCRC(crc))
		w.buf = append(w.buf, h...)
		w.buf = append(w.buf, rec[:n]...)
		rec = rec[n:]
		first = false
		if end {
			return
		}
	}
}

type tOp struct {
	tag        byte
	cf         uint32
	key, value string
}

func put(k, v string) tOp              { return tOp{tag: typeValue, key: k, value: v} }
func del(k string) tOp                 { return tOp{tag: typeDeletion, key: k} }
func sdel(k string) tOp                { return tOp{tag: typeSingleDeletion, key: k} }
func delRange(b, e string) tOp         { return tOp{tag: typeRangeDeletion, key: b, value: e} }
func cfPut(cf uint32, k, v string) tOp { return tOp{tag: typeCFValue, cf: cf, key: k, value: v} }
func cfDel(cf uint32, k string) tOp    { return tOp{tag: typeCFDeletion, cf: cf, key: k} }

func appendSlice(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func batch(seq uint64, ops ...tOp) []byte {
	b := binary.LittleEndian.AppendUint64(nil, seq)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ops)))
	for _, o := range ops {
		b = append(b, o.tag)
		switch o.tag {
		case typeCFValue, typeCFDeletion, typeCFSingleDeletion, typeCFRangeDeletion:
			b = binary.AppendUvarint(b, uint64(o.cf))
		}
		b = appendSlice(b, o.key)
		switch o.tag {
		case typeValue, typeCFValue, typeRangeDeletion, typeCFRangeDeletion:
			b = appendSlice(b, o.value)
		}
	}
	return b
}

// edit encodes one version edit from (tag, value) pairs: a uint64 value is a
// varint field, a string a length-prefixed one, nil a tag alone.
func edit(fields ...any) []byte {
	var b []byte
	for i := 0; i < len(fields); i += 2 {
		b = binary.AppendUvarint(b, uint64(fields[i].(int)))
		switch v := fields[i+1].(type) {
		case int:
			b = binary.AppendUvarint(b, uint64(v))
		case string:
			b = appendSlice(b, v)
		case nil:
		default:
			panic(fmt.Sprintf("edit field %T", v))
		}
	}
	return b
}

// testDB writes a database directory: a MANIFEST of the given edits (the
// first one names the comparator) and one log per entry of logs.
func testDB(t testing.TB, edits [][]byte, logs map[int][][]byte) string {
	t.Helper()
	dir := t.TempDir()
	var m logWriter
	m.add(edit(tagComparator, "leveldb.BytewiseComparator"))
	for _, e := range edits {
		m.add(e)
	}
	write(t, filepath.Join(dir, "MANIFEST-000002"), m.buf)
	write(t, filepath.Join(dir, "CURRENT"), []byte("MANIFEST-000002\n"))
	for n, recs := range logs {
		w := logWriter{number: uint32(n)}
		for _, r := range recs {
			w.add(r)
		}
		write(t, filepath.Join(dir, fmt.Sprintf("%06d.log", n)), w.buf)
	}
	return dir
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// raw appends one physical record of any type (it must fit in the block).
func (w *logWriter) raw(typ byte, payload []byte) {
	h := make([]byte, legacyHeaderSize)
	binary.LittleEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = typ
	crc := crc32.Update(0, crcTable, h[6:])
	crc = crc32.Update(crc, crcTable, payload)
	binary.LittleEndian.PutUint32(h, maskCRC(crc))
	w.buf = append(w.buf, h...)
	w.buf = append(w.buf, payload...)
}
