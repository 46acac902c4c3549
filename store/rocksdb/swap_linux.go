package rocksdb

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange swaps two directory entries in one step (renameat2
// RENAME_EXCHANGE); ok is false where the file system does not do it.
func exchange(a, b string) (ok bool, err error) {
	if noExchange {
		return false, nil
	}
	err = unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return false, nil
	}
	return err == nil, err
}
