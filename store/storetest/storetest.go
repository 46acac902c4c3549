// Package storetest is the conformance suite every store.Store must pass,
// so that migrate and backup can rely on the interface rather than on one
// back end's habits. It is imported by tests only.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/recoverctl/recoverctl/store"
)

// NewStore returns a fresh, empty store; it registers its own cleanup.
type NewStore func(t *testing.T) store.Store

// Run runs the suite; each subtest gets a fresh store from newStore.
func Run(t *testing.T, newStore NewStore) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"EmptyList", testEmptyList},
		{"WriteRead", testWriteRead},
		{"Replace", testReplace},
		{"ListSortedWithKinds", testListSortedWithKinds},
		{"WriteBatch", testWriteBatch},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"InvalidNames", testInvalidNames},
		{"Cancelled", testCancelled},
		{"String", testString},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
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

func testEmptyList(t *testing.T, s store.Store) {
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 0 {
		t.Fatalf("fresh store lists %d entries: %v", len(es), es)
	}
}

func mustWrite(t *testing.T, s store.Store, rec store.Record) {
	t.Helper()
	if err := s.Write(t.Context(), rec); err != nil {
		t.Fatalf("Write %s: %v", rec.Name, err)
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

func testWriteRead(t *testing.T, s store.Store) {
	cases := map[string][]byte{
		"app_app-20240102150405-0000":                       Payload(1, 2600),
		"driver_driver-20240102150405-0001":                 Payload(2, 1800),
		"worker_worker-20240102150405-10.0.0.1-35000":       Payload(3, 3100),
		"app_app-with_underscores.and.dots-0001":            Payload(4, 17),
		"app_empty":                                         {},
		"app_zeros":                                         make([]byte, 512),
		"worker_worker-20240102150405-host.example.com-123": Payload(5, 64<<10),
	}
	for name, data := range cases {
		mustWrite(t, s, store.NewRecord(name, data))
	}
	for name, data := range cases {
		checkRead(t, s, name, data)
	}
}

func testReplace(t *testing.T, s store.Store) {
	name := "app_app-20240102150405-0007"
	mustWrite(t, s, store.NewRecord(name, Payload(10, 4000)))
	shorter := Payload(11, 100)
	mustWrite(t, s, store.NewRecord(name, shorter))
	checkRead(t, s, name, shorter)
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Size != int64(len(shorter)) {
		t.Fatalf("after replace List = %+v, want one entry of %d bytes", es, len(shorter))
	}
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
		mustWrite(t, s, store.NewRecord(name, Payload(uint64(i), 10*i)))
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

func testWriteBatch(t *testing.T, s store.Store) {
	// One record exists before: the batch must replace it, not fail.
	mustWrite(t, s, store.NewRecord("app_b-0", Payload(99, 50)))
	var recs []store.Record
	for i := range 50 {
		recs = append(recs, store.NewRecord(fmt.Sprintf("app_b-%d", i), Payload(uint64(100+i), 2600)))
	}
	if err := s.WriteBatch(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		checkRead(t, s, r.Name, r.Data)
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != len(recs) {
		t.Fatalf("List has %d entries after batch of %d", len(es), len(recs))
	}
	if err := s.WriteBatch(t.Context(), nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

func testDelete(t *testing.T, s store.Store) {
	mustWrite(t, s, store.NewRecord("driver_d-1", Payload(1, 10)))
	mustWrite(t, s, store.NewRecord("driver_d-2", Payload(2, 10)))
	if err := s.Delete(t.Context(), "driver_d-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(t.Context(), "driver_d-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Read after Delete: %v, want ErrNotFound", err)
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name != "driver_d-2" {
		t.Fatalf("List after Delete = %+v", es)
	}
	err = s.Delete(t.Context(), "driver_d-1")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	_, err := s.Read(t.Context(), "app_missing")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Read missing: %v, want ErrNotFound", err)
	}
	if err := s.Delete(t.Context(), "app_missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete missing: %v, want ErrNotFound", err)
	}
}

func testInvalidNames(t *testing.T, s store.Store) {
	for _, name := range []string{"", ".", "..", "app_a/b", "app_\x00"} {
		if err := s.Write(t.Context(), store.NewRecord(name, []byte("x"))); err == nil {
			t.Errorf("Write %q succeeded", name)
		}
		if _, err := s.Read(t.Context(), name); err == nil || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Read %q: %v, want an invalid-name error", name, err)
		}
		if err := s.Delete(t.Context(), name); err == nil {
			t.Errorf("Delete %q succeeded", name)
		}
	}
	if err := s.WriteBatch(t.Context(), []store.Record{store.NewRecord("app_ok", []byte("x")), store.NewRecord("a/b", []byte("x"))}); err == nil {
		t.Error("WriteBatch with an invalid name succeeded")
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Name != "app_ok" {
			t.Errorf("List has %q after invalid writes", e.Name)
		}
	}
}

func testCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Write(ctx, store.NewRecord("app_c", []byte("x"))); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with cancelled ctx: %v, want context.Canceled", err)
	}
	if err := s.WriteBatch(ctx, []store.Record{store.NewRecord("app_d", []byte("x"))}); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteBatch with cancelled ctx: %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with cancelled ctx: %v, want context.Canceled", err)
	}
	if _, err := s.Read(ctx, "app_c"); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with cancelled ctx: %v, want context.Canceled", err)
	}
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 0 {
		t.Fatalf("cancelled writes left %v", es)
	}
}

func testString(t *testing.T, s store.Store) {
	if s.String() == "" {
		t.Fatal("String is empty")
	}
}
