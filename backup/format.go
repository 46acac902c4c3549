// Package backup writes, verifies and restores recoverctl archives: a
// point-in-time copy of the Spark records held by one store.Store, in a
// zstd-compressed tar stream framed by a header and a footer that carries the
// SHA-256 of every byte before it (see FORMAT.md).
//
// It knows record names and bytes only; decoding records belongs to codec.
// It never prints: progress goes to a Progress callback handed in by the
// command. It does not know which store it talks to (the command hands it a
// store.Store), and it never half-writes: archives are written under a
// temporary name, verified, then linked to their final name, and a restore verifies the whole
// archive before its first write.
package backup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// FormatVersion is the archive format this package writes and reads.
const FormatVersion = 1

// Layout constants; FORMAT.md is the reference.
const (
	// Both header and footer are zstd skippable frames, so `zstd -dc`
	// decodes an archive and `tar -t` lists it.
	headerMagic   = 0x184D2A5A // skippable frame, user nibble 0xA
	footerMagic   = 0x184D2A5B // skippable frame, user nibble 0xB
	headerLen     = 16         // magic(4) size(4) "RCTL"(4) version(2) reserved(2)
	footerLen     = 56         // magic(4) size(4) "RCTLEND1"(8) length(8) sha256(32)
	headerPayload = "RCTL"
	footerPayload = "RCTLEND1"

	// manifestName cannot be a record name: record names never contain '/'.
	manifestName = ".recoverctl/manifest.json"
	// foreignPrefix names the entries of the foreign part (FORMAT.md): an
	// entry that is no Spark record, kept only because prune deleted it.
	// The '/' keeps it apart from every record, and Records, Entries and
	// so restore never see it.
	foreignPrefix = ".recoverctl/foreign/"

	// PAX keys carried by each record entry.
	paxSHA256 = "RECOVERCTL.sha256"
	paxACL    = "RECOVERCTL.acl"
)

// Limits applied while reading, before anything is allocated.
const (
	// MaxRecordSize bounds one record. Spark records are a few KB and
	// ZooKeeper refuses more than about 1 MB per znode.
	MaxRecordSize = 64 << 20
	maxManifest   = 4 << 20
	// MaxNameLen is the longest record name an archive holds: a name must
	// fit one file name (NAME_MAX) to be restored into a directory.
	MaxNameLen = 255
	// Decoder caps (zstd.WithDecoderMaxWindow / WithDecoderMaxMemory).
	maxWindow    = 8 << 20
	maxDecodeMem = 128 << 20
	// encoderWindow is what Write uses; small enough to keep memory flat,
	// large enough that similar records compress against each other.
	encoderWindow = 1 << 20
)

// Sentinel errors callers branch on. Every *DamageError matches ErrDamaged
// and, more precisely, one of ErrTruncated, ErrChecksum or ErrNotArchive.
var (
	ErrDamaged         = errors.New("archive damaged")
	ErrNotArchive      = errors.New("not a recoverctl archive")
	ErrTruncated       = errors.New("archive truncated")
	ErrChecksum        = errors.New("archive checksum mismatch")
	ErrUnsupported     = errors.New("unsupported archive format version")
	ErrReadBack        = errors.New("read-back after restore does not match archive")
	ErrArchiveExists   = errors.New("archive file already exists")
	ErrArchiveModified = errors.New("archive changed since the restore plan was made")
	// ErrBadName means an archive holds an entry whose name Spark does
	// not write (nor the format itself): verify and restore refuse it.
	// It comes wrapped in a *DamageError naming the entry and its offset.
	ErrBadName = errors.New("entry name is no Spark record name")
)

// DamageError says what is wrong with an archive and where. Record is the
// record being read when the damage was found ("" when it lies outside any
// record: header, manifest, footer). Offset is the archive byte offset at
// which the damage was detected; inside compressed data the damage lies at
// or before it (the decoder reads whole blocks).
type DamageError struct {
	Record string
	Offset int64
	What   string
	Err    error // ErrTruncated, ErrChecksum, ErrNotArchive or ErrDamaged
}

func (e *DamageError) Error() string {
	s := fmt.Sprintf("archive damaged at byte %d", e.Offset)
	if e.Err == ErrBadName {
		s = fmt.Sprintf("archive refused at byte %d", e.Offset)
	}
	if e.Record != "" {
		s += " in entry " + printableName(e.Record)
	}
	return s + ": " + e.What
}

// printableName is name as it may reach a terminal: quoted with escapes
// when it holds anything but printable characters (a crafted archive's
// entry names are attacker-chosen).
func printableName(name string) string {
	if q := strconv.Quote(name); q[1:len(q)-1] != name {
		return q
	}
	return name
}

// Unwrap returns the precise sentinel.
func (e *DamageError) Unwrap() error { return e.Err }

// Is makes every DamageError match ErrDamaged.
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

func appendHeader(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, headerMagic)
	b = binary.LittleEndian.AppendUint32(b, headerLen-8)
	b = append(b, headerPayload...)
	b = binary.LittleEndian.AppendUint16(b, FormatVersion)
	return binary.LittleEndian.AppendUint16(b, 0)
}

// parseHeader checks the leading skippable frame and returns the format
// version it names.
func parseHeader(b []byte) (int, error) {
	if len(b) < headerLen ||
		binary.LittleEndian.Uint32(b[0:]) != headerMagic ||
		binary.LittleEndian.Uint32(b[4:]) != headerLen-8 ||
		string(b[8:12]) != headerPayload ||
		binary.LittleEndian.Uint16(b[14:]) != 0 {
		return 0, errors.New("no recoverctl header")
	}
	return int(binary.LittleEndian.Uint16(b[12:])), nil
}

func appendFooter(b []byte, length int64, sum [32]byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, footerMagic)
	b = binary.LittleEndian.AppendUint32(b, footerLen-8)
	b = append(b, footerPayload...)
	b = binary.LittleEndian.AppendUint64(b, uint64(length))
	return append(b, sum[:]...)
}

// parseFooter returns the archive length and hash a footer records.
func parseFooter(b []byte) (length int64, sum [32]byte, ok bool) {
	if len(b) != footerLen ||
		binary.LittleEndian.Uint32(b[0:]) != footerMagic ||
		binary.LittleEndian.Uint32(b[4:]) != footerLen-8 ||
		string(b[8:16]) != footerPayload {
		return 0, sum, false
	}
	l := binary.LittleEndian.Uint64(b[16:])
	if l > 1<<62 {
		return 0, sum, false
	}
	copy(sum[:], b[24:])
	return int64(l), sum, true
}
