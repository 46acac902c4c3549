package zk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/store"
)

// ZooKeeper 3.6 added multiRead: one request carrying many getData
// operations, answered in one response. Reading a store that way costs the
// server about a fifth of the CPU per record that one getData per znode
// does, and the client about a quarter (bench/README.md, "ls over
// ZooKeeper"). go-zookeeper has no multiRead (v1.0.4, its latest release)
// and no way to send a request it does not know, so EachRecord opens a
// second session of its own on the server the first one uses and speaks
// there only what the bulk read needs: connect, digest auth, sync,
// multiRead, ping and closeSession. Everything else stays with go-zookeeper.
//
// A server that does not know multiRead (3.4, 3.5) answers UNIMPLEMENTED;
// EachRecord then reads the rest with go-zookeeper, one getData per znode,
// as before. So it does on any failure of the second session: if the
// server itself is gone, that path fails within its own timeout.

// Wire constants of the ZooKeeper protocol (ZooDefs.OpCode,
// KeeperException.Code, the reserved xids).
const (
	opGetData      = 4
	opSync         = 9
	opPing         = 11
	opMultiRead    = 22
	opAuth         = 100
	opCloseSession = -11
	opError        = -1

	xidPing = -2
	xidAuth = -4

	zUnimplemented = -6
	zNoNode        = -101
	zNoAuth        = -102
	zAuthFailed    = -115

	statBytes = 68 // czxid mzxid ctime mtime version cversion aversion ephemeralOwner dataLength numChildren pzxid
)

const (
	// multiReadMaxOps caps the getData operations of one multiRead.
	multiReadMaxOps = 64
	// multiReadFirstOps is the size of the batches sent before any record
	// size is known: small enough that even records at the server's 1 MB
	// limit fit an answer into MaxBufferSize.
	multiReadFirstOps = 8
	// multiReadTargetBytes is the answer size a batch aims at once record
	// sizes are known: big enough that the per-request cost vanishes, far
	// below MaxBufferSize.
	multiReadTargetBytes = 1 << 20
	// multiReadInFlight is how many multiReads are sent ahead of the one
	// being answered, so the server always has the next one.
	multiReadInFlight = 8
)

// errBulk marks a failure of the bulk session, which the getData path may
// get around: the server refused or ignored multiRead, or the second
// session could not be set up or broke.
type errBulk struct{ err error }

func (e *errBulk) Error() string { return "multiRead session: " + e.err.Error() }
func (e *errBulk) Unwrap() error { return e.err }

// bulkSession is the second session. Answers come in request order, so a
// FIFO of what was sent is all the matching needed.
type bulkSession struct {
	conn    net.Conn
	r       *bufio.Reader
	wmu     sync.Mutex // one frame at a time on the wire
	w       *bufio.Writer
	xid     atomic.Int32
	timeout time.Duration // for each answer
	maxResp int
	pingGap time.Duration
}

// dialBulk opens a session on addr, authenticated like the store's.
func dialBulk(ctx context.Context, addr string, opts Options) (*bulkSession, error) {
	d := net.Dialer{Timeout: min(opts.ConnectTimeout, 2*time.Second)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &errBulk{err}
	}
	b := &bulkSession{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), w: bufio.NewWriterSize(conn, 16<<10),
		timeout: opts.RequestTimeout, maxResp: opts.MaxBufferSize}
	if err := b.handshake(opts); err != nil {
		conn.Close()
		return nil, err
	}
	return b, nil
}

func (b *bulkSession) handshake(opts Options) error {
	// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId,
	// passwd, readOnly. Framed by its length alone, no request header.
	req := make([]byte, 4, 64)
	req = binary.BigEndian.AppendUint32(req, 0)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, uint32(opts.SessionTimeout.Milliseconds()))
	req = binary.BigEndian.AppendUint64(req, 0)
	req = appendBuffer(req, make([]byte, 16))
	req = append(req, 0)
	binary.BigEndian.PutUint32(req, uint32(len(req)-4))
	if err := b.write(req); err != nil {
		return &errBulk{fmt.Errorf("connect: %w", err)}
	}
	body, err := b.readFrame()
	if err != nil {
		return &errBulk{fmt.Errorf("connect: %w", err)}
	}
	c := cursor{b: body}
	c.int32() // protocolVersion
	negotiated := c.int32()
	if c.err != nil || negotiated <= 0 {
		return &errBulk{errors.New("connect: the server refused the session")}
	}
	b.pingGap = time.Duration(negotiated) * time.Millisecond / 3
	if opts.Auth != "" {
		body := binary.BigEndian.AppendUint32(nil, 0)
		body = appendString(body, "digest")
		body = appendBuffer(body, []byte(opts.Auth))
		if err := b.send(xidAuth, opAuth, body); err != nil {
			return &errBulk{fmt.Errorf("authenticate: %w", err)}
		}
		_, code, _, err := b.reply()
		if err == nil && code != 0 {
			err = codeError(code)
		}
		if err != nil {
			return &errBulk{fmt.Errorf("authenticate: %w", err)}
		}
	}
	return nil
}

func (b *bulkSession) write(frame []byte) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if err := b.conn.SetWriteDeadline(time.Now().Add(b.timeout)); err != nil {
		return err
	}
	if _, err := b.w.Write(frame); err != nil {
		return err
	}
	return b.w.Flush()
}

// send writes one request: header (xid, type) and body.
func (b *bulkSession) send(xid, op int32, body []byte) error {
	frame := make([]byte, 12, 12+len(body))
	binary.BigEndian.PutUint32(frame, uint32(8+len(body)))
	binary.BigEndian.PutUint32(frame[4:], uint32(xid))
	binary.BigEndian.PutUint32(frame[8:], uint32(op))
	return b.write(append(frame, body...))
}

// readFrame reads one length-prefixed frame. The buffer grows with what
// arrives, not with what the length claims.
func (b *bulkSession) readFrame() ([]byte, error) {
	if err := b.conn.SetReadDeadline(time.Now().Add(b.timeout)); err != nil {
		return nil, err
	}
	var l [4]byte
	if _, err := io.ReadFull(b.r, l[:]); err != nil {
		return nil, b.readError(err)
	}
	n := int64(int32(binary.BigEndian.Uint32(l[:])))
	if n < 0 || n > int64(b.maxResp) {
		return nil, fmt.Errorf("answer of %d bytes, above the %d bytes allowed", n, b.maxResp)
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(n, 64<<10)))
	if _, err := io.CopyN(buf, b.r, n); err != nil {
		return nil, b.readError(err)
	}
	return buf.Bytes(), nil
}

// readError names a timeout for what it is. It too is worth trying the
// getData path for: a server before 3.4.6 ignores a request it does not
// know instead of answering UNIMPLEMENTED; a server that is really gone
// fails that path within its own timeout.
func (b *bulkSession) readError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &errBulk{&timeoutError{after: b.timeout}}
	}
	return &errBulk{err}
}

// reply reads the next answer other than a ping's: its xid, error code
// and body.
func (b *bulkSession) reply() (xid, code int32, body []byte, err error) {
	for {
		f, err := b.readFrame()
		if err != nil {
			return 0, 0, nil, err
		}
		c := cursor{b: f}
		xid, _, code = c.int32(), c.int64(), c.int32()
		if c.err != nil {
			return 0, 0, nil, &errBulk{fmt.Errorf("answer header: %w", c.err)}
		}
		if xid != xidPing {
			return xid, code, c.b, nil
		}
	}
}

// close ends the session: that frees it on the server at once rather than
// after its timeout. The answer does not matter.
func (b *bulkSession) close() {
	_ = b.send(b.xid.Add(1), opCloseSession, nil)
	b.conn.Close()
}

// pingUntil keeps the session alive while the caller is slow to take
// records (a blocked output), until stop is closed.
func (b *bulkSession) pingUntil(stop <-chan struct{}) {
	t := time.NewTicker(b.pingGap)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if b.send(xidPing, opPing, nil) != nil {
				return
			}
		}
	}
}

// multiReadRequest encodes getData (no watch) of every path.
func multiReadRequest(paths []string) []byte {
	n := 9
	for _, p := range paths {
		n += 9 + 4 + len(p) + 1
	}
	body := make([]byte, 0, n)
	for _, p := range paths {
		body = appendMultiHeader(body, opGetData, false, -1)
		body = appendString(body, p)
		body = append(body, 0)
	}
	return appendMultiHeader(body, -1, true, -1)
}

func appendMultiHeader(b []byte, op int32, done bool, code int32) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(op))
	if done {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return binary.BigEndian.AppendUint32(b, uint32(code))
}

// multiReadResult is one operation's answer: data and mtime, or a code.
type multiReadResult struct {
	data  []byte
	mtime int64
	code  int32
}

// parseMultiRead decodes a multiRead answer for want operations. The
// data slices share body.
func parseMultiRead(body []byte, want int) ([]multiReadResult, error) {
	c := cursor{b: body}
	out := make([]multiReadResult, 0, want)
	for {
		op, done := c.int32(), c.bool()
		c.int32() // the header's copy of an error result's code
		if c.err != nil {
			return nil, c.err
		}
		if done {
			break
		}
		if len(out) == want {
			return nil, fmt.Errorf("more than the %d results asked for", want)
		}
		switch op {
		case opGetData:
			data := c.buffer()
			st := c.bytes(statBytes)
			if c.err != nil {
				return nil, c.err
			}
			out = append(out, multiReadResult{data: data, mtime: int64(binary.BigEndian.Uint64(st[24:]))})
		case opError:
			code := c.int32()
			if c.err != nil {
				return nil, c.err
			}
			if code == 0 {
				code = zUnimplemented // an error result must carry a code
			}
			out = append(out, multiReadResult{code: code})
		default:
			return nil, fmt.Errorf("result of operation %d in a multiRead answer", op)
		}
	}
	if len(out) != want {
		return nil, fmt.Errorf("%d results for %d operations", len(out), want)
	}
	return out, nil
}

// errUnimplemented is the answer of a server that does not know a request
// (multiRead before ZooKeeper 3.6); go-zookeeper has no error for it.
var errUnimplemented = errors.New("zk: operation not implemented by the server")

// codeError maps a ZooKeeper error code onto go-zookeeper's errors, which
// wrap turns into store's.
func codeError(code int32) error {
	switch code {
	case zNoNode:
		return gozk.ErrNoNode
	case zNoAuth:
		return gozk.ErrNoAuth
	case zAuthFailed:
		return gozk.ErrAuthFailed
	case zUnimplemented:
		return errUnimplemented
	}
	return fmt.Errorf("zookeeper error code %d", code)
}

// bulkEach reads names with multiRead on a second session and calls fn as
// readEach does (entries gone meanwhile are skipped). It marks in done the
// names it dealt with, so that after an *errBulk the caller can read the
// rest another way.
func (s *Store) bulkEach(ctx context.Context, names []string, done []bool, fn func(store.Record, error) error) (err error) {
	addr := s.bulkAddr
	if addr == "" {
		addr = s.conn.Server()
	}
	b, err := dialBulk(ctx, addr, s.opts)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		if err == nil {
			b.close()
		} else {
			b.conn.Close() // a writer may be stuck on it
		}
		wg.Wait()
	}()
	go func() {
		select {
		case <-ctx.Done():
			b.conn.Close()
		case <-stop:
		}
	}()
	// Sync first: the session then sees at least what the leader had
	// committed, whichever server it is on.
	syncXid := b.xid.Add(1)
	if err := b.send(syncXid, opSync, appendString(nil, s.root)); err != nil {
		return &errBulk{err}
	}
	if err := b.expect(syncXid); err != nil {
		return s.bulkErr(ctx, err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.pingUntil(stop)
	}()

	type batch struct {
		xid   int32
		first int // index into names
		n     int
	}
	sent := make(chan batch, multiReadInFlight)
	var avgSize atomic.Int64 // bytes per record seen so far; 0 before any
	sendErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(sent)
		paths := make([]string, 0, multiReadMaxOps)
		for i := 0; i < len(names); {
			n := multiReadFirstOps
			if avg := avgSize.Load(); avg > 0 {
				n = int(min(max(multiReadTargetBytes/avg, 1), multiReadMaxOps))
			}
			n = min(n, len(names)-i)
			paths = paths[:0]
			for _, name := range names[i : i+n] {
				p, err := s.recordPath(name)
				if err != nil {
					sendErr <- &errBulk{err}
					return
				}
				paths = append(paths, p)
			}
			bt := batch{xid: b.xid.Add(1), first: i, n: n}
			if err := b.send(bt.xid, opMultiRead, multiReadRequest(paths)); err != nil {
				sendErr <- &errBulk{err}
				return
			}
			select {
			case sent <- bt:
			case <-stop:
				return
			}
			i += n
		}
	}()
	var records, bytesSeen int64
	for bt := range sent {
		xid, code, body, err := b.reply()
		if err != nil {
			return s.bulkErr(ctx, err)
		}
		if xid != bt.xid {
			return &errBulk{fmt.Errorf("answer %d where %d was due", xid, bt.xid)}
		}
		if code != 0 {
			return &errBulk{fmt.Errorf("multiRead: %w", codeError(code))}
		}
		results, err := parseMultiRead(body, bt.n)
		if err != nil {
			return &errBulk{fmt.Errorf("multiRead answer: %w", err)}
		}
		for k, res := range results {
			if err := ctx.Err(); err != nil {
				return err
			}
			i := bt.first + k
			name := names[i]
			done[i] = true
			if res.code == zNoNode {
				continue // deleted since the listing, as readEach skips it
			}
			var rec store.Record
			var rerr error
			if res.code != 0 {
				rec = store.NewRecord(name, nil)
				rerr = s.wrap("read", s.root+"/"+name, codeError(res.code))
			} else {
				rec = store.NewRecord(name, res.data)
				rec.ModTime = millis(res.mtime)
				records++
				bytesSeen += int64(len(res.data))
			}
			if err := fn(rec, rerr); err != nil {
				return err
			}
		}
		if records > 0 {
			avgSize.Store(max(bytesSeen/records, 1))
		}
	}
	select {
	case err := <-sendErr:
		return s.bulkErr(ctx, err)
	default:
	}
	return ctx.Err()
}

// expect reads the answer to xid and fails on its error code.
func (b *bulkSession) expect(xid int32) error {
	got, code, _, err := b.reply()
	switch {
	case err != nil:
		return err
	case got != xid:
		return &errBulk{fmt.Errorf("answer %d where %d was due", got, xid)}
	case code != 0:
		return &errBulk{codeError(code)}
	}
	return nil
}

// bulkErr is the context's error once it is done (the connection was
// closed for it), err otherwise.
func (s *Store) bulkErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// cursor reads jute's big-endian encoding; the first shortfall sticks.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) bytes(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b) {
		c.err = fmt.Errorf("%d bytes wanted, %d left", n, len(c.b))
		return nil
	}
	v := c.b[:n:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) int32() int32 {
	if v := c.bytes(4); v != nil {
		return int32(binary.BigEndian.Uint32(v))
	}
	return 0
}

func (c *cursor) int64() int64 {
	if v := c.bytes(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (c *cursor) bool() bool {
	if v := c.bytes(1); v != nil {
		return v[0] != 0
	}
	return false
}

// buffer reads a length-prefixed byte array; -1 is null.
func (c *cursor) buffer() []byte {
	n := c.int32()
	if c.err != nil || n == -1 {
		return nil
	}
	return c.bytes(int(n))
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendBuffer(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}
