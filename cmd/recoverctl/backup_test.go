package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/storetest"
	"github.com/recoverctl/recoverctl/store/zk"
)

// runCLI runs recoverctl in-process, as main does, and returns stdout,
// stderr and the exit code. stderr is a buffer, not a terminal: no
// progress bar may appear there.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCommand()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if err != nil {
		// exitCode prints the error to the process's stderr as main does;
		// the test's stderr gets it too.
		stderr.WriteString("recoverctl: " + err.Error() + "\n")
	}
	return stdout.String(), stderr.String(), exitCode(err)
}

// captureRecordDirs are the record directories real Spark Masters wrote
// (testdata/spark/<version>/<mode>/records). They are required.
func captureRecordDirs(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob("../../testdata/spark/*/*/records")
	if len(dirs) == 0 {
		t.Fatal("no capture under testdata/spark/*/*/records: the backup round trip needs real Spark records")
	}
	return dirs
}

// readDirRecords reads every Spark record file of dir.
func readDirRecords(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, de := range des {
		if k, _ := store.ParseName(de.Name()); k == store.KindForeign || !de.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[de.Name()] = b
	}
	return out
}

func openZK(t *testing.T, servers string) *zk.Store {
	t.Helper()
	s, err := zk.Open(context.Background(), zk.Options{Servers: servers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// loadZK writes recs into a ZooKeeper store in byte-sized batches.
func loadZK(t *testing.T, s *zk.Store, recs map[string][]byte) {
	t.Helper()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range recs {
			if !yield(n) {
				return
			}
		}
	})
	var batch []store.Record
	for _, n := range names {
		batch = append(batch, store.NewRecord(n, recs[n]))
	}
	storetest.Create(t, s, batch...)
}

// readZK reads every Spark record of a ZooKeeper store.
func readZK(t *testing.T, s *zk.Store) map[string][]byte {
	t.Helper()
	entries, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var names []string
	for _, e := range entries {
		if e.Kind != store.KindForeign {
			names = append(names, e.Name)
		}
	}
	err = s.ReadAll(context.Background(), names, func(r store.Record, err error) error {
		if err != nil {
			return err
		}
		out[r.Name] = r.Data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameRecords(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: nothing to compare", what)
	}
	for n, w := range want {
		g, ok := got[n]
		switch {
		case !ok:
			t.Errorf("%s: %s missing", what, n)
		case !bytes.Equal(g, w):
			t.Errorf("%s: %s differs (%d bytes, want %d)", what, n, len(g), len(w))
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("%s: unexpected %s", what, n)
		}
	}
}

type backupJSON struct {
	Archive  string  `json:"archive"`
	Records  int     `json:"records"`
	BytesIn  int64   `json:"bytes_in"`
	BytesOut int64   `json:"bytes_out"`
	Seconds  float64 `json:"seconds"`
}

func backupTo(t *testing.T, args ...string) backupJSON {
	t.Helper()
	out, stderr, code := runCLI(t, append([]string{"backup", "-o", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("backup %v: exit %d: %s", args, code, stderr)
	}
	if stderr != "" {
		t.Errorf("backup wrote to stderr on a non-terminal: %q", stderr)
	}
	var res backupJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("backup -o json: %v: %s", err, out)
	}
	return res
}

// Every real capture goes directory -> archive -> ZooKeeper, and
// ZooKeeper -> archive -> directory, byte for byte.
func TestBackupRestoreCapturesAcrossStores(t *testing.T) {
	dirs := captureRecordDirs(t)
	srv := zktest.Start(t)
	for i, dir := range dirs {
		name := strings.TrimPrefix(filepath.Dir(dir), "../../testdata/spark/")
		t.Run(name, func(t *testing.T) { roundTripAcrossStores(t, srv.Addr(), i, dir) })
	}
}

func roundTripAcrossStores(t *testing.T, addr string, i int, dir string) {
	orig := readDirRecords(t, dir)
	if len(orig) == 0 {
		t.Fatalf("%s holds no records", dir)
	}
	out := t.TempDir()

	// Directory -> archive -> ZooKeeper.
	b := backupTo(t, "--fs", dir, "--to", out+"/")
	if b.Records != len(orig) || b.BytesOut <= 0 {
		t.Fatalf("backup summary %+v, want %d records", b, len(orig))
	}
	zkDst := fmt.Sprintf("%s/fs2zk%d", addr, i)
	if _, stderr, code := runCLI(t, "restore", b.Archive, "--zk", zkDst, "--yes"); code != exitOK {
		t.Fatalf("restore into zk: exit %d: %s", code, stderr)
	}
	sameRecords(t, "fs -> zk", readZK(t, openZK(t, zkDst)), orig)

	// ZooKeeper (loaded with store/zk) -> archive -> directory.
	zkSrc := fmt.Sprintf("%s/zksrc%d", addr, i)
	loadZK(t, openZK(t, zkSrc), orig)
	b2 := backupTo(t, "--zk", zkSrc, "--to", filepath.Join(out, "from-zk.rctl.zst"))
	if b2.Records != len(orig) {
		t.Fatalf("zk backup: %d records, want %d", b2.Records, len(orig))
	}
	dst := t.TempDir()
	if _, stderr, code := runCLI(t, "restore", b2.Archive, "--fs", dst, "--yes"); code != exitOK {
		t.Fatalf("restore into directory: exit %d: %s", code, stderr)
	}
	sameRecords(t, "zk -> fs", readDirRecords(t, dst), orig)
}

// syntheticDir writes n records of random sizes into a new directory.
func syntheticDir(t *testing.T, n int) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	recs := map[string][]byte{}
	for i := range n {
		b := make([]byte, 500+rng.IntN(3000))
		for j := range b {
			b[j] = byte(rng.IntN(16)) // compressible, like real records
		}
		name := fmt.Sprintf("app_app-20261128043000-%04d", i)
		if i%5 == 0 {
			name = fmt.Sprintf("worker_worker-20261128042900-10.0.0.%d-40123", i)
		}
		recs[name] = b
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, recs
}

func TestBackupToDirKeepMetrics(t *testing.T) {
	src, recs := syntheticDir(t, 20)
	if err := os.WriteFile(filepath.Join(src, "not-a-record"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	metrics := filepath.Join(t.TempDir(), "recoverctl.prom")
	var last backupJSON
	for range 3 {
		last = backupTo(t, "--fs", src, "--to", out, "--keep", "2", "--metrics-file", metrics)
	}
	if last.Records != len(recs) || last.BytesIn == 0 || last.BytesOut == 0 || last.Seconds < 0 {
		t.Errorf("summary %+v", last)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(files) != 2 || !slices.Contains(files, last.Archive) {
		t.Fatalf("--keep 2 left %v (last %s)", files, last.Archive)
	}
	for _, f := range files {
		fi, _ := os.Stat(f)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
		if _, _, ok := backup.ParseArchiveName(filepath.Base(f)); !ok {
			t.Errorf("%s is not an ArchiveName", f)
		}
	}
	m, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`recoverctl_backup_records{store="fs"} 20`, "recoverctl_backup_last_success_timestamp_seconds"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics file lacks %q:\n%s", want, m)
		}
	}
	// The table output names the foreign entry; stderr stays empty.
	stdout, stderr, code := runCLI(t, "backup", "--fs", src, "--to", filepath.Join(out, "x.rctl.zst"))
	if code != exitOK || !strings.Contains(stdout, "not-a-record") || stderr != "" {
		t.Errorf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	// An existing file is never replaced.
	if _, stderr, code := runCLI(t, "backup", "--fs", src, "--to", filepath.Join(out, "x.rctl.zst")); code != exitFailure || !strings.Contains(stderr, "exists") {
		t.Errorf("second backup to the same file: exit %d: %s", code, stderr)
	}
	if _, _, code := runCLI(t, "backup", "--fs", src); code != exitUsage {
		t.Errorf("backup without --to: exit %d", code)
	}
	if _, _, code := runCLI(t, "backup", "--fs", filepath.Join(src, "missing"), "--to", out); code != exitUnavailable {
		t.Errorf("backup of a missing directory: exit %d", code)
	}
}

func TestVerifyDamagedArchive(t *testing.T) {
	src, _ := syntheticDir(t, 30)
	b := backupTo(t, "--fs", src, "--to", t.TempDir()+"/")
	good, err := os.ReadFile(b.Archive)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "verify", b.Archive)
	if code != exitOK || !strings.Contains(stdout, "intact, 30 records") {
		t.Fatalf("intact archive: exit %d: %s %s", code, stdout, stderr)
	}

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	cases := []struct {
		name, file, want string
	}{
		{"byte flipped in the middle", write("flipped.rctl.zst", flipped), "archive damaged at byte"},
		{"truncated", write("short.rctl.zst", good[:len(good)-100]), "truncated"},
		{"not an archive", write("notes.txt", []byte("hello, not an archive\n")), "not"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, "verify", c.file)
			if code != exitDamaged {
				t.Errorf("exit %d, want %d: %s", code, exitDamaged, stderr)
			}
			if !strings.Contains(stderr, c.file) || !strings.Contains(stderr, c.want) {
				t.Errorf("message does not name the file and the damage (%q): %s", c.want, stderr)
			}
			out, _, code := runCLI(t, "verify", "-o", "json", b.Archive, c.file)
			var res []verifyResult
			if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitDamaged {
				t.Fatalf("-o json: exit %d, %v: %s", code, err, out)
			}
			if len(res) != 2 || !res[0].OK || res[1].OK || res[1].Error == "" || res[1].Offset == nil {
				t.Errorf("-o json: %+v", res)
			}
			// restore refuses it before touching the target.
			dst := t.TempDir()
			_, stderr, code = runCLI(t, "restore", c.file, "--fs", dst, "--yes")
			if code != exitDamaged {
				t.Errorf("restore of a damaged archive: exit %d: %s", code, stderr)
			}
			if des, _ := os.ReadDir(dst); len(des) != 0 {
				t.Errorf("restore of a damaged archive wrote %d entries", len(des))
			}
		})
	}
	// The flipped byte is inside compressed data: the message gives the
	// offset where the damage was found (a record too once one is being read).
	_, stderr, _ = runCLI(t, "verify", filepath.Join(dir, "flipped.rctl.zst"))
	if !strings.Contains(stderr, "damaged at byte ") || strings.Contains(stderr, `after ""`) {
		t.Errorf("damage not located: %s", stderr)
	}
	if _, _, code := runCLI(t, "verify", filepath.Join(dir, "missing")); code != exitFailure {
		t.Errorf("missing file: exit %d, want %d", code, exitFailure)
	}
}

// joinElection makes a latch node the way a Master's Curator LeaderLatch
// does; it lives as long as the returned connection.
func joinElection(t *testing.T, addr, sparkDir string) *gozk.Conn {
	t.Helper()
	c, _, err := gozk.Connect([]string{addr}, 10*time.Second, gozk.WithLogInfo(false), gozk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	p := ""
	for _, seg := range strings.Split(strings.TrimPrefix(sparkDir+"/leader_election", "/"), "/") {
		p += "/" + seg
		if _, err := c.Create(p, nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil && !errors.Is(err, gozk.ErrNodeExists) {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateProtectedEphemeralSequential(p+"/latch-", nil, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	return c
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

func TestRestoreRefusesLiveMasterZK(t *testing.T) {
	srv := zktest.Start(t)
	src, recs := syntheticDir(t, 10)
	b := backupTo(t, "--fs", src, "--to", t.TempDir()+"/")
	target := srv.Addr() + "/live"
	joinElection(t, srv.Addr(), "/live/spark")

	stdout, stderr, code := runCLI(t, "restore", b.Archive, "--zk", target, "--yes")
	if code != exitRefused {
		t.Fatalf("exit %d, want %d: %s %s", code, exitRefused, stdout, stderr)
	}
	if !strings.Contains(stderr, "leader") || !strings.Contains(stderr, "--force") {
		t.Errorf("refusal does not say who holds the store and how to override: %s", stderr)
	}
	if got := readZK(t, openZK(t, target)); len(got) != 0 {
		t.Fatalf("refused restore wrote %d records", len(got))
	}
	_, stderr, code = runCLI(t, "restore", b.Archive, "--zk", target, "--force", "--yes")
	if code != exitOK || !strings.Contains(stderr, "--force") {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	sameRecords(t, "forced restore", readZK(t, openZK(t, target)), recs)
}

func TestRestoreRefusesLiveMasterDirectory(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"url":"spark://127.0.0.1:7077","status":"ALIVE"}`)
	}))
	defer srv.Close()
	src, recs := syntheticDir(t, 5)
	b := backupTo(t, "--fs", src, "--to", t.TempDir()+"/")
	dst := t.TempDir()
	_, stderr, code := runCLI(t, "restore", b.Archive, "--fs", dst, "--master", srv.URL, "--yes")
	if code != exitRefused || !strings.Contains(stderr, "Master ALIVE") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if des, _ := os.ReadDir(dst); len(des) != 0 {
		t.Fatalf("refused restore left %d entries", len(des))
	}
	if _, stderr, code = runCLI(t, "restore", b.Archive, "--fs", dst, "--master", srv.URL, "--force", "--yes"); code != exitOK {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	sameRecords(t, "forced restore", readDirRecords(t, dst), recs)
}

func TestRestoreDryRunWritesNothing(t *testing.T) {
	srv := zktest.Start(t)
	src, recs := syntheticDir(t, 12)
	b := backupTo(t, "--fs", src, "--to", t.TempDir()+"/")

	// A directory target already holding one differing and one identical record.
	dst := t.TempDir()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range recs {
			yield(n)
		}
	})
	os.WriteFile(filepath.Join(dst, names[0]), []byte("different"), 0o644)
	os.WriteFile(filepath.Join(dst, names[1]), recs[names[1]], 0o644)
	before := snapshotDir(t, dst)
	archives := snapshotDir(t, filepath.Dir(b.Archive))
	for _, extra := range [][]string{nil, {"--overwrite"}} {
		stdout, stderr, code := runCLI(t, append([]string{"restore", b.Archive, "--fs", dst, "--dry-run"}, extra...)...)
		if code != exitOK {
			t.Fatalf("dry run %v: exit %d: %s", extra, code, stderr)
		}
		want := []string{"create", "identical (skip)", "dry run: nothing written"}
		if extra == nil {
			want = append(want, "differs (refused)")
		} else {
			want = append(want, "overwrite")
		}
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("dry run %v output lacks %q:\n%s", extra, w, stdout)
			}
		}
	}
	if after := snapshotDir(t, dst); after != before {
		t.Errorf("dry run changed the target directory:\nbefore %s\nafter  %s", before, after)
	}
	if after := snapshotDir(t, filepath.Dir(b.Archive)); after != archives {
		t.Errorf("dry run wrote a backup: %s", after)
	}

	// ZooKeeper: not even master_status is created.
	out, stderr, code := runCLI(t, "restore", b.Archive, "--zk", srv.Addr()+"/dry", "--dry-run", "-o", "json")
	if code != exitOK {
		t.Fatalf("zk dry run: exit %d: %s", code, stderr)
	}
	var res restoreResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Create != len(recs) || !res.DryRun || res.Written != 0 || len(res.Steps) != len(recs) {
		t.Errorf("zk dry run json: %v %+v", err, res)
	}
	c, _, err := gozk.Connect([]string{srv.Addr()}, 10*time.Second, gozk.WithLogInfo(false), gozk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _, err := c.Exists("/dry"); err != nil || ok {
		t.Errorf("dry run created /dry (%v)", err)
	}

	// The real restore refuses the differing record, then --overwrite
	// backs the target up first and replaces it.
	_, stderr, code = runCLI(t, "restore", b.Archive, "--fs", dst, "--yes")
	if code != exitRefused || !strings.Contains(stderr, "--overwrite") {
		t.Errorf("conflict: exit %d: %s", code, stderr)
	}
	bk := t.TempDir()
	stdout, stderr, code := runCLI(t, "restore", b.Archive, "--fs", dst, "--overwrite", "--backup-to", bk, "--yes")
	if code != exitOK || !strings.Contains(stdout, "target backed up to "+bk) {
		t.Fatalf("--overwrite: exit %d: %s %s", code, stdout, stderr)
	}
	sameRecords(t, "overwrite", readDirRecords(t, dst), recs)
	pre, _ := filepath.Glob(filepath.Join(bk, "*.rctl.zst"))
	if len(pre) != 1 {
		t.Fatalf("pre-restore backups: %v", pre)
	}
	a, err := backup.OpenFile(context.Background(), pre[0])
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Manifest().Records != 2 {
		t.Errorf("pre-restore backup holds %d records, want the 2 the target had", a.Manifest().Records)
	}
}

// snapshotDir describes every entry of dir: name, size, mode, mtime.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, de := range des {
		fi, _ := de.Info()
		fmt.Fprintf(&b, "%s:%d:%v:%d ", de.Name(), fi.Size(), fi.Mode(), fi.ModTime().UnixNano())
	}
	return b.String()
}

// A restore killed with SIGKILL in the middle, then run again: the second
// run completes it, and the target ends with each record exactly once.
func TestRestoreKilledHalfwayResumes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "recoverctl")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := zktest.Start(t)
	src, recs := syntheticDir(t, 240)
	b := backupTo(t, "--fs", src, "--to", t.TempDir()+"/")
	target := srv.Addr() + "/killed"
	zs := openZK(t, target)
	count := func() int {
		es, err := zs.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}

	bk := t.TempDir()
	cmd := exec.Command(bin, "restore", b.Archive, "--zk", target, "--batch-bytes", "8192", "--backup-to", bk, "--yes")
	cmd.Env = append(os.Environ(), batchDelayEnv+"=40ms")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for count() < 30 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("restore did not get going: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("restore was not killed (it finished first?): %v; %s", err, stderr.String())
	}
	partial := count()
	if partial == 0 || partial >= len(recs) {
		t.Fatalf("after the kill the target holds %d of %d records: not halfway", partial, len(recs))
	}
	t.Logf("killed with %d of %d records written", partial, len(recs))

	// Each batch is one multi: what is there is whole records, and each is
	// identical to the archive.
	got := readZK(t, zs)
	for n, d := range got {
		if !bytes.Equal(d, recs[n]) {
			t.Fatalf("after the kill %s holds different bytes", n)
		}
	}

	out, err := exec.Command(bin, "restore", b.Archive, "--zk", target, "--backup-to", bk, "-o", "json", "--yes").CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	var res restoreResult
	if err := json.Unmarshal(out[bytes.IndexByte(out, '{'):], &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Identical != partial || res.Create != len(recs)-partial || res.Verified != len(recs) || res.PreBackup == "" {
		t.Errorf("second run: %d identical, %d created, %d verified, backup %q; want %d, %d, %d and a backup",
			res.Identical, res.Create, res.Verified, res.PreBackup, partial, len(recs)-partial, len(recs))
	}
	if n := count(); n != len(recs) {
		t.Errorf("target holds %d entries, want %d", n, len(recs))
	}
	sameRecords(t, "resumed restore", readZK(t, zs), recs)
}

func TestProgressBarOnlyOnTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if newProgressBar(w) != nil || newProgressBar(&bytes.Buffer{}) != nil {
		t.Error("progress bar on a pipe or buffer")
	}
	if ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0); err == nil {
		if newProgressBar(ptm) == nil {
			t.Error("no progress bar on a terminal")
		}
		ptm.Close()
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("no pseudo-terminal to test with: %v", err)
	}
	// A nil bar hands the packages a nil Progress and ignores done.
	var none *progressBar
	if none.report("x") != nil {
		t.Error("nil bar gave a callback")
	}
	none.done()

	var buf bytes.Buffer
	bar := &progressBar{w: &buf}
	p := bar.report("backup")
	p(backup.Event{Phase: backup.PhaseBackup, Done: 1, Total: 4, Bytes: 2048})
	p(backup.Event{Phase: backup.PhaseBackup, Done: 2, Total: 4}) // within 100 ms: not drawn
	p(backup.Event{Phase: backup.PhaseBackup, Done: 4, Total: 4, Bytes: 4096})
	bar.done()
	out := buf.String()
	for _, want := range []string{"[=======", "1/4", "2.0 KiB", "4/4", "4.0 KiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q: %q", want, out)
		}
	}
	if strings.Contains(out, "2/4") || !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("bar output %q", out)
	}
}

// Two recoverctl writers never overlap on a directory, --force or not.
func TestRestoreRefusesLockedDirectory(t *testing.T) {
	src, recs := syntheticDir(t, 3)
	b := backupTo(t, "--fs", src, "--to", t.TempDir()+"/")
	dst := t.TempDir()
	locked, err := fs.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := locked.Lock(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []string{"--overwrite", "--force"} {
		_, stderr, code := runCLI(t, "restore", b.Archive, "--fs", dst, extra, "--yes")
		if code != exitRefused || !strings.Contains(stderr, "another recoverctl") {
			t.Errorf("%s: exit %d: %s", extra, code, stderr)
		}
	}
	if got := readDirRecords(t, dst); len(got) != 0 {
		t.Fatalf("locked directory got %d records", len(got))
	}
	_ = unlock()
	if _, stderr, code := runCLI(t, "restore", b.Archive, "--fs", dst, "--yes"); code != exitOK {
		t.Fatalf("after unlock: exit %d: %s", code, stderr)
	}
	sameRecords(t, "after unlock", readDirRecords(t, dst), recs)
}
