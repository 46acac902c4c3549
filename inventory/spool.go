package inventory

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
)

// spool holds the encoded records of a listing in an unlinked temporary
// file, so that a listing of any size keeps only a small index in memory:
// the output is sorted, so nothing can be printed before the last record
// is read, and holding 100,000 encoded records in the heap would cost
// several times their size once the garbage collector's headroom is added.
type spool struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	off int64
	err error
	buf []byte // Inventory.Encoded reads into it
}

// span is where one record's JSON lies in the spool.
type span struct {
	off int64
	n   int // 0: none
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "recoverctl-listing-*")
	if err != nil {
		return nil, fmt.Errorf("listing spool: %w", err)
	}
	// Unlinked at once: nothing is left behind, whatever ends the process.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("listing spool: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// add appends b; it is called from several goroutines.
func (s *spool) add(b []byte) span {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return span{}
	}
	if _, err := s.w.Write(b); err != nil {
		s.err = fmt.Errorf("listing spool: %w", err)
		return span{}
	}
	sp := span{off: s.off, n: len(b)}
	s.off += int64(len(b))
	return sp
}

// finish makes everything added readable.
func (s *spool) finish() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		if err := s.w.Flush(); err != nil {
			s.err = fmt.Errorf("listing spool: %w", err)
		}
	}
	return s.err
}

// read returns the bytes at sp, valid until the next read.
func (s *spool) read(sp span) (json.RawMessage, error) {
	if cap(s.buf) < sp.n {
		s.buf = make([]byte, sp.n)
	}
	b := s.buf[:sp.n]
	if _, err := s.f.ReadAt(b, sp.off); err != nil && err != io.EOF {
		return nil, fmt.Errorf("listing spool: %w", err)
	}
	return b, nil
}

func (s *spool) close() error { return s.f.Close() }
