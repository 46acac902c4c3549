package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/recoverctl/recoverctl/store"
)

func openArchive(t *testing.T, data []byte) *Archive {
	t.Helper()
	a, err := Open(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPlanRestore(t *testing.T) {
	const name = "app_app-20261128043000-0000"
	src := sampleStore()
	data, _ := writeArchive(t, src)
	for _, tc := range []struct {
		desc      string
		dest      []byte // nil: absent
		overwrite bool
		want      Action
		applyErr  error
		wantAfter []byte
	}{
		{"absent", nil, false, Create, nil, src.recs[name].Data},
		{"identical", src.recs[name].Data, false, Skip, nil, src.recs[name].Data},
		{"differs", []byte("newer bytes"), false, Refuse, ErrConflict, []byte("newer bytes")},
		{"differs same size", bytes.Repeat([]byte("app record \x00\x02"), 40), false, Refuse, ErrConflict,
			bytes.Repeat([]byte("app record \x00\x02"), 40)},
		{"differs, overwrite", []byte("newer bytes"), true, Overwrite, nil, src.recs[name].Data},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			ctx := context.Background()
			dst := newMemStore()
			dst.put("app_zzz-extra", []byte("kept"))
			if tc.dest != nil {
				dst.put(name, tc.dest)
			}
			p, err := PlanRestore(ctx, openArchive(t, data), dst, RestoreOptions{Overwrite: tc.overwrite}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Steps) != 4 || p.Steps[0].Name != name || p.Steps[0].Action != tc.want || p.Extra != 1 {
				t.Fatalf("plan: %+v extra %d", p.Steps, p.Extra)
			}
			if p.Count(Create) != 3+btoi(tc.want == Create) {
				t.Fatalf("creates: %d", p.Count(Create))
			}
			res, err := p.Apply(ctx, dst, DefaultBatchBytes, nil)
			if !errors.Is(err, tc.applyErr) {
				t.Fatalf("Apply: got %v, want %v", err, tc.applyErr)
			}
			if tc.applyErr != nil {
				if dst.writes != 0 {
					t.Fatalf("refused plan wrote %d records", dst.writes)
				}
			} else {
				if res.Verified != 4 || res.Written != 3+btoi(tc.want != Skip) || res.Skipped != btoi(tc.want == Skip) {
					t.Fatalf("result %+v", res)
				}
				for _, r := range sparkRecords(src) {
					got := dst.recs[r.Name]
					if !bytes.Equal(got.Data, r.Data) || !slices.Equal(got.ACL, r.ACL) || !got.ModTime.Equal(r.ModTime) {
						t.Errorf("%s restored as %+v", r.Name, got.Entry)
					}
				}
			}
			if got := dst.recs[name].Data; !bytes.Equal(got, tc.wantAfter) {
				t.Fatalf("%s after apply: %q", name, got)
			}
			if string(dst.recs["app_zzz-extra"].Data) != "kept" {
				t.Fatal("record absent from the archive was changed")
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// manyRecords fills a store with n records of about size bytes each.
func manyRecords(n, size int) *memStore {
	m := newMemStore()
	for i := range n {
		name := fmt.Sprintf("app_app-20261128043000-%04d", i)
		m.put(name, synthRecord(name, size, uint64(i)))
	}
	return m
}

func TestApplyBatchesByBytes(t *testing.T) {
	src := manyRecords(50, 10_000)
	src.put("driver_big", bytes.Repeat([]byte("x"), 200_000)) // bigger than a batch: goes alone
	data, _ := writeArchive(t, src)
	dst := newMemStore()
	p, err := PlanRestore(context.Background(), openArchive(t, data), dst, RestoreOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 64 << 10
	res, err := p.Apply(context.Background(), dst, limit, nil)
	if err != nil {
		t.Fatal(err)
	}
	over := 0
	for _, c := range dst.batches {
		if c > limit {
			over++
		}
	}
	// 50 records of ~10 KB: 6 fit in 64 KiB, so 9 batches, plus the big one.
	if over != 1 || len(dst.batches) != 10 || res.Batches != 10 || res.Written != 51 || dst.writes != 51 {
		t.Fatalf("batches %v (over limit: %d), result %+v", dst.batches, over, res)
	}
}

// TestRestoreResumes kills a restore halfway (the store fails after some
// writes) and runs it again: everything arrives once, nothing is lost.
func TestRestoreResumes(t *testing.T) {
	ctx := context.Background()
	src := manyRecords(40, 3000)
	data, _ := writeArchive(t, src)
	dst := newMemStore()
	dst.limited, dst.budget = true, 17
	p, err := PlanRestore(ctx, openArchive(t, data), dst, RestoreOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(ctx, dst, 16<<10, nil); !errors.Is(err, errInjected) {
		t.Fatalf("first run: got %v, want injected failure", err)
	}
	if len(dst.recs) != 17 {
		t.Fatalf("after failure %d records at destination, want 17", len(dst.recs))
	}
	dst.limited = false
	p, err = PlanRestore(ctx, openArchive(t, data), dst, RestoreOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count(Skip) != 17 || p.Count(Create) != 23 {
		t.Fatalf("second plan: %d identical, %d to create", p.Count(Skip), p.Count(Create))
	}
	res, err := p.Apply(ctx, dst, 16<<10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 23 || res.Skipped != 17 || res.Verified != 40 || dst.writes != 40 {
		t.Fatalf("second run %+v, %d writes in all", res, dst.writes)
	}
	if !maps.EqualFunc(dst.recs, src.recs, func(a, b store.Record) bool { return bytes.Equal(a.Data, b.Data) }) {
		t.Fatal("destination differs from source after resumed restore")
	}
}

// TestApplyRefusesDamagedArchive changes the archive between plan and
// apply; Apply must refuse before its first write.
func TestApplyRefusesDamagedArchive(t *testing.T) {
	ctx := context.Background()
	data, _ := writeArchive(t, manyRecords(10, 2000))
	a := openArchive(t, data)
	dst := newMemStore()
	p, err := PlanRestore(ctx, a, dst, RestoreOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-footerLen-100] ^= 1
	if _, err := p.Apply(ctx, dst, DefaultBatchBytes, nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("got %v, want ErrDamaged", err)
	}
	if dst.writes != 0 || len(dst.batches) != 0 {
		t.Fatalf("damaged archive: %d records written", dst.writes)
	}
}

// lyingStore returns different bytes than were written, so read-back fails.
type lyingStore struct{ *memStore }

func (l lyingStore) Read(ctx context.Context, name string) (store.Record, error) {
	r, err := l.memStore.Read(ctx, name)
	if err == nil && len(r.Data) > 0 {
		r.Data[0] ^= 1
	}
	return r, err
}

func TestApplyReadBack(t *testing.T) {
	ctx := context.Background()
	data, _ := writeArchive(t, manyRecords(5, 100))
	dst := lyingStore{newMemStore()}
	p, err := PlanRestore(ctx, openArchive(t, data), dst, RestoreOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(ctx, dst, DefaultBatchBytes, nil); !errors.Is(err, ErrReadBack) {
		t.Fatalf("got %v, want ErrReadBack", err)
	}
}
