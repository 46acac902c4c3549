package backup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var fsInfo = Info{StoreKind: "fs", Address: "fs:///var/spark/recovery", Dir: "/var/spark/recovery", Version: "test"}

// archiveAt writes a real archive of fsInfo's store created at created
// (the manifest's time) under name in dir.
func archiveAt(t *testing.T, dir, name string, created time.Time, info Info) string {
	t.Helper()
	info.Time = created
	p := filepath.Join(dir, name)
	if _, err := WriteFile(context.Background(), sampleStore(), p, info, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

func paths(as []RotatedArchive) []string {
	var out []string
	for _, a := range as {
		out = append(out, filepath.Base(a.Path))
	}
	return out
}

// The creation time in the manifest ranks archives, not the name; files
// that are no intact archive of this store are reported and left alone.
func TestRotateRanksByManifest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// Names run against the manifests' order: the newest-named is oldest.
	var byAge []string // newest manifest first
	for i := range 4 {
		name, _ := ArchiveName("fs", base.Add(time.Duration(i)*time.Hour))
		archiveAt(t, dir, name, base.Add(-time.Duration(i)*24*time.Hour), fsInfo)
		byAge = append(byAge, name)
	}
	other := fsInfo
	other.Address, other.Dir = "fs:///other", "/other"
	otherName, _ := ArchiveName("fs", base.Add(-1000*time.Hour))
	archiveAt(t, dir, otherName, base.Add(-1000*time.Hour), other)
	zkName, _ := ArchiveName("zk", base.Add(-900*time.Hour))
	archiveAt(t, dir, zkName, base.Add(-900*time.Hour), testInfo)
	// Named like archives, but none is one of this store.
	junk := "recoverctl-fs-20200101T000000Z.rctl.zst"
	if err := os.WriteFile(filepath.Join(dir, junk), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	mislabeled := "recoverctl-fs-20200102T000000Z.rctl.zst"
	zkData, _ := writeArchive(t, sampleStore()) // a zk archive under an fs name
	if err := os.WriteFile(filepath.Join(dir, mislabeled), zkData, 0o600); err != nil {
		t.Fatal(err)
	}
	link := "recoverctl-fs-20200103T000000Z.rctl.zst"
	if err := os.Symlink(filepath.Join(dir, byAge[3]), filepath.Join(dir, link)); err != nil {
		t.Fatal(err)
	}
	fifo := "recoverctl-fs-20200104T000000Z.rctl.zst"
	if err := syscall.Mkfifo(filepath.Join(dir, fifo), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := "recoverctl-fs-20200105T000000Z.rctl.zst"
	if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"notes.txt", ".recoverctl-fs-20200101T000000Z.rctl.zst.tmp-1", "recoverctl-fs-2020.rctl.zst"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// This run's archive, created before all the others by its manifest.
	curName, _ := ArchiveName("fs", base.Add(-10*time.Hour))
	cur := archiveAt(t, dir, curName, base.Add(-5000*time.Hour), fsInfo)
	before := names(t, dir)

	rot, err := Rotate(ctx, dir, RotateOptions{Keep: 3, Current: cur, StoreKind: "fs", Address: fsInfo.Address, Dir: fsInfo.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(rot.Kept), []string{curName, byAge[0], byAge[1]}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
	if got, want := paths(rot.Removed), []string{byAge[2], byAge[3]}; !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	if !rot.Removed[0].Created.Equal(base.Add(-48 * time.Hour)) {
		t.Errorf("removed %v: created from the manifest expected", rot.Removed[0])
	}
	var skipped []string
	for _, s := range rot.Skipped {
		skipped = append(skipped, filepath.Base(s.Path))
	}
	slices.Sort(skipped)
	if want := []string{junk, mislabeled, link, fifo, sub}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want %v (%+v)", skipped, want, rot.Skipped)
	}
	if rot.Other != 1 {
		t.Errorf("other stores: %d, want 1", rot.Other)
	}
	want := slices.DeleteFunc(before, func(n string) bool { return n == byAge[2] || n == byAge[3] })
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}

	if _, err := Rotate(ctx, dir, RotateOptions{Keep: 0, Current: cur, StoreKind: "fs"}); err == nil {
		t.Error("keep 0 accepted")
	}
	if _, err := Rotate(ctx, dir, RotateOptions{Keep: 1, StoreKind: "fs"}); err == nil {
		t.Error("no current archive accepted")
	}
	// A current archive that does not verify.
	if _, err := Rotate(ctx, dir, RotateOptions{Keep: 1, Current: filepath.Join(dir, junk), StoreKind: "fs"}); err == nil {
		t.Error("junk as the current archive accepted")
	}
	// A current archive named otherwise (backup --to FILE) is kept and
	// counts: keep 2 leaves it and the newest other.
	named := archiveAt(t, dir, "before-upgrade.rctl.zst", base.Add(-6000*time.Hour), fsInfo)
	rot, err = Rotate(ctx, dir, RotateOptions{Keep: 2, Current: named, StoreKind: "fs", Address: fsInfo.Address, Dir: fsInfo.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(rot.Kept), []string{"before-upgrade.rctl.zst", byAge[0]}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
	if got, want := paths(rot.Removed), []string{byAge[1], curName}; !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
}

// A name from a clock that ran ahead (or from anyone who can write the
// directory) must not make --keep 1 remove the archive just written.
func TestRotateFutureDatedName(t *testing.T) {
	future := "recoverctl-fs-29991231T235959Z.rctl.zst"
	now := time.Now().UTC()
	for _, c := range []struct {
		name    string
		plant   func(t *testing.T, dir string)
		removed bool
	}{
		{"real archive", func(t *testing.T, dir string) { archiveAt(t, dir, future, now.Add(-time.Hour), fsInfo) }, true},
		{"real archive dated 2999 in its manifest too", func(t *testing.T, dir string) {
			archiveAt(t, dir, future, time.Date(2999, 12, 31, 23, 59, 59, 0, time.UTC), fsInfo)
		}, true},
		{"junk", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, future), []byte("not an archive"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.plant(t, dir)
			info := fsInfo
			info.Time = now
			cur, _, err := WriteDir(context.Background(), sampleStore(), dir, info, nil)
			if err != nil {
				t.Fatal(err)
			}
			rot, err := Rotate(context.Background(), dir, RotateOptions{Keep: 1, Current: cur, StoreKind: "fs", Address: fsInfo.Address, Dir: fsInfo.Dir})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(context.Background(), bytes.NewReader(must(os.ReadFile(cur)))); err != nil {
				t.Fatalf("this run's archive: %v", err)
			}
			if got := paths(rot.Kept); !slices.Equal(got, []string{filepath.Base(cur)}) {
				t.Errorf("kept %v", got)
			}
			_, err = os.Lstat(filepath.Join(dir, future))
			if c.removed != errors.Is(err, os.ErrNotExist) || c.removed != (len(rot.Removed) == 1) {
				t.Errorf("future-dated file: %v, rotation %+v", err, rot)
			}
			if !c.removed && (len(rot.Skipped) != 1 || !strings.Contains(rot.Skipped[0].Reason, "no recoverctl header")) {
				t.Errorf("junk not reported: %+v", rot.Skipped)
			}
		})
	}
}

// A name taken before the archive is written, or between the check and
// the claim, is never replaced: WriteFile fails, WriteDir takes the next
// numbered name.
func TestNameClaim(t *testing.T) {
	ctx := context.Background()
	info := fsInfo
	info.Time = time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	first, _ := ArchiveName("fs", info.Time)
	plant := func(t *testing.T, p string) {
		t.Helper()
		if err := os.WriteFile(p, []byte("someone else's"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	untouched := func(t *testing.T, p string) {
		t.Helper()
		if b, err := os.ReadFile(p); err != nil || string(b) != "someone else's" {
			t.Errorf("%s replaced: %q %v", p, b, err)
		}
	}

	t.Run("WriteFile, name appears before the claim", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, first)
		_, err := writePath(ctx, sampleStore(), p, info, nil, &hooks{claim: func() { plant(t, p) }})
		if !errors.Is(err, ErrArchiveExists) {
			t.Fatalf("got %v, want ErrArchiveExists", err)
		}
		untouched(t, p)
		assertDir(t, dir, first)
	})
	t.Run("WriteDir, name taken before", func(t *testing.T) {
		dir := t.TempDir()
		plant(t, filepath.Join(dir, first))
		plant(t, filepath.Join(dir, numberedName(first, 1)))
		p, _, err := WriteDir(ctx, sampleStore(), dir, info, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := "recoverctl-fs-20261204T180000Z-2.rctl.zst"; filepath.Base(p) != want {
			t.Errorf("wrote %s, want %s", p, want)
		}
		if kind, tm, ok := ParseArchiveName(filepath.Base(p)); !ok || kind != "fs" || !tm.Equal(info.Time) {
			t.Errorf("ParseArchiveName(%s) = %s %v %v", p, kind, tm, ok)
		}
		untouched(t, filepath.Join(dir, first))
		untouched(t, filepath.Join(dir, numberedName(first, 1)))
		if fp, err := FreeArchivePath(dir, "fs", info.Time); err != nil || filepath.Base(fp) != "recoverctl-fs-20261204T180000Z-3.rctl.zst" {
			t.Errorf("FreeArchivePath = %s %v", fp, err)
		}
	})
	t.Run("WriteDir, name appears before the claim", func(t *testing.T) {
		dir := t.TempDir()
		p, _, err := writeDir(ctx, sampleStore(), dir, info, nil, &hooks{claim: func() { plant(t, filepath.Join(dir, first)) }})
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) != numberedName(first, 1) {
			t.Errorf("wrote %s", p)
		}
		untouched(t, filepath.Join(dir, first))
		assertDir(t, dir, numberedName(first, 1), first)
	})
	t.Run("every name taken", func(t *testing.T) {
		dir := t.TempDir()
		for i := range maxNameTries {
			plant(t, filepath.Join(dir, numberedName(first, i)))
		}
		p, _, err := WriteDir(ctx, sampleStore(), dir, info, nil)
		if !errors.Is(err, ErrArchiveExists) || p != "" {
			t.Fatalf("got %q %v, want ErrArchiveExists", p, err)
		}
		if _, err := FreeArchivePath(dir, "fs", info.Time); !errors.Is(err, ErrArchiveExists) {
			t.Errorf("FreeArchivePath: %v", err)
		}
		if n := len(names(t, dir)); n != maxNameTries {
			t.Errorf("%d files, want %d: a temporary file left?", n, maxNameTries)
		}
		untouched(t, filepath.Join(dir, numberedName(first, maxNameTries-1)))
	})
}
