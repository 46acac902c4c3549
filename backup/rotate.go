package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Archive file names are recoverctl-<storekind>-<YYYYMMDDTHHMMSSZ>.rctl.zst
// (UTC), or with -N before the suffix when that name was taken (WriteDir).
// Rotate touches nothing else.
const (
	namePrefix = "recoverctl-"
	nameSuffix = ".rctl.zst"
	nameTime   = "20060102T150405Z"
)

var archiveNameRE = regexp.MustCompile(`^recoverctl-([a-z0-9]+)-([0-9]{8}T[0-9]{6}Z)(?:-[1-9][0-9]{0,5})?\.rctl\.zst$`)

// ArchiveName returns the file name of an archive of a store of the given
// kind ("fs", "zk") taken at t.
func ArchiveName(storeKind string, t time.Time) (string, error) {
	if !regexp.MustCompile(`^[a-z0-9]+$`).MatchString(storeKind) {
		return "", fmt.Errorf("store kind %q: want lower-case letters and digits", storeKind)
	}
	return namePrefix + storeKind + "-" + t.UTC().Format(nameTime) + nameSuffix, nil
}

// ParseArchiveName returns the store kind and time an archive name carries;
// ok is false for any other name.
func ParseArchiveName(name string) (storeKind string, t time.Time, ok bool) {
	m := archiveNameRE.FindStringSubmatch(name)
	if m == nil {
		return "", time.Time{}, false
	}
	t, err := time.Parse(nameTime, m[2])
	if err != nil {
		return "", time.Time{}, false
	}
	return m[1], t, true
}

// RotateOptions say which archives Rotate ranks and which one it must keep.
type RotateOptions struct {
	// Keep is how many archives of the store stay, Current included;
	// at least 1.
	Keep int
	// Current is the archive this run wrote. It is never removed, however
	// its time compares with the others'.
	Current string
	// The store whose archives are ranked, as its manifests name it:
	// archives of any other store are left alone.
	StoreKind, Address, Dir string
}

// RotatedArchive is one archive Rotate ranked.
type RotatedArchive struct {
	Path    string    `json:"path"`
	Created time.Time `json:"created"` // from its manifest
}

// RotateSkip is a file named like an archive that Rotate did not count.
type RotateSkip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Rotation says what Rotate did.
type Rotation struct {
	Removed []RotatedArchive `json:"removed"`
	Kept    []RotatedArchive `json:"kept"` // Current first
	// Skipped are files named like an archive of the store kind that do
	// not verify as one (junk, damage, a FIFO): never removed.
	Skipped []RotateSkip `json:"skipped,omitempty"`
	// Other counts intact archives of other stores of the same kind.
	Other int `json:"other_stores,omitempty"`
}

// Rotate keeps the newest opts.Keep archives of one store in dir and
// removes the older ones. Only regular files named like ArchiveName names
// them for opts.StoreKind count, and only those that Verify accepts whose
// manifest names the same store; they are ranked by the creation time in
// their manifest, not by their name (a name is only as true as whoever
// wrote the directory). opts.Current, which must verify, is always kept
// and counts as one of Keep, whatever its name. Nothing else is touched.
func Rotate(ctx context.Context, dir string, opts RotateOptions) (Rotation, error) {
	var rot Rotation
	if opts.Keep < 1 {
		return rot, fmt.Errorf("rotate: keep %d: must keep at least one archive", opts.Keep)
	}
	if opts.Current == "" {
		return rot, errors.New("rotate: no current archive to keep")
	}
	cur, err := os.Lstat(opts.Current)
	if err != nil {
		return rot, fmt.Errorf("rotate: the archive just written: %w", err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return rot, fmt.Errorf("rotate: %w", err)
	}
	type candidate struct {
		RotatedArchive
		fi os.FileInfo
	}
	var cands []candidate
	var current *RotatedArchive
	for _, de := range des {
		if err := ctx.Err(); err != nil {
			return rot, err
		}
		kind, _, ok := ParseArchiveName(de.Name())
		if !ok || kind != opts.StoreKind {
			continue
		}
		p := filepath.Join(dir, de.Name())
		m, fi, err := verifyFile(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return rot, ctx.Err()
			}
			rot.Skipped = append(rot.Skipped, RotateSkip{Path: p, Reason: err.Error()})
			continue
		}
		if os.SameFile(fi, cur) {
			current = &RotatedArchive{Path: p, Created: m.Created}
			continue
		}
		if m.StoreKind != opts.StoreKind || m.Address != opts.Address || m.Dir != opts.Dir {
			if m.StoreKind != kind {
				rot.Skipped = append(rot.Skipped, RotateSkip{Path: p,
					Reason: fmt.Sprintf("named a %s archive, holds a %s one", kind, printableName(m.StoreKind))})
			} else {
				rot.Other++
			}
			continue
		}
		cands = append(cands, candidate{RotatedArchive{Path: p, Created: m.Created}, fi})
	}
	if current == nil {
		// Named otherwise (backup --to FILE), or elsewhere: still kept,
		// and still one of Keep.
		m, _, err := verifyFile(ctx, opts.Current)
		if err != nil {
			return rot, fmt.Errorf("rotate: the archive just written: %w", err)
		}
		current = &RotatedArchive{Path: opts.Current, Created: m.Created}
	}
	rot.Kept = append(rot.Kept, *current)
	// Newest first; the name breaks ties so the order is stable.
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.Path, a.Path)
	})
	keepOthers := min(opts.Keep-1, len(cands))
	for _, c := range cands[:keepOthers] {
		rot.Kept = append(rot.Kept, c.RotatedArchive)
	}
	for _, c := range cands[keepOthers:] {
		// Remove only the file that was verified: a name replaced since is
		// someone else's.
		if fi, err := os.Lstat(c.Path); err != nil || !os.SameFile(fi, c.fi) {
			rot.Skipped = append(rot.Skipped, RotateSkip{Path: c.Path, Reason: "replaced while rotating"})
			continue
		}
		if err := os.Remove(c.Path); err != nil {
			return rot, fmt.Errorf("rotate: %w", err)
		}
		rot.Removed = append(rot.Removed, c.RotatedArchive)
	}
	if len(rot.Removed) > 0 {
		if err := syncDir(dir); err != nil {
			return rot, fmt.Errorf("rotate: fsync %s: %w", dir, err)
		}
	}
	return rot, nil
}

// verifyFile verifies the archive at path without following a symlink or
// blocking on a FIFO, and returns its manifest and the file it read.
func verifyFile(ctx context.Context, path string) (*Manifest, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	m, err := Verify(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	return m, fi, nil
}
