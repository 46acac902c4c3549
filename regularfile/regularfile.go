// Package regularfile opens files that recoverctl is given by path (an
// archive, a Spark configuration file) only when they are regular files,
// and reads them only up to a bound set before the first byte is read.
//
// A path may name a FIFO, whose open blocks until a writer appears and
// which no signal handler can then interrupt, or a device such as
// /dev/zero, which never ends. Open opens with O_NONBLOCK, so that a
// FIFO's open returns at once, then refuses anything fstat does not call
// a regular file: what was checked is what was opened, with no window
// between a stat and an open.
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular: the path names a FIFO, a device, a socket or a directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge: the file holds more bytes than the reader accepts.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading if it is a regular file (symbolic links
// are followed, as for any path a user names). On error nothing is left
// open.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w: %s", ErrNotRegular, describe(fi.Mode()))}
	}
	return f, fi, nil
}

// ReadFile reads a regular file of at most limit bytes. A larger file is
// refused with ErrTooLarge after reading at most limit+1 bytes, whatever
// its size said when it was opened (a file may grow while it is read).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, fi, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, fi.Size(), limit)}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)}
	}
	return b, nil
}

func describe(m fs.FileMode) string {
	switch t := m.Type(); {
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a block device"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeDir != 0:
		return "a directory"
	default:
		return "of mode " + t.String()
	}
}
