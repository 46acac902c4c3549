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
// This file is that wire protocol and nothing else (its parser has
// FuzzParseMultiRead); bulk.go is the store's read over it.
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

	statBytes   = 68 // czxid mzxid ctime mtime version cversion aversion ephemeralOwner dataLength numChildren pzxid
	statMtime   = 24 // offset of mtime in a Stat
	statVersion = 32 // offset of the data version in a Stat
)

const (
	// multiReadMaxOps caps the getData operations of one multiRead.
	multiReadMaxOps = 64
	// multiReadFirstOps is the size of the batches sent before any record
	// size is known: small enough that even records at the server's 1 MB
	// limit fit an answer into the default MaxBufferSize.
	multiReadFirstOps = 8
	// multiReadTargetBytes is the answer size a batch aims at, counting
	// every record at the largest size seen: big enough that the
	// per-request cost vanishes, far below MaxBufferSize.
	multiReadTargetBytes = 1 << 20
	// multiReadQueued is how many multiReads may wait for their answer
	// beyond the one being answered and the one being sent, so the server
	// always has the next one.
	multiReadQueued = 8
	// closeWait bounds the goodbye: closeSession and its answer.
	closeWait = time.Second
)

// errBulk marks a failure of the bulk session, which the getData path may
// get around: the server refused or ignored multiRead, or the second
// session could not be set up or broke. bulkEach wraps each such failure
// once; the functions below return plain errors.
type errBulk struct{ err error }

func (e *errBulk) Error() string { return "multiRead session: " + e.err.Error() }
func (e *errBulk) Unwrap() error { return e.err }

// bulkErr is the context's error once it is done (cancelling closes the
// connection, so every wait on it fails), and *errBulk otherwise.
func bulkErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &errBulk{err}
}

// bulkSession is the second session. Answers come in request order, so a
// FIFO of what was sent is all the matching needed.
type bulkSession struct {
	conn    net.Conn
	r       *bufio.Reader
	wmu     sync.Mutex // one frame at a time on the wire
	xid     atomic.Int32
	timeout time.Duration // for each answer, and each write
	maxResp int
	pingGap time.Duration
	unwatch func() bool // stops closing conn when the context is done
}

// dialBulk opens a session on addr, authenticated like the store's. Until
// close, the context being done closes the connection.
func dialBulk(ctx context.Context, addr string, opts Options) (*bulkSession, error) {
	conn, err := dial(ctx, addr, opts, attemptTimeout(opts))
	if err != nil {
		return nil, err
	}
	b := &bulkSession{conn: conn, r: bufio.NewReaderSize(conn, 64<<10),
		timeout: opts.RequestTimeout, maxResp: opts.MaxBufferSize}
	b.unwatch = context.AfterFunc(ctx, func() { conn.Close() })
	if err := b.handshake(opts); err != nil {
		b.unwatch()
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
	if err := b.write(req); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if err := b.conn.SetReadDeadline(time.Now().Add(b.timeout)); err != nil {
		return err
	}
	body, err := b.readFrame()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	c := cursor{b: body}
	c.int32() // protocolVersion
	negotiated := c.int32()
	if c.err != nil || negotiated <= 0 {
		return errors.New("connect: the server refused the session")
	}
	b.pingGap = time.Duration(negotiated) * time.Millisecond / 3
	if opts.Auth != "" {
		f := request(xidAuth, opAuth, 64)
		f = binary.BigEndian.AppendUint32(f, 0)
		f = appendString(f, "digest")
		f = appendBuffer(f, []byte(opts.Auth))
		if err := b.write(f); err != nil {
			return fmt.Errorf("authenticate: %w", err)
		}
		if err := b.expect(xidAuth); err != nil {
			return fmt.Errorf("authenticate: %w", err)
		}
	}
	return nil
}

// request starts a request frame: its length (write fills it in), xid and
// type, with room for size more bytes.
func request(xid, op int32, size int) []byte {
	f := make([]byte, 12, 12+size)
	binary.BigEndian.PutUint32(f[4:], uint32(xid))
	binary.BigEndian.PutUint32(f[8:], uint32(op))
	return f
}

// write sends one frame, filling in its length.
func (b *bulkSession) write(f []byte) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return b.writeLocked(f, b.timeout)
}

// writeLocked is write, with wmu held and a deadline of its own.
func (b *bulkSession) writeLocked(f []byte, within time.Duration) error {
	binary.BigEndian.PutUint32(f, uint32(len(f)-4))
	if err := b.conn.SetWriteDeadline(time.Now().Add(within)); err != nil {
		return err
	}
	_, err := b.conn.Write(f)
	return b.netError(err)
}

// readFrame reads one length-prefixed frame, within the read deadline the
// caller set. The buffer grows with what arrives, not with what the length
// claims.
func (b *bulkSession) readFrame() ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(b.r, l[:]); err != nil {
		return nil, b.netError(err)
	}
	n := int64(int32(binary.BigEndian.Uint32(l[:])))
	if n < 0 || n > int64(b.maxResp) {
		return nil, fmt.Errorf("answer of %d bytes, above the %d bytes allowed", n, b.maxResp)
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(n, 64<<10)))
	if _, err := io.CopyN(buf, b.r, n); err != nil {
		return nil, b.netError(err)
	}
	return buf.Bytes(), nil
}

// netError names a timeout for what it is. It too is worth trying the
// getData path for: a server before 3.4.6 ignores a request it does not
// know instead of answering UNIMPLEMENTED; a server that is really gone
// fails that path within its own timeout.
func (b *bulkSession) netError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &timeoutError{after: b.timeout}
	}
	return err
}

// reply reads the next answer other than a ping's, within one request
// timeout however many pings come first: its xid, error code and body.
func (b *bulkSession) reply() (xid, code int32, body []byte, err error) {
	if err := b.conn.SetReadDeadline(time.Now().Add(b.timeout)); err != nil {
		return 0, 0, nil, err
	}
	for {
		f, err := b.readFrame()
		if err != nil {
			return 0, 0, nil, err
		}
		c := cursor{b: f}
		xid, _, code = c.int32(), c.int64(), c.int32()
		if c.err != nil {
			return 0, 0, nil, fmt.Errorf("answer header: %w", c.err)
		}
		if xid != xidPing {
			return xid, code, c.b, nil
		}
	}
}

// expect reads the answer to xid and fails on its error code.
func (b *bulkSession) expect(xid int32) error {
	got, code, _, err := b.reply()
	switch {
	case err != nil:
		return err
	case got != xid:
		return fmt.Errorf("answer %d where %d was due", got, xid)
	case code != 0:
		return codeError(code)
	}
	return nil
}

// close closes the connection. On a healthy session it first ends the
// session with closeSession, which frees it on the server at once rather
// than after its timeout, when the line allows within closeWait (not while
// a write is stuck on it).
func (b *bulkSession) close(healthy bool) {
	defer b.conn.Close()
	b.unwatch()
	if !healthy || !b.wmu.TryLock() {
		return
	}
	xid := b.xid.Add(1)
	err := b.writeLocked(request(xid, opCloseSession, 0), closeWait)
	b.wmu.Unlock()
	if err != nil || b.conn.SetReadDeadline(time.Now().Add(closeWait)) != nil {
		return
	}
	// Answers still on their way come first; wait for the goodbye so that
	// closing does not reset the line before the server has it.
	for {
		f, err := b.readFrame()
		if err != nil || len(f) >= 4 && int32(binary.BigEndian.Uint32(f)) == xid {
			return
		}
	}
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
			if b.write(request(xidPing, opPing, 0)) != nil {
				return
			}
		}
	}
}

// multiReadRequest is the multiRead frame of getData (no watch) of every
// path.
func multiReadRequest(xid int32, paths []string) []byte {
	n := 9
	for _, p := range paths {
		n += 9 + 4 + len(p) + 1
	}
	f := request(xid, opMultiRead, n)
	for _, p := range paths {
		f = appendMultiHeader(f, opGetData, false, -1)
		f = appendString(f, p)
		f = append(f, 0)
	}
	return appendMultiHeader(f, -1, true, -1)
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
	data    []byte
	mtime   int64
	version int32
	code    int32
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
			out = append(out, multiReadResult{data: data, mtime: int64(binary.BigEndian.Uint64(st[statMtime:])),
				version: int32(binary.BigEndian.Uint32(st[statVersion:]))})
		case opError:
			code := c.int32()
			if c.err != nil {
				return nil, c.err
			}
			if code == 0 {
				return nil, errors.New("error result without an error code")
			}
			out = append(out, multiReadResult{code: code})
		default:
			return nil, fmt.Errorf("result of operation %d in a multiRead answer", op)
		}
	}
	if len(out) != want {
		return nil, fmt.Errorf("%d results for %d operations", len(out), want)
	}
	if len(c.b) > 0 {
		return nil, fmt.Errorf("%d bytes after the last result", len(c.b))
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
