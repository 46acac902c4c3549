package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Archive file names are recoverctl-<storekind>-<YYYYMMDDTHHMMSSZ>.rctl.zst
// (UTC). Rotate touches nothing else.
const (
	namePrefix = "recoverctl-"
	nameSuffix = ".rctl.zst"
	nameTime   = "20060102T150405Z"
)

var archiveNameRE = regexp.MustCompile(`^recoverctl-([a-z0-9]+)-([0-9]{8}T[0-9]{6}Z)\.rctl\.zst$`)

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

// Rotate keeps the newest keep archives of each store kind in dir and
// removes older ones, returning the paths removed. Only regular files named
// by ArchiveName count; temporary files, other files and directories are
// never touched. keep must be at least 1.
func Rotate(dir string, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("rotate: keep %d: must keep at least one archive", keep)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("rotate: %w", err)
	}
	type archive struct {
		name string
		t    time.Time
	}
	byKind := map[string][]archive{}
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		kind, t, ok := ParseArchiveName(de.Name())
		if !ok {
			continue
		}
		byKind[kind] = append(byKind[kind], archive{de.Name(), t})
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var removed []string
	for _, k := range kinds {
		as := byKind[k]
		// Newest first; the name breaks ties so the order is stable.
		slices.SortFunc(as, func(a, b archive) int {
			if c := b.t.Compare(a.t); c != 0 {
				return c
			}
			return strings.Compare(b.name, a.name)
		})
		for _, a := range as[min(keep, len(as)):] {
			p := filepath.Join(dir, a.name)
			if err := os.Remove(p); err != nil {
				return removed, fmt.Errorf("rotate: %w", err)
			}
			removed = append(removed, p)
		}
	}
	if len(removed) > 0 {
		if err := syncDir(dir); err != nil {
			return removed, fmt.Errorf("rotate: fsync %s: %w", dir, err)
		}
	}
	return removed, nil
}
