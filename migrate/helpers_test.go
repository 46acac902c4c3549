package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/migrate"
	"github.com/recoverctl/recoverctl/plan"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/zk"
)

func openFS(t testing.TB, dir string) *fs.Store {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openZK(t testing.TB, servers, sparkDir string, mod func(*zk.Options)) *zk.Store {
	t.Helper()
	opts := zk.Options{Servers: servers, SparkDir: sparkDir, ConnectTimeout: 20 * time.Second, RequestTimeout: 5 * time.Second}
	if mod != nil {
		mod(&opts)
	}
	s, err := zk.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// snapshot reads every entry of s, foreign ones included. A store that is
// unavailable (a ZooKeeper client reconnecting after a fault test) is
// waited for, up to 30 s.
func snapshot(t testing.TB, s store.Reader) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := trySnapshot(ctx, s)
		if err == nil {
			return out
		}
		if !errors.Is(err, store.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func trySnapshot(ctx context.Context, s store.Reader) (map[string][]byte, error) {
	entries, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		rec, err := s.Read(ctx, e.Name)
		if err != nil {
			return nil, err
		}
		out[e.Name] = rec.Data
	}
	return out, nil
}

func sameSnapshot(t testing.TB, what string, before, after map[string][]byte) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("%s: %d entries before, %d after", what, len(before), len(after))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Fatalf("%s: %s changed", what, name)
		}
	}
}

// checkTarget checks that every Spark record of src is in dst with the
// same payload, framed as codec, and that dst holds no partial record:
// every Spark record it holds opens cleanly.
func checkTarget(t testing.TB, src, dst map[string][]byte, srcCodec, codec string) {
	t.Helper()
	for name, data := range src {
		if kind, _ := store.ParseName(name); kind == store.KindForeign {
			if _, ok := dst[name]; ok {
				t.Fatalf("foreign entry %s copied", name)
			}
			continue
		}
		want := payload(t, name, data, srcCodec)
		got, ok := dst[name]
		if !ok {
			t.Fatalf("%s missing from the target", name)
		}
		if codec == "" {
			if !bytes.HasPrefix(got, []byte{0xAC, 0xED, 0, 5}) {
				t.Fatalf("%s in the target is not plain Java serialization: % x", name, got[:min(8, len(got))])
			}
		} else if f := envelope.Detect(got); f.String() != codec {
			t.Fatalf("%s in the target is framed %s, want %s", name, f, codec)
		}
		if p := payload(t, name, got, codec); !bytes.Equal(p, want) {
			t.Fatalf("%s: payload differs after migration", name)
		}
	}
	for name, data := range dst {
		if kind, _ := store.ParseName(name); kind != store.KindForeign {
			payload(t, name, data, codec)
		}
	}
}

func payload(t testing.TB, name string, data []byte, codec string) []byte {
	t.Helper()
	var u envelope.Unwrapped
	var err error
	if codec != "" {
		f := map[string]envelope.Form{"lz4": envelope.FormLZ4, "lzf": envelope.FormLZF, "snappy": envelope.FormSnappy, "zstd": envelope.FormZstd}[codec]
		u, err = envelope.OpenAs(f, data, envelope.Limits{})
	} else {
		u, err = envelope.Open(data, envelope.Limits{})
	}
	var kerr *envelope.KryoError
	if err != nil && !errors.As(err, &kerr) {
		t.Fatalf("%s: %v", name, err)
	}
	return u.Payload
}

// migrateAll plans and applies, failing the test on any error.
func migrateAll(t testing.TB, src store.Reader, dst store.Store, opts migrate.Options) (*plan.Plan, plan.Result) {
	t.Helper()
	ctx := context.Background()
	p, msrc, err := migrate.Plan(ctx, src, dst, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.Apply(ctx, p, dst, msrc, applyOpts(t))
	if err != nil {
		t.Fatalf("apply %s -> %s: %v", src, dst, err)
	}
	return p, res
}

func applyOpts(t testing.TB) plan.Options {
	return plan.Options{
		ArchivePath: filepath.Join(t.TempDir(), fmt.Sprintf("target-%d.rctl.zst", time.Now().UnixNano())),
		ArchiveInfo: backup.Info{StoreKind: "test", Address: "test"},
		Retries:     3,
		RetryWait:   200 * time.Millisecond,
	}
}

// javaRecord is a synthetic record of size bytes that reads as Java
// serialization (its magic); distinct per i.
func javaRecord(i, size int) []byte {
	b := make([]byte, size)
	copy(b, []byte{0xAC, 0xED, 0x00, 0x05, 0x73})
	for j := 5; j < size; j++ {
		b[j] = byte(i*31 + j*7)
	}
	copy(b[5:], fmt.Sprintf("record-%08d", i))
	return b
}

func fillDir(t testing.TB, dir string, n, size int) {
	t.Helper()
	for i := range n {
		name := fmt.Sprintf("app_app-20260101000000-%05d", i)
		if i%10 == 9 {
			name = fmt.Sprintf("worker_worker-20260101000000-10.0.0.%d-%d", i%250, 7000+i)
		}
		if err := os.WriteFile(filepath.Join(dir, name), javaRecord(i, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func startZK(t testing.TB) *zktest.Server {
	t.Helper()
	return zktest.Start(t)
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

func withProgress(o plan.Options, p plan.Progress) plan.Options {
	o.Progress = p
	return o
}
