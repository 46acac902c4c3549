package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// craftEntry is one tar entry of a crafted archive: name as it goes into
// the tar stream, data as its bytes.
type craftEntry struct {
	name string
	data string
}

// craftArchive builds an archive the way a hostile writer would: every
// hash, count and digest right, so that only the names are wrong. It
// does not go through Write, which refuses such names.
func craftArchive(t testing.TB, records, foreign []craftEntry) []byte {
	t.Helper()
	var body bytes.Buffer
	zw, err := zstd.NewWriter(&body)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	m := Manifest{Format: FormatVersion, StoreKind: "fs", Address: "fs:///var/spark/recovery", Dir: "/var/spark/recovery",
		Created: time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC), Version: "crafted"}
	part := func(es []craftEntry, prefix string) (int, int64, string) {
		d := sha256.New()
		var n int64
		for _, e := range es {
			h := sha256.Sum256([]byte(e.data))
			var hdr tar.Header
			setRecordHeader(&hdr, map[string]string{}, prefix+e.name, int64(len(e.data)), m.Created, "", h)
			if err := tw.WriteHeader(&hdr); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write([]byte(e.data)); err != nil {
				t.Fatal(err)
			}
			d.Write(appendDigestLine(nil, e.name, int64(len(e.data)), h))
			n += int64(len(e.data))
		}
		return len(es), n, hex.EncodeToString(d.Sum(nil))
	}
	m.Records, m.Bytes, m.RecordsSHA256 = part(records, "")
	if len(foreign) > 0 {
		m.Foreign, m.ForeignBytes, m.ForeignSHA256 = part(foreign, foreignPrefix)
	}
	mb, _ := json.Marshal(m)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: manifestName, Size: int64(len(mb)), Mode: 0o600,
		ModTime: m.Created, Format: tar.FormatPAX}); err != nil {
		t.Fatal(err)
	}
	tw.Write(mb)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := append(appendHeader(nil), body.Bytes()...)
	return appendFooter(out, int64(len(out)), sha256.Sum256(out))
}

var okRecord = craftEntry{"app_app-20261204180000-0000", "app"}

// hostileNames are names no Spark Master writes, each of which a restore
// would otherwise write into a recovery directory or master_status. Each
// becomes testdata/hostile/<file>.rctl.zst (refreshed by -update), which
// the command tests of verify and restore read too.
var hostileNames = []struct {
	file  string
	entry string // the tar name
	name  string // the name the refusal must carry
}{
	{"bashrc", ".bashrc", ".bashrc"},
	{"spark-env", "spark-env.sh", "spark-env.sh"},
	{"lock", ".recoverctl-lock", ".recoverctl-lock"},
	{"long-name", "app_" + strings.Repeat("x", 296), "app_" + strings.Repeat("x", 296)},
	{"dotdot", "../x", "../x"},
	{"escape", "app_app-\x1b]0;owned\x07\x1b[2J", "app_app-\x1b]0;owned\x07\x1b[2J"},
	{"slash", "app_a/../../etc/cron.d/x", "app_a/../../etc/cron.d/x"},
	// (A NUL cannot be in a tar name at all: archive/tar refuses to
	// encode it and ends the name there when reading.)
	{"c1", "driver_d\u009bx", "driver_d\u009bx"},
	{"empty-id", "worker_", "worker_"},
	{"format-entry", ".recoverctl/other.json", ".recoverctl/other.json"},
	{"foreign-dotdot", foreignPrefix + "..", ".."},
	{"foreign-spark-name", foreignPrefix + "app_app-1", "app_app-1"},
}

func TestVerifyRefusesNamesSparkDoesNotWrite(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("testdata", "hostile")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range hostileNames {
		t.Run(c.file, func(t *testing.T) {
			var data []byte
			if rest, ok := strings.CutPrefix(c.entry, foreignPrefix); ok {
				data = craftArchive(t, []craftEntry{okRecord}, []craftEntry{{rest, "x"}})
			} else {
				// Sorted after okRecord or before it: order must not matter.
				data = craftArchive(t, []craftEntry{{c.entry, "payload"}}, nil)
			}
			path := filepath.Join(dir, c.file+".rctl.zst")
			if *update {
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			onDisk, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for what, in := range map[string][]byte{"crafted": data, path: onDisk} {
				_, err := Verify(ctx, bytes.NewReader(in))
				var de *DamageError
				if !errors.As(err, &de) || !errors.Is(err, ErrBadName) || !errors.Is(err, ErrDamaged) {
					t.Fatalf("%s: got %v, want a *DamageError matching ErrBadName", what, err)
				}
				if de.Record != c.name || de.Offset <= 0 || de.Offset > int64(len(in)) {
					t.Errorf("%s: names %q at offset %d", what, de.Record, de.Offset)
				}
				msg := err.Error()
				if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f }) {
					t.Errorf("%s: message carries a control character: %q", what, msg)
				}
				if !strings.Contains(msg, "archive refused at byte ") || !strings.Contains(msg, printableName(c.name)) {
					t.Errorf("%s: message %q", what, msg)
				}
				if _, err := Open(ctx, bytes.NewReader(in), int64(len(in))); !errors.Is(err, ErrBadName) {
					t.Errorf("%s: Open (every restore starts there): %v", what, err)
				}
				if what == "crafted" {
					t.Log(msg)
				}
			}
		})
	}
}

func TestNameLimits(t *testing.T) {
	ctx := context.Background()
	longest := "app_" + strings.Repeat("a", MaxNameLen-4)
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{longest, true},
		{longest + "a", false},
		{"worker_worker-20261204180000-10.0.0.5-7078", true},
		{"driver_driver-20261204180000-0000", true},
		{"app_app-é-ünïcode", true},
		{"app_x\x7f", false},
		{"app_x\\y", false},
		{"app_\xff", false},
		{"app_.", true}, // a file name, not a dot entry
		{"App_x", false},
	} {
		data := craftArchive(t, []craftEntry{{c.name, "r"}}, nil)
		_, err := Verify(ctx, bytes.NewReader(data))
		if (err == nil) != c.ok || !c.ok && !errors.Is(err, ErrBadName) {
			t.Errorf("%q: %v", c.name, err)
		}
	}
}

// The foreign part: prune's archives keep what prune deleted, foreign
// names included, apart from the records; Records, Entries and so every
// restore see only records.
func TestForeignPart(t *testing.T) {
	ctx := context.Background()
	src := sampleStore()
	src.put(".bashrc", []byte("echo hi"))
	info := testInfo
	info.IncludeForeign = true
	var buf bytes.Buffer
	sum, err := Write(ctx, src, &buf, info, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 4 || sum.ForeignArchived != 2 || len(sum.Foreign) != 0 {
		t.Fatalf("summary %+v", sum)
	}
	data := buf.Bytes()
	a, err := Open(ctx, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if m := a.Manifest(); m.Records != 4 || m.Foreign != 2 || m.ForeignBytes != int64(len("echo hi")+len("not a record")) {
		t.Fatalf("manifest %+v", m)
	}
	var recs, entries, foreign []string
	for r, err := range a.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r.Name)
	}
	for e, err := range a.Entries(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e.Name)
	}
	for r, err := range a.Foreign(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Data) != string(src.recs[r.Name].Data) {
			t.Errorf("%s: %q", r.Name, r.Data)
		}
		foreign = append(foreign, r.Name)
	}
	if len(recs) != 4 || strings.Join(recs, " ") != strings.Join(entries, " ") || strings.Join(foreign, " ") != ".bashrc README" {
		t.Fatalf("records %v, entries %v, foreign %v", recs, entries, foreign)
	}
	// Without IncludeForeign nothing changes: no foreign part, no manifest
	// fields, the bytes of earlier archives.
	plain, _ := writeArchive(t, sampleStore())
	golden, err := os.ReadFile(filepath.Join("testdata", "v1.rctl.zst"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, golden) {
		t.Error("an archive without a foreign part differs from testdata/v1.rctl.zst")
	}
	// A foreign name that could escape a directory is not archived at all.
	src.put("../x", []byte("x"))
	if _, err := Write(ctx, src, &bytes.Buffer{}, info, nil); err == nil || !strings.Contains(err.Error(), `foreign entry ../x cannot be archived`) {
		t.Errorf("foreign ../x: %v", err)
	}
}
