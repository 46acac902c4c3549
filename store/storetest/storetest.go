// Package storetest is the conformance suite every store.Store must pass,
// so that migrate and backup can rely on the interface rather than on one
// back end's habits. It is imported by tests only.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/recoverctl/recoverctl/store"
)

// NewStore returns a fresh, empty store, and a way to open a second handle
// on the same store (another writer's); both register their own cleanup.
type NewStore func(t *testing.T) (s store.Store, reopen func(t *testing.T) store.Store)

// Run runs the suite; each subtest gets a fresh store from newStore.
func Run(t *testing.T, newStore NewStore) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"EmptyList", testEmptyList},
		{"WriteRead", testWriteRead},
		{"Replace", testReplace},
		{"ReplaceChanged", testReplaceChanged},
		{"CreateNeverOverwrites", testCreateNeverOverwrites},
		{"ListSortedWithKinds", testListSortedWithKinds},
		{"Batch", testBatch},
		{"BatchFailsAtomicOrPrefix", testBatchFailure},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"InvalidNames", testInvalidNames},
		{"Cancelled", testCancelled},
		{"ScanAll", testScanAll},
		{"ScanNames", testScanNames},
		{"ScanStops", testScanStops},
		{"ScanMany", testScanMany},
		{"TooLarge", testTooLarge},
		{"Lock", nil},
		{"String", testString},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, reopen := newStore(t)
			if tc.fn == nil {
				testLock(t, s, reopen(t))
				return
			}
			tc.fn(t, s)
		})
	}
}

// Payload returns n deterministic pseudo-random bytes that start like a
// Java serialization stream, so a store that mangles binary data (NULs,
// high bytes) shows it.
func Payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	copy(b, []byte{0xac, 0xed, 0x00, 0x05, 0x73, 0x72})
	return b
}

// Create writes recs as creates, in batches the store takes: how tests
// fill a store.
func Create(t testing.TB, s store.Store, recs ...store.Record) {
	t.Helper()
	var ops []store.Op
	cost := 0
	flush := func() {
		if len(ops) == 0 {
			return
		}
		if err := s.Apply(context.Background(), ops); err != nil {
			t.Fatalf("create %d records from %s: %v", len(ops), ops[0].Record.Name, err)
		}
		ops, cost = nil, 0
	}
	for _, r := range recs {
		op := store.Op{Kind: store.OpCreate, Record: r}
		if c := s.Cost(op); len(ops) > 0 && cost+c > s.MaxBatch() {
			flush()
		}
		ops = append(ops, op)
		cost += s.Cost(op)
	}
	flush()
}

// Replace writes rec over the record of that name as the store holds it
// now: how tests change a record under a command's feet.
func Replace(t testing.TB, s store.Store, rec store.Record) {
	t.Helper()
	cur, err := s.Read(context.Background(), rec.Name)
	if err != nil {
		t.Fatalf("replace %s: %v", rec.Name, err)
	}
	op := store.Op{Kind: store.OpReplace, Record: rec, SeenVersion: cur.Version, SeenSHA256: sha256.Sum256(cur.Data)}
	if err := s.Apply(context.Background(), []store.Op{op}); err != nil {
		t.Fatalf("replace %s: %v", rec.Name, err)
	}
}

// seen returns the op conditions for the record as the store holds it.
func seen(t *testing.T, s store.Store, name string) (int64, [32]byte) {
	t.Helper()
	rec, err := s.Read(t.Context(), name)
	if err != nil {
		t.Fatalf("Read %s: %v", name, err)
	}
	return rec.Version, sha256.Sum256(rec.Data)
}

func replace(t *testing.T, s store.Store, rec store.Record) error {
	t.Helper()
	v, sum := seen(t, s, rec.Name)
	return s.Apply(t.Context(), []store.Op{{Kind: store.OpReplace, Record: rec, SeenVersion: v, SeenSHA256: sum}})
}

func remove(t *testing.T, s store.Store, name string) error {
	t.Helper()
	rec, err := s.Read(t.Context(), name)
	if err != nil {
		return err
	}
	return s.Apply(t.Context(), []store.Op{{Kind: store.OpDelete, Record: store.Record{Entry: store.Entry{Name: name}},
		SeenVersion: rec.Version, SeenSHA256: sha256.Sum256(rec.Data)}})
}

func testEmptyList(t *testing.T, s store.Store) {
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 0 {
		t.Fatalf("fresh store lists %d entries: %v", len(es), es)
	}
}

func checkRead(t *testing.T, s store.Store, name string, want []byte) {
	t.Helper()
	rec, err := s.Read(t.Context(), name)
	if err != nil {
		t.Fatalf("Read %s: %v", name, err)
	}
	if !bytes.Equal(rec.Data, want) {
		t.Fatalf("Read %s: %d bytes differ from the %d written", name, len(rec.Data), len(want))
	}
	kind, id := store.ParseName(name)
	if rec.Name != name || rec.Kind != kind || rec.ID != id || rec.Size != int64(len(want)) {
		t.Fatalf("Read %s: entry %+v, want name %s kind %v id %q size %d", name, rec.Entry, name, kind, id, len(want))
	}
}

var writeReadCases = map[string][]byte{
	"app_app-20240102150405-0000":                       Payload(1, 2600),
	"driver_driver-20240102150405-0001":                 Payload(2, 1800),
	"worker_worker-20240102150405-10.0.0.1-35000":       Payload(3, 3100),
	"app_app-with_underscores.and.dots-0001":            Payload(4, 17),
	"app_empty":                                         {},
	"app_zeros":                                         make([]byte, 512),
	"worker_worker-20240102150405-host.example.com-123": Payload(5, 64<<10),
}

func testWriteRead(t *testing.T, s store.Store) {
	for name, data := range writeReadCases {
		Create(t, s, store.NewRecord(name, data))
	}
	for name, data := range writeReadCases {
		checkRead(t, s, name, data)
	}
}

func testReplace(t *testing.T, s store.Store) {
	name := "app_app-20240102150405-0007"
	Create(t, s, store.NewRecord(name, Payload(10, 4000)))
	shorter := Payload(11, 100)
	if err := replace(t, s, store.NewRecord(name, shorter)); err != nil {
		t.Fatal(err)
	}
	checkRead(t, s, name, shorter)
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Size != int64(len(shorter)) {
		t.Fatalf("after replace List = %+v, want one entry of %d bytes", es, len(shorter))
	}
}

// testReplaceChanged: a replace or delete planned on one state of a
// record fails once the record changed, and changes nothing.
func testReplaceChanged(t *testing.T, s store.Store) {
	name := "app_app-20240102150405-0008"
	Create(t, s, store.NewRecord(name, Payload(20, 300)))
	v, sum := seen(t, s, name)
	if err := replace(t, s, store.NewRecord(name, Payload(21, 300))); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []store.OpKind{store.OpReplace, store.OpDelete} {
		err := s.Apply(t.Context(), []store.Op{{Kind: kind, Record: store.NewRecord(name, Payload(22, 300)), SeenVersion: v, SeenSHA256: sum}})
		var oe *store.OpError
		if !errors.Is(err, store.ErrChanged) || !errors.As(err, &oe) || oe.Name != name || oe.Index != 0 {
			t.Fatalf("%v planned on the old record: %v, want an *OpError with ErrChanged", kind, err)
		}
		checkRead(t, s, name, Payload(21, 300))
	}
	if err := s.Apply(t.Context(), []store.Op{{Kind: store.OpReplace, Record: store.NewRecord("app_gone", []byte("x")), SeenVersion: 0}}); !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrChanged) {
		t.Fatalf("replace of an absent record: %v, want ErrNotFound or ErrChanged", err)
	}
}

func testCreateNeverOverwrites(t *testing.T, s store.Store) {
	name := "app_app-20240102150405-0009"
	Create(t, s, store.NewRecord(name, Payload(30, 200)))
	err := s.Apply(t.Context(), []store.Op{{Kind: store.OpCreate, Record: store.NewRecord(name, Payload(31, 200))}})
	var oe *store.OpError
	if !errors.Is(err, store.ErrExists) || !errors.As(err, &oe) || oe.Name != name {
		t.Fatalf("create over an existing record: %v, want an *OpError with ErrExists", err)
	}
	checkRead(t, s, name, Payload(30, 200))
}

func testListSortedWithKinds(t *testing.T, s store.Store) {
	want := map[string]store.Kind{
		"worker_w-1":  store.KindWorker,
		"app_a-2":     store.KindApp,
		"driver_d-1":  store.KindDriver,
		"app_a-1":     store.KindApp,
		"notes.txt":   store.KindForeign,
		"app_":        store.KindForeign, // prefix without an id
		"application": store.KindForeign,
		"Worker_x":    store.KindForeign, // prefixes are case-sensitive
	}
	sizes := map[string]int{}
	i := 0
	for name := range want {
		i++
		sizes[name] = 10 * i
		Create(t, s, store.NewRecord(name, Payload(uint64(i), 10*i)))
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
		k, ok := want[e.Name]
		if !ok {
			t.Errorf("List has unexpected %q", e.Name)
			continue
		}
		if e.Kind != k {
			t.Errorf("%s: kind %v, want %v", e.Name, e.Kind, k)
		}
		if e.Size != int64(sizes[e.Name]) {
			t.Errorf("%s: size %d, want %d", e.Name, e.Size, sizes[e.Name])
		}
		if e.ModTime.IsZero() {
			t.Errorf("%s: zero ModTime", e.Name)
		}
	}
	if len(es) != len(want) {
		t.Errorf("List has %d entries, want %d: %v", len(es), len(want), names)
	}
	if !slices.IsSorted(names) {
		t.Errorf("List not sorted by name: %v", names)
	}
}

func testBatch(t *testing.T, s store.Store) {
	Create(t, s, store.NewRecord("app_b-0", Payload(99, 50)), store.NewRecord("app_b-1", Payload(98, 50)))
	v0, sum0 := seen(t, s, "app_b-0")
	v1, sum1 := seen(t, s, "app_b-1")
	ops := []store.Op{
		{Kind: store.OpReplace, Record: store.NewRecord("app_b-0", Payload(100, 2600)), SeenVersion: v0, SeenSHA256: sum0},
		{Kind: store.OpDelete, Record: store.NewRecord("app_b-1", nil), SeenVersion: v1, SeenSHA256: sum1},
	}
	for i := 2; i < 50; i++ {
		ops = append(ops, store.Op{Kind: store.OpCreate, Record: store.NewRecord(fmt.Sprintf("app_b-%d", i), Payload(uint64(100+i), 2600))})
	}
	if err := s.Apply(t.Context(), ops); err != nil {
		t.Fatal(err)
	}
	checkRead(t, s, "app_b-0", Payload(100, 2600))
	for i := 2; i < 50; i++ {
		checkRead(t, s, fmt.Sprintf("app_b-%d", i), Payload(uint64(100+i), 2600))
	}
	if _, err := s.Read(t.Context(), "app_b-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted in the batch: %v", err)
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 49 {
		t.Fatalf("List has %d entries after the batch, want 49", len(es))
	}
	if err := s.Apply(t.Context(), nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

// testBatchFailure: a batch whose third change fails leaves either
// nothing (a transaction) or exactly the changes before it, as
// OpError.Applied says, and never the changes after it.
func testBatchFailure(t *testing.T, s store.Store) {
	Create(t, s, store.NewRecord("app_f-2", Payload(1, 10)))
	var ops []store.Op
	for i := range 5 {
		ops = append(ops, store.Op{Kind: store.OpCreate, Record: store.NewRecord(fmt.Sprintf("app_f-%d", i), Payload(uint64(10+i), 100))})
	}
	err := s.Apply(t.Context(), ops)
	var oe *store.OpError
	if !errors.As(err, &oe) || oe.Index != 2 || !errors.Is(err, store.ErrExists) {
		t.Fatalf("batch with an existing name third: %v, want *OpError at 2 with ErrExists", err)
	}
	if oe.Applied != 0 && oe.Applied != 2 {
		t.Fatalf("Applied = %d, want 0 or 2", oe.Applied)
	}
	for i := range 5 {
		name := fmt.Sprintf("app_f-%d", i)
		_, rerr := s.Read(t.Context(), name)
		switch {
		case i == 2:
			checkRead(t, s, name, Payload(1, 10))
		case i < oe.Applied:
			checkRead(t, s, name, Payload(uint64(10+i), 100))
		case !errors.Is(rerr, store.ErrNotFound):
			t.Errorf("%s: %v after a failed batch that applied %d, want ErrNotFound", name, rerr, oe.Applied)
		}
	}
}

func testDelete(t *testing.T, s store.Store) {
	Create(t, s, store.NewRecord("driver_d-1", Payload(1, 10)), store.NewRecord("driver_d-2", Payload(2, 10)))
	if err := remove(t, s, "driver_d-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(t.Context(), "driver_d-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Read after delete: %v, want ErrNotFound", err)
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name != "driver_d-2" {
		t.Fatalf("List after delete = %+v", es)
	}
	err = s.Apply(t.Context(), []store.Op{{Kind: store.OpDelete, Record: store.NewRecord("driver_d-1", nil)}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	_, err := s.Read(t.Context(), "app_missing")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Read missing: %v, want ErrNotFound", err)
	}
}

func testInvalidNames(t *testing.T, s store.Store) {
	for _, name := range []string{"", ".", "..", "app_a/b", "app_\x00"} {
		if err := s.Apply(t.Context(), []store.Op{{Kind: store.OpCreate, Record: store.NewRecord(name, []byte("x"))}}); err == nil {
			t.Errorf("create %q succeeded", name)
		}
		if _, err := s.Read(t.Context(), name); err == nil || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Read %q: %v, want an invalid-name error", name, err)
		}
		if err := s.Apply(t.Context(), []store.Op{{Kind: store.OpDelete, Record: store.NewRecord(name, nil)}}); err == nil {
			t.Errorf("delete %q succeeded", name)
		}
	}
	if err := s.Apply(t.Context(), []store.Op{{Kind: store.OpCreate, Record: store.NewRecord("app_ok", []byte("x"))},
		{Kind: store.OpCreate, Record: store.NewRecord("a/b", []byte("x"))}}); err == nil {
		t.Error("a batch with an invalid name succeeded")
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 0 {
		t.Errorf("List has %v after a batch refused for an invalid name", es)
	}
}

func testCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Apply(ctx, []store.Op{{Kind: store.OpCreate, Record: store.NewRecord("app_d", []byte("x"))}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with cancelled ctx: %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with cancelled ctx: %v, want context.Canceled", err)
	}
	if _, err := s.Read(ctx, "app_c"); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with cancelled ctx: %v, want context.Canceled", err)
	}
	if err := s.Scan(ctx, store.ScanRequest{Names: []string{"app_c"}}, func(store.Record, error) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with cancelled ctx: %v, want context.Canceled", err)
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 0 {
		t.Fatalf("cancelled writes left %v", es)
	}
}

// scanAll collects what Scan gives, checking fn is never called twice for
// a name nor concurrently.
func scanAll(t *testing.T, s store.Store, req store.ScanRequest) (map[string]store.Record, map[string]error) {
	t.Helper()
	recs, errs := map[string]store.Record{}, map[string]error{}
	var inside atomic.Int32
	err := s.Scan(t.Context(), req, func(rec store.Record, err error) error {
		if inside.Add(1) != 1 {
			t.Error("Scan called fn concurrently")
		}
		defer inside.Add(-1)
		if _, dup := recs[rec.Name]; dup {
			t.Errorf("Scan gave %s twice", rec.Name)
		}
		if _, dup := errs[rec.Name]; dup {
			t.Errorf("Scan gave %s twice", rec.Name)
		}
		if err != nil {
			errs[rec.Name] = err
		} else {
			recs[rec.Name] = rec
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return recs, errs
}

func testScanAll(t *testing.T, s store.Store) {
	for name, data := range writeReadCases {
		Create(t, s, store.NewRecord(name, data))
	}
	Create(t, s, store.NewRecord("notes.txt", []byte("foreign")))
	for _, acl := range []bool{false, true} {
		recs, errs := scanAll(t, s, store.ScanRequest{ACL: acl})
		if len(errs) != 0 {
			t.Fatalf("Scan errors: %v", errs)
		}
		if len(recs) != len(writeReadCases)+1 {
			t.Fatalf("Scan (ACL %v) gave %d records, want %d", acl, len(recs), len(writeReadCases)+1)
		}
		for name, data := range writeReadCases {
			r := recs[name]
			kind, id := store.ParseName(name)
			if !bytes.Equal(r.Data, data) || r.Size != int64(len(data)) || r.Kind != kind || r.ID != id || r.ModTime.IsZero() {
				t.Errorf("Scan %s: %+v, %d bytes; want %d bytes, kind %v", name, r.Entry, len(r.Data), len(data), kind)
			}
		}
		if recs["notes.txt"].Kind != store.KindForeign {
			t.Errorf("foreign entry: %+v", recs["notes.txt"].Entry)
		}
	}
}

func testScanNames(t *testing.T, s store.Store) {
	Create(t, s, store.NewRecord("app_s-1", Payload(1, 100)), store.NewRecord("app_s-2", Payload(2, 200)), store.NewRecord("app_s-3", Payload(3, 300)))
	recs, errs := scanAll(t, s, store.ScanRequest{Names: []string{"app_s-3", "app_absent", "app_s-1"}})
	if len(recs) != 2 || !bytes.Equal(recs["app_s-1"].Data, Payload(1, 100)) || !bytes.Equal(recs["app_s-3"].Data, Payload(3, 300)) {
		t.Fatalf("Scan of two names gave %d records", len(recs))
	}
	if len(errs) != 1 || !errors.Is(errs["app_absent"], store.ErrNotFound) {
		t.Fatalf("Scan of an absent name: %v, want ErrNotFound for it", errs)
	}
	// The version a scan reports is the condition a replace needs.
	r := recs["app_s-1"]
	err := s.Apply(t.Context(), []store.Op{{Kind: store.OpReplace, Record: store.NewRecord("app_s-1", Payload(9, 10)), SeenVersion: r.Version, SeenSHA256: sha256.Sum256(r.Data)}})
	if err != nil {
		t.Fatalf("replace at the scanned version: %v", err)
	}
}

func testScanStops(t *testing.T, s store.Store) {
	var recs []store.Record
	for i := range 40 {
		recs = append(recs, store.NewRecord(fmt.Sprintf("app_x-%02d", i), Payload(uint64(i), 50)))
	}
	Create(t, s, recs...)
	stop := errors.New("enough")
	calls := 0
	err := s.Scan(t.Context(), store.ScanRequest{}, func(store.Record, error) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("Scan after fn's error: %v after %d calls, want fn's error after 3", err, calls)
	}
}

// testScanMany: enough records that a store's bulk path (many per
// request, several readers) is what runs, every one delivered once.
func testScanMany(t *testing.T, s store.Store) {
	var recs []store.Record
	for i := range 600 {
		recs = append(recs, store.NewRecord(fmt.Sprintf("app_many-%04d", i), Payload(uint64(i), 100+i*7%3000)))
	}
	Create(t, s, recs...)
	got, errs := scanAll(t, s, store.ScanRequest{})
	if len(errs) != 0 || len(got) != len(recs) {
		t.Fatalf("Scan of %d records: %d records, errors %v", len(recs), len(got), errs)
	}
	for _, r := range recs {
		if !bytes.Equal(got[r.Name].Data, r.Data) {
			t.Fatalf("%s differs", r.Name)
		}
	}
}

func testTooLarge(t *testing.T, s store.Store) {
	if s.MaxChange() < s.MaxBatch() {
		t.Fatalf("MaxChange %d below MaxBatch %d", s.MaxChange(), s.MaxBatch())
	}
	over := store.Op{Kind: store.OpCreate, Record: store.NewRecord("app_over", make([]byte, s.MaxChange()+1))}
	if err := s.Apply(t.Context(), []store.Op{over}); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("one change over MaxChange: %v, want ErrTooLarge", err)
	}
	if _, err := s.Read(t.Context(), "app_over"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused change was written: %v", err)
	}
	big := store.Op{Kind: store.OpCreate, Record: store.NewRecord("app_big", make([]byte, 2<<20+s.MaxBatch()))}
	if s.Cost(big) <= s.MaxBatch() {
		t.Fatalf("Cost %d of a record larger than MaxBatch %d", s.Cost(big), s.MaxBatch())
	}
	err := s.Apply(t.Context(), []store.Op{big})
	if !errors.Is(err, store.ErrTooLarge) {
		// A directory may take any one file; then it must be whole.
		if err != nil {
			t.Fatalf("one change over MaxBatch: %v, want ErrTooLarge or success", err)
		}
		checkRead(t, s, "app_big", big.Record.Data)
	}
}

func testLock(t *testing.T, a, b store.Store) {
	if a.String() != b.String() {
		t.Fatalf("NewStore gave two stores: %s and %s", a, b)
	}
	unlock, err := a.Lock(t.Context(), "storetest a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(t.Context(), "storetest b"); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second writer's Lock: %v, want ErrLocked", err)
	}
	Create(t, a, store.NewRecord("app_locked", []byte("x")))
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlockB, err := b.Lock(t.Context(), "storetest b")
	if err != nil {
		t.Fatalf("Lock after the first writer let go: %v", err)
	}
	if err := unlockB(); err != nil {
		t.Fatal(err)
	}
	es, err := a.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("the lock shows in List: %v", es)
	}
}

func testString(t *testing.T, s store.Store) {
	if s.String() == "" {
		t.Fatal("String is empty")
	}
}
