package zk_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/storetest"
	"github.com/recoverctl/recoverctl/store/zk"
)

// writeRecords stores n records of varied sizes (one empty, one near the
// server's 1 MB limit, so that batches must shrink) and returns them.
func writeRecords(t *testing.T, s *zk.Store, n int) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	var batch []store.Record
	flush := func() {
		if err := put(t.Context(), s, batch...); err != nil {
			t.Fatal(err)
		}
		batch = nil
	}
	for i := range n {
		size := 500 + (i*7919)%6000
		switch i {
		case 3:
			size = 0
		case n / 2:
			size = 900 << 10
		}
		r := store.NewRecord(fmt.Sprintf("app_m-%05d", i), storetest.Payload(uint64(i), size))
		want[r.Name] = r.Data
		if size > 100<<10 {
			if err := put(t.Context(), s, r); err != nil {
				t.Fatal(err)
			}
			continue
		}
		batch = append(batch, r)
		if len(batch) == 100 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	// Some records changed after they were created, so that mtime and
	// ctime differ.
	time.Sleep(20 * time.Millisecond)
	for i := range min(n, 10) {
		r := store.NewRecord(fmt.Sprintf("app_m-%05d", i), storetest.Payload(uint64(n+i), 100))
		old, err := s.Read(t.Context(), r.Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(t.Context(), []store.Op{{Kind: store.OpReplace, Record: r, SeenVersion: old.Version}}); err != nil {
			t.Fatal(err)
		}
		want[r.Name] = r.Data
	}
	return want
}

// eachRecord collects what EachRecord delivers, failing on a name seen twice.
func eachRecord(t *testing.T, s *zk.Store) (map[string]store.Record, map[string]error, error) {
	t.Helper()
	recs, errs := map[string]store.Record{}, map[string]error{}
	// A read that hangs fails the test instead of stalling the run.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := s.EachRecord(ctx, func(rec store.Record, err error) error {
		if _, dup := recs[rec.Name]; dup {
			t.Errorf("%s delivered twice", rec.Name)
		}
		if _, dup := errs[rec.Name]; dup {
			t.Errorf("%s delivered twice", rec.Name)
		}
		if err != nil {
			errs[rec.Name] = err
		} else {
			recs[rec.Name] = rec
		}
		return nil
	})
	return recs, errs, err
}

// readsAll checks that EachRecord delivers every record of want, once.
func readsAll(t *testing.T, s *zk.Store, want map[string][]byte) {
	t.Helper()
	got, errs, err := eachRecord(t, s)
	if err != nil || len(errs) > 0 {
		t.Fatalf("EachRecord: %v, %v", err, errs)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name].Data, data) {
			t.Errorf("%s: data differs", name)
		}
	}
}

// packetsReceived is the server's own count of requests ("Received" of srvr).
func packetsReceived(t *testing.T, addr string) int {
	t.Helper()
	out, err := zktest.FourLetterWord(addr, "srvr", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Received: (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no Received count in srvr: %s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// With multiRead, EachRecord gives exactly what one getData per znode
// gives (data, size, mtime), under a chroot and a non-default dir, and the
// server sees a small fraction of the requests.
func TestEachRecordMultiRead(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	opts := zk.Options{Servers: srv.Addr() + "/tenant", SparkDir: unique("mr")}
	s := open(t, opts)
	want := writeRecords(t, s, 1500)

	before := packetsReceived(t, srv.Addr())
	got, errs, err := eachRecord(t, s)
	requests := packetsReceived(t, srv.Addr()) - before
	if err != nil || len(errs) > 0 {
		t.Fatalf("EachRecord: %v, record errors %v", err, errs)
	}
	if err := s.MultiReadFailed(); err != nil {
		t.Fatalf("ZooKeeper %s has multiRead, but EachRecord fell back: %v", srv.Addr(), err)
	}
	t.Logf("%d records in %d requests", len(want), requests)
	if requests > len(want)/10 {
		t.Errorf("the server received %d requests for %d records; multiRead should need a few dozen", requests, len(want))
	}

	opts.NoMultiRead = true
	single, _, err := eachRecord(t, open(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(single) != len(want) {
		t.Fatalf("multiRead gave %d records, getData %d, written %d", len(got), len(single), len(want))
	}
	for name, data := range want {
		g, s := got[name], single[name]
		if !bytes.Equal(g.Data, data) {
			t.Errorf("%s: multiRead data differs (%d bytes, want %d)", name, len(g.Data), len(data))
		}
		if g.Size != s.Size || !g.ModTime.Equal(s.ModTime) || g.Kind != s.Kind || g.ID != s.ID {
			t.Errorf("%s: multiRead entry %+v, getData %+v", name, g.Entry, s.Entry)
		}
	}
}

// A record the session may not read is an error of its own; the others
// still come, and with the digest identity all of them do.
func TestEachRecordMultiReadACL(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	dir := unique("mracl")
	owner := open(t, zk.Options{Servers: srv.Addr(), SparkDir: dir, Auth: "spark:secret"})
	stranger := open(t, zk.Options{Servers: srv.Addr(), SparkDir: dir})
	if err := put(t.Context(), stranger, store.NewRecord("app_public", []byte("p"))); err != nil {
		t.Fatal(err)
	}
	secret := store.NewRecord("app_secret", []byte("s"))
	secret.ACL = []store.ACL{{Perms: zk.PermAll, Scheme: "auth"}} // the owner's digest identity
	if err := put(t.Context(), owner, secret); err != nil {
		t.Fatal(err)
	}

	recs, errs, err := eachRecord(t, stranger)
	if err != nil {
		t.Fatal(err)
	}
	if string(recs["app_public"].Data) != "p" || !errors.Is(errs["app_secret"], zk.ErrPermission) {
		t.Fatalf("without auth: records %v, errors %v; want app_public and ErrPermission for app_secret", recs, errs)
	}
	recs, errs, err = eachRecord(t, owner)
	if err != nil || len(errs) > 0 || string(recs["app_secret"].Data) != "s" || string(recs["app_public"].Data) != "p" {
		t.Fatalf("with auth: %v, records %v, errors %v", err, recs, errs)
	}
	if owner.MultiReadFailed() != nil || stranger.MultiReadFailed() != nil {
		t.Fatalf("fell back: %v / %v", owner.MultiReadFailed(), stranger.MultiReadFailed())
	}
}

// A server without multiRead (ZooKeeper 3.4 and 3.5 answer UNIMPLEMENTED
// and close the session) costs nothing but the attempt: every record comes
// once, through getData.
func TestEachRecordFallsBackWithoutMultiRead(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: unique("mrold")})
	want := writeRecords(t, s, 300)
	zk.SetBulkAddr(s, fakeOldServer(t, true))
	readsAll(t, s, want)
	if err := s.MultiReadFailed(); err == nil || !regexp.MustCompile(`not implemented`).MatchString(err.Error()) {
		t.Fatalf("MultiReadFailed = %v, want the server's UNIMPLEMENTED", err)
	}
}

// On a real ZooKeeper from before multiRead, the server's own UNIMPLEMENTED
// turns EachRecord to getData, and every record comes once.
func TestEachRecordOnZooKeeperWithoutMultiRead(t *testing.T) {
	t.Parallel()
	srv := zktest.StartRelease(t, zktest.OldRelease)
	out, err := zktest.FourLetterWord(srv.Addr(), "srvr", 5*time.Second)
	if err != nil || !strings.Contains(string(out), "version: "+zktest.OldRelease) {
		t.Fatalf("srvr of the old server: %v, %s", err, out)
	}
	s := open(t, zk.Options{Servers: srv.Addr() + "/old", SparkDir: unique("mr35")})
	want := writeRecords(t, s, 300)
	readsAll(t, s, want)
	if err := s.MultiReadFailed(); err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Fatalf("MultiReadFailed = %v, want the server's UNIMPLEMENTED", err)
	}
}

// An answer above MaxBufferSize is refused, and the records are read
// with getData, each of which fits.
func TestEachRecordAnswerTooLarge(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: unique("mrbig"), MaxBufferSize: 2 << 20})
	want := map[string][]byte{}
	for i := range 20 {
		r := store.NewRecord(fmt.Sprintf("app_big-%02d", i), storetest.Payload(uint64(i), 300<<10))
		if err := put(t.Context(), s, r); err != nil {
			t.Fatal(err)
		}
		want[r.Name] = r.Data
	}
	readsAll(t, s, want)
	if err := s.MultiReadFailed(); err == nil || !strings.Contains(err.Error(), "above the") {
		t.Fatalf("MultiReadFailed = %v, want the answer refused for its size", err)
	}
}

// Cancelling while the second session is still being set up ends the
// read at once, without falling back.
func TestEachRecordCancelDuringConnect(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: unique("mrhang"), RequestTimeout: 10 * time.Second})
	writeRecords(t, s, 10)
	zk.SetBulkAddr(s, listen(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })) // never answers
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := s.EachRecord(ctx, func(store.Record, error) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("EachRecord: %v, want the context's deadline", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("EachRecord took %s after its context ended", d)
	}
	if err := s.MultiReadFailed(); err != nil {
		t.Fatalf("a cancelled read is no reason to fall back: %v", err)
	}
}

// Cancelling the context stops the read at once: no record after it.
func TestEachRecordMultiReadCancel(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: unique("mrcancel")})
	writeRecords(t, s, 1000)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	err := s.EachRecord(ctx, func(store.Record, error) error {
		calls++
		if calls == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 10 {
		t.Fatalf("EachRecord cancelled at the 10th record: %v after %d records", err, calls)
	}
	if err := s.MultiReadFailed(); err != nil {
		t.Fatalf("a cancelled read is no reason to fall back: %v", err)
	}
}

// A session that breaks after some answers: those records are not read
// again, the rest come through getData.
func TestEachRecordMultiReadBreaksMidway(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: unique("mrcut")})
	want := writeRecords(t, s, 800)
	// Answers: connect, sync, then two multiReads; then the line drops.
	zk.SetBulkAddr(s, cuttingProxy(t, srv.Addr(), 4))
	readsAll(t, s, want)
	if s.MultiReadFailed() == nil {
		t.Fatal("the cut went unnoticed")
	}
}

// A server frozen in the middle of the read: the multiRead session waits
// out one request timeout, the getData path another, and the read fails
// as unavailable, having delivered no record twice.
func TestEachRecordServerFreezesMidway(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: unique("mrstop"), RequestTimeout: 2 * time.Second})
	writeRecords(t, s, 1500)
	pid := srv.Pid()
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	var begin time.Time
	seen := map[string]bool{}
	err := s.EachRecord(t.Context(), func(rec store.Record, err error) error {
		if begin.IsZero() {
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			begin = time.Now()
		}
		if seen[rec.Name] {
			t.Errorf("%s delivered twice", rec.Name)
		}
		seen[rec.Name] = true
		return err
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("EachRecord of a server frozen midway: %v, want ErrUnavailable", err)
	}
	if d := time.Since(begin); d > 3500*time.Millisecond {
		t.Fatalf("EachRecord went on for %s after the server froze, want one 2 s request timeout and a margin: the getData path must not wait again", d)
	}
	if len(seen) >= 1500 {
		t.Fatalf("all %d records delivered from a frozen server", len(seen))
	}
}

// A server before 3.4.6 does not answer a request it does not know, but
// answers pings: after one request timeout, which the pings do not
// prolong, the read goes on with getData.
func TestEachRecordFallsBackFromSilentServer(t *testing.T) {
	t.Parallel()
	srv := zktest.Start(t)
	s := open(t, zk.Options{Servers: srv.Addr(), SparkDir: unique("mrsilent"), RequestTimeout: 2 * time.Second})
	want := writeRecords(t, s, 50)
	zk.SetBulkAddr(s, fakeOldServer(t, false))
	readsAll(t, s, want)
	if err := s.MultiReadFailed(); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("MultiReadFailed = %v, want a timeout", err)
	}
}

// listen serves each connection to a loopback address with handle, on
// its own goroutine, until the test ends; the connection is closed after.
func listen(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// fakeOldServer answers like ZooKeeper 3.4.6 to 3.5 to a client that asks
// for multiRead: it accepts the session and sync, then answers
// UNIMPLEMENTED and closes the connection; or, with answer false, like
// older servers, which drop what they do not know and go on answering
// pings. Its sessions last 1.5 s, so the client pings every 0.5 s.
func fakeOldServer(t *testing.T, answer bool) string {
	return listen(t, func(c net.Conn) {
		if _, err := readFrame(c); err != nil {
			return
		}
		resp := binary.BigEndian.AppendUint32(nil, 0)    // protocolVersion
		resp = binary.BigEndian.AppendUint32(resp, 1500) // timeOut
		resp = binary.BigEndian.AppendUint64(resp, 1)    // sessionId
		resp = binary.BigEndian.AppendUint32(resp, 16)   // passwd
		resp = append(resp, make([]byte, 17)...)         // passwd bytes, readOnly
		writeFrame(c, resp)
		for {
			f, err := readFrame(c)
			if err != nil || len(f) < 8 {
				return
			}
			xid, op := binary.BigEndian.Uint32(f), int32(binary.BigEndian.Uint32(f[4:]))
			code := uint32(0)
			if op != 9 && op != 11 { // sync and ping are known
				if !answer {
					continue
				}
				code = uint32(0xfffffffa) // UNIMPLEMENTED (-6)
			}
			hdr := binary.BigEndian.AppendUint32(nil, xid)
			hdr = binary.BigEndian.AppendUint64(hdr, 0)
			hdr = binary.BigEndian.AppendUint32(hdr, code)
			if op == 9 {
				hdr = append(hdr, f[8:]...) // the path back
			}
			writeFrame(c, hdr)
			if code != 0 {
				return
			}
		}
	})
}

// cuttingProxy forwards to addr and closes each connection after passing
// on `frames` answers.
func cuttingProxy(t *testing.T, addr string, frames int) string {
	return listen(t, func(c net.Conn) {
		up, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		defer up.Close()
		go func() { _, _ = io.Copy(up, c) }()
		for range frames {
			f, err := readFrame(up)
			if err != nil {
				return
			}
			writeFrame(c, f)
		}
	})
}

func readFrame(r io.Reader) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	f := make([]byte, binary.BigEndian.Uint32(l[:]))
	_, err := io.ReadFull(r, f)
	return f, err
}

func writeFrame(w io.Writer, f []byte) {
	_, _ = w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(f))), f...))
}
