package rocksdb

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFiles adds the files of the captures and the JVM databases whose name
// matches keep to the fuzz corpus. Go's fuzzer crawls on inputs of tens of
// KB, so a file above limit is cut to it when prefix allows (a log is still
// a log when truncated) and left out otherwise.
func seedFiles(f *testing.F, limit int, prefix bool, keep func(string) bool) {
	dirs := []string{filepath.Join(captureDir("4.0.5-2.13"), "rocksdb"), filepath.Join(captureDir("4.3.0-2.13"), "rocksdb")}
	for _, v := range jvmVariants {
		dirs = append(dirs, filepath.Join("testdata", "jvm", v, "db"))
	}
	n := 0
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range ents {
			if !keep(e.Name()) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(d, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			if len(b) > limit {
				if !prefix {
					continue
				}
				b = b[:limit]
			}
			f.Add(b)
			n++
		}
	}
	if n == 0 {
		f.Fatal("no seeds")
	}
}

// checkErr fails on an error that is not typed, or a message without the file.
func checkErr(t *testing.T, file string, err error) {
	if err == nil {
		return
	}
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != file || !strings.Contains(err.Error(), file+" offset ") {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

func FuzzLog(f *testing.F) {
	seedFiles(f, 2048, true, func(n string) bool { return strings.HasSuffix(n, ".log") })
	f.Fuzz(func(t *testing.T, data []byte) {
		lr := readLog("000004.log", data, 4)
		if lr.problem != nil {
			checkErr(t, "000004.log", lr.problem)
		}
		for _, r := range lr.records {
			if r.off < 0 || r.off >= int64(len(data)) || len(r.data) > len(data) {
				t.Fatalf("record at %d of %d bytes from %d bytes", r.off, len(r.data), len(data))
			}
			_, ops, err := parseBatch("000004.log", r.off, r.data)
			checkErr(t, "000004.log", err)
			if len(ops) > len(r.data) {
				t.Fatalf("%d ops from %d bytes", len(ops), len(r.data))
			}
		}
		// The batch decoder on its own, past the CRCs that stop most mutations.
		_, ops, err := parseBatch("000004.log", 0, data)
		checkErr(t, "000004.log", err)
		if len(ops) > len(data) {
			t.Fatalf("%d ops from %d bytes", len(ops), len(data))
		}
	})
}

func FuzzManifest(f *testing.F) {
	seedFiles(f, 8192, false, func(n string) bool { return strings.HasPrefix(n, "MANIFEST-") })
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := readManifest("MANIFEST-000005", data)
		checkErr(t, "MANIFEST-000005", err)
		if err == nil {
			for _, p := range m.problems {
				checkErr(t, "MANIFEST-000005", p)
			}
		}
	})
}

func FuzzSST(f *testing.F) {
	seedFiles(f, 8192, false, func(n string) bool { return strings.HasSuffix(n, ".sst") })
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		_, problems, err := readTable("000009.sst", data, func(e internalEntry) {
			n++
			if len(e.key)+len(e.value) > maxBlockSize {
				t.Fatalf("entry of %d bytes", len(e.key)+len(e.value))
			}
		})
		checkErr(t, "000009.sst", err)
		for _, p := range problems {
			checkErr(t, "000009.sst", p)
		}
		// Again with block checksums switched off in the footer (format_version
		// below 6), so mutations reach decompression and block parsing.
		if len(data) >= footerLen && binary.LittleEndian.Uint64(data[len(data)-8:]) == tableMagic &&
			binary.LittleEndian.Uint32(data[len(data)-12:]) < 6 {
			d := append([]byte(nil), data...)
			d[len(d)-footerLen] = checksumNone
			_, problems, err := readTable("000009.sst", d, func(internalEntry) {})
			checkErr(t, "000009.sst", err)
			for _, p := range problems {
				checkErr(t, "000009.sst", p)
			}
		}
	})
}

// FuzzOpen damages one file of a real database and opens it: Open must fail
// with a typed error or list what it can, never panic.
func FuzzOpen(f *testing.F) {
	f.Add(uint8(0), uint32(100), byte(1))
	f.Add(uint8(2), uint32(5000), byte(0x80))
	f.Add(uint8(3), uint32(20), byte(0xff))
	src := filepath.Join("testdata", "jvm", "spark-options", "db")
	ents, err := os.ReadDir(src)
	if err != nil {
		f.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		files[e.Name()] = b
		names = append(names, e.Name())
	}
	f.Fuzz(func(t *testing.T, which uint8, at uint32, x byte) {
		dir := t.TempDir()
		victim := names[int(which)%len(names)]
		for n, b := range files {
			if n == victim && len(b) > 0 {
				b = append([]byte(nil), b...)
				b[int(at)%len(b)] ^= x
			}
			write(t, filepath.Join(dir, n), b)
		}
		s, err := Open(dir)
		if err != nil {
			return
		}
		for _, p := range s.Info().Problems {
			if p.Error() == "" {
				t.Fatal("empty problem")
			}
		}
	})
}
