package sparkconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxPropertiesFile bounds what ReadPropertiesFile reads; Spark's own files
// are a few KB.
const MaxPropertiesFile = 4 << 20

// ErrTooLarge means a file is larger than the limit applied to it.
var ErrTooLarge = errors.New("file too large")

// ReadPropertiesFile reads one properties file the way a running Master has
// read its --properties-file or spark-defaults.conf (Spark's
// Utils.getPropertiesFromFile): the parser Load uses, values trimmed as
// Spark trims them, the last definition of a key winning. It returns every
// key, spark.* or not, with its value. Only a regular file is read, at
// most MaxPropertiesFile bytes; opening never blocks (a FIFO is refused).
// Errors are *FileError.
func ReadPropertiesFile(path string) (map[string]string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // FileError names the path
		}
		return nil, &FileError{Path: path, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &FileError{Path: path, Err: errors.New("properties file is not a regular file")}
	}
	if fi.Size() > MaxPropertiesFile {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, fi.Size(), MaxPropertiesFile)}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxPropertiesFile+1))
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if len(data) > MaxPropertiesFile {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxPropertiesFile)}
	}
	props, err := parseProperties(data)
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return nil, &FileError{Path: path, Line: le.line, Err: le.err}
		}
		return nil, &FileError{Path: path, Err: err}
	}
	out := make(map[string]string, len(props))
	for _, p := range props {
		out[p.key] = trimExceptCRLF(p.value)
	}
	return out, nil
}
