package plan_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/storetest"
)

// memSource supplies records from a map, in the order asked.
type memSource map[string][]byte

func (m memSource) Supply(ctx context.Context, names []string, fn func(store.Record) error) error {
	for _, n := range names {
		if err := fn(store.NewRecord(n, m[n])); err != nil {
			return err
		}
	}
	return nil
}

func (m memSource) Same(st *plan.Step, data []byte) bool { return sha256.Sum256(data) == st.Sum }

func openDir(t *testing.T) *fs.Store {
	t.Helper()
	s, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// createPlan plans to create every record of src in order.
func createPlan(src memSource, names []string) *plan.Plan {
	p := &plan.Plan{Source: "mem", Target: "test"}
	for _, n := range names {
		k, _ := store.ParseName(n)
		p.Steps = append(p.Steps, plan.Step{Name: n, Kind: k, Action: plan.Create, Size: int64(len(src[n])),
			TargetSize: int64(len(src[n])), DestSize: -1, Sum: sha256.Sum256(src[n])})
	}
	return p
}

func records(n int, seed int) (memSource, []string) {
	src := memSource{}
	var names []string
	for i := range n {
		name := fmt.Sprintf("app_app-20260101000000-%04d", i)
		src[name] = storetest.Payload(uint64(seed*1000+i), 200+i)
		names = append(names, name)
	}
	return src, names
}

func opts(t *testing.T) plan.Options {
	return plan.Options{ArchivePath: filepath.Join(t.TempDir(), "pre.rctl.zst"), ArchiveInfo: backup.Info{StoreKind: "fs", Address: "test"}}
}

func TestApplyCreatesAndReadsBack(t *testing.T) {
	s := openDir(t)
	src, names := records(50, 1)
	p := createPlan(src, names)
	o := opts(t)
	o.BatchBytes = 16 << 10
	res, err := plan.Apply(t.Context(), p, s, src, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 50 || res.Verified != 50 || res.Batches < 10 || res.Backup == "" {
		t.Fatalf("result %+v", res)
	}
	for _, n := range names {
		rec, err := s.Read(t.Context(), n)
		if err != nil || !bytes.Equal(rec.Data, src[n]) {
			t.Fatalf("%s: %v", n, err)
		}
	}
	// A second run of the same plan finds every record written already:
	// nothing is written twice, nothing refused.
	res, err = plan.Apply(t.Context(), createPlan(src, names), s, src, opts(t))
	if err != nil || res.Written != 0 || res.Replanned != 50 {
		t.Fatalf("the same plan again: %+v %v", res, err)
	}
}

// TestCreateNeverOverwrites: a record that appeared with other bytes
// between plan and apply stops the run there, unless Overwrite; what was
// written before it is a prefix of the plan.
func TestCreateNeverOverwrites(t *testing.T) {
	s := openDir(t)
	src, names := records(20, 2)
	intruder := storetest.Payload(999, 300)
	storetest.Create(t, s, store.NewRecord(names[10], intruder))
	o := opts(t)
	o.BatchBytes = 2 << 10
	_, err := plan.Apply(t.Context(), createPlan(src, names), s, src, o)
	if !errors.Is(err, plan.ErrConflict) {
		t.Fatalf("create over a record that appeared: %v, want ErrConflict", err)
	}
	for i, n := range names {
		rec, rerr := s.Read(t.Context(), n)
		switch {
		case i < 10 && (rerr != nil || !bytes.Equal(rec.Data, src[n])):
			t.Fatalf("%s before the conflict: %v", n, rerr)
		case i == 10 && !bytes.Equal(rec.Data, intruder):
			t.Fatalf("the record that appeared was overwritten")
		case i > 10 && !errors.Is(rerr, store.ErrNotFound):
			t.Fatalf("%s after the conflict was written: not a prefix", n)
		}
	}
	o = opts(t)
	o.Overwrite = true
	res, err := plan.Apply(t.Context(), createPlan(src, names), s, src, o)
	if err != nil || res.Written != 10 || res.Replanned != 10 {
		t.Fatalf("with Overwrite: %+v %v", res, err)
	}
	if rec, _ := s.Read(t.Context(), names[10]); !bytes.Equal(rec.Data, src[names[10]]) {
		t.Fatal("Overwrite did not replace the record that appeared")
	}
}

// TestOverwriteIsConditional: an overwrite planned on one state of the
// target record refuses when the record changed since.
func TestOverwriteIsConditional(t *testing.T) {
	s := openDir(t)
	src, names := records(3, 3)
	old := storetest.Payload(5, 50)
	storetest.Create(t, s, store.NewRecord(names[1], old))
	p := createPlan(src, names)
	p.Steps[1].Action = plan.Overwrite
	p.Steps[1].Seen = plan.Seen{Version: -1, SHA256: sha256.Sum256(old)}
	storetest.Replace(t, s, store.NewRecord(names[1], storetest.Payload(6, 50)))
	if _, err := plan.Apply(t.Context(), p, s, src, opts(t)); !errors.Is(err, plan.ErrConflict) {
		t.Fatalf("overwrite of a record changed since the plan: %v", err)
	}
	if rec, _ := s.Read(t.Context(), names[1]); !bytes.Equal(rec.Data, storetest.Payload(6, 50)) {
		t.Fatal("a record changed since the plan was overwritten")
	}
}

func TestDeletes(t *testing.T) {
	s := openDir(t)
	src, names := records(10, 4)
	var recs []store.Record
	for _, n := range names {
		recs = append(recs, store.NewRecord(n, src[n]))
	}
	storetest.Create(t, s, recs...)
	p := &plan.Plan{Target: s.String()}
	for _, n := range names[:6] {
		p.Steps = append(p.Steps, plan.Step{Name: n, Action: plan.Delete, Seen: plan.Seen{Version: -1, SHA256: sha256.Sum256(src[n])}})
	}
	// One is gone already (a rerun), one changed since the plan.
	if err := os.Remove(filepath.Join(s.Dir(), names[0])); err != nil {
		t.Fatal(err)
	}
	storetest.Replace(t, s, store.NewRecord(names[4], []byte("changed")))
	o := opts(t)
	o.BatchBytes = 1
	res, err := plan.Apply(t.Context(), p, s, nil, o)
	if !errors.Is(err, plan.ErrConflict) || res.Deleted != 3 || res.Gone != 1 {
		t.Fatalf("deletes with one changed: %+v %v", res, err)
	}
	a, err := backup.OpenFile(t.Context(), res.Backup)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Manifest().Records != 5 {
		t.Fatalf("archive of a plan of deletes holds %d records, want the 5 still there", a.Manifest().Records)
	}
	for _, n := range names[:4] {
		if _, err := s.Read(t.Context(), n); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s not deleted: %v", n, err)
		}
	}
	for _, n := range names[4:] {
		if _, err := s.Read(t.Context(), n); err != nil {
			t.Fatalf("%s should still be there: %v", n, err)
		}
	}
}

// TestSourceChanged: bytes that are not what the plan hashed are never
// written.
func TestSourceChanged(t *testing.T) {
	s := openDir(t)
	src, names := records(5, 5)
	p := createPlan(src, names)
	src[names[2]] = []byte("other")
	_, err := plan.Apply(t.Context(), p, s, src, opts(t))
	if !errors.Is(err, plan.ErrSourceChanged) {
		t.Fatalf("%v, want ErrSourceChanged", err)
	}
	if _, err := s.Read(t.Context(), names[2]); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("a changed source record was written")
	}
}

// lyingStore reads back other bytes than it stores.
type lyingStore struct{ *fs.Store }

func (l lyingStore) Scan(ctx context.Context, req store.ScanRequest, fn func(store.Record, error) error) error {
	return l.Store.Scan(ctx, req, func(rec store.Record, err error) error {
		if len(rec.Data) > 0 {
			rec.Data = append([]byte(nil), rec.Data...)
			rec.Data[len(rec.Data)-1] ^= 1
		}
		return fn(rec, err)
	})
}

func TestReadBackCatchesMismatch(t *testing.T) {
	s := lyingStore{openDir(t)}
	src, names := records(4, 6)
	if _, err := plan.Apply(t.Context(), createPlan(src, names), s, src, opts(t)); !errors.Is(err, plan.ErrReadBack) {
		t.Fatalf("%v, want ErrReadBack", err)
	}
}

func TestRefusedPlan(t *testing.T) {
	s := openDir(t)
	src, names := records(3, 7)
	p := createPlan(src, names)
	p.Steps[1].Action = plan.Differs
	p.Steps[2].Action = plan.TooLarge
	_, err := plan.Apply(t.Context(), p, s, src, opts(t))
	if !errors.Is(err, plan.ErrConflict) || !errors.Is(err, plan.ErrUnconvertible) {
		t.Fatalf("%v, want ErrConflict and ErrUnconvertible", err)
	}
	if es, _ := s.List(t.Context()); len(es) != 0 {
		t.Fatal("a refused plan wrote")
	}
	if _, err := os.Stat(opts(t).ArchivePath); err == nil {
		t.Fatal("a refused plan archived")
	}
}
