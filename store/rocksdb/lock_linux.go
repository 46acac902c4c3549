package rocksdb

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockHolder tells whether a process holds the LOCK file as RocksDB holds it
// (a POSIX write lock, fcntl F_SETLK). It only asks: the file is opened
// read-only and no lock is taken. An open file description lock query sees
// POSIX locks of every process, this one included, which plain F_GETLK does
// not.
func lockHolder(path string) (held bool, pid int) {
	f, err := os.Open(path)
	if err != nil {
		return false, 0
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		lk = unix.Flock_t{Type: unix.F_WRLCK}
		if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
			return false, 0
		}
	}
	if lk.Type == unix.F_UNLCK {
		return false, 0
	}
	return true, int(lk.Pid)
}
