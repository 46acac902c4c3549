package rocksdb

import (
	"fmt"
	"os"
)

// noExchange, set by tests, makes swapDirs take its two-rename path.
var noExchange bool

// swapDirs puts newDir in the place of dir. exchanged tells that the old
// directory is now under newDir's name (one atomic exchange); otherwise
// it was renamed to oldDir first, and then newDir to dir, which leaves dir
// missing for a moment (undoSwap puts it back after a crash there).
// crashBetween stops between the two renames, for tests.
func swapDirs(newDir, dir, oldDir string, crashBetween bool) (exchanged bool, err error) {
	ok, err := exchange(newDir, dir)
	if err != nil {
		return false, err
	}
	if ok {
		return true, nil
	}
	if err := os.Rename(dir, oldDir); err != nil {
		return false, err
	}
	if crashBetween {
		return false, errCrash
	}
	if err := os.Rename(newDir, dir); err != nil {
		if rerr := os.Rename(oldDir, dir); rerr != nil {
			return false, fmt.Errorf("%w; and putting the old database back from %s: %w", err, oldDir, rerr)
		}
		return false, err
	}
	return false, nil
}
