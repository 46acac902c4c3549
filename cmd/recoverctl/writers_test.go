package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/storetest"
	"github.com/recoverctl/recoverctl/store/zk"
)

// buildBinary builds recoverctl once per test: the writers run as real
// processes, so that locks, sessions and kills are real.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "recoverctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// namedDir writes n records under fixed names, their bytes drawn from
// seed: two seeds give two stores that hold the same names with different
// records, as two Masters' states would.
func namedDir(t *testing.T, n int, seed uint64) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	recs := map[string][]byte{}
	for i := range n {
		b := make([]byte, 300+rng.IntN(2000))
		copy(b, []byte{0xAC, 0xED, 0, 5})
		for j := 4; j < len(b); j++ {
			b[j] = byte(rng.IntN(16))
		}
		name := fmt.Sprintf("app_app-20261128043000-%04d", i)
		recs[name] = b
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, recs
}

// holdsExactly says which of the candidate states the store holds, record
// for record and byte for byte, or fails.
func holdsExactly(t *testing.T, got map[string][]byte, candidates ...map[string][]byte) int {
	t.Helper()
	for i, want := range candidates {
		if len(got) != len(want) {
			continue
		}
		same := true
		for n, b := range want {
			if !bytes.Equal(got[n], b) {
				same = false
				break
			}
		}
		if same {
			return i
		}
	}
	mixed := map[int]int{}
	for n, b := range got {
		for i, want := range candidates {
			if bytes.Equal(want[n], b) {
				mixed[i]++
			}
		}
	}
	t.Fatalf("the store holds %d records, none of the %d states whole (records per state: %v)", len(got), len(candidates), mixed)
	return -1
}

type writerRun struct {
	args []string
	code int
	out  string
}

// runTogether starts every run at once and waits for all.
func runTogether(t *testing.T, bin string, env []string, runs ...*writerRun) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, r.args...)
			cmd.Env = append(os.Environ(), env...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			<-start
			err := cmd.Run()
			r.out = out.String()
			r.code = 0
			if ee, ok := err.(*exec.ExitError); ok {
				r.code = ee.ExitCode()
			} else if err != nil {
				r.code = -1
				r.out += err.Error()
			}
		}()
	}
	close(start)
	wg.Wait()
}

// TestConcurrentWritersOneWins runs two writers of different states into
// one empty ZooKeeper dir at the same time, 20 times for each pairing
// (two restores, two migrates, a migrate and a restore): each time one of
// them is refused (another writer holds the store, or its records differ)
// and ZooKeeper holds exactly one state, every record whole.
func TestConcurrentWritersOneWins(t *testing.T) {
	bin := buildBinary(t)
	srv := zktest.Start(t)
	dirA, recsA := namedDir(t, 120, 1)
	dirB, recsB := namedDir(t, 120, 2)
	archA := backupTo(t, "--fs", dirA, "--to", t.TempDir()+"/").Archive
	archB := backupTo(t, "--fs", dirB, "--to", t.TempDir()+"/").Archive
	backups := t.TempDir()
	pairs := map[string]func(zkDir string) (*writerRun, *writerRun){
		"restore-restore": func(d string) (*writerRun, *writerRun) {
			return &writerRun{args: []string{"restore", archA, "--zk", srv.Addr(), "--zk-dir", d, "--yes", "--backup-dir", backups, "--batch-bytes", "16384"}},
				&writerRun{args: []string{"restore", archB, "--zk", srv.Addr(), "--zk-dir", d, "--yes", "--backup-dir", backups, "--batch-bytes", "16384"}}
		},
		"migrate-migrate": func(d string) (*writerRun, *writerRun) {
			to := "zk://" + srv.Addr() + "?dir=" + d
			return &writerRun{args: []string{"migrate", "--from", "fs://" + dirA, "--to", to, "--yes", "--backup-dir", backups, "--batch-bytes", "16384"}},
				&writerRun{args: []string{"migrate", "--from", "fs://" + dirB, "--to", to, "--yes", "--backup-dir", backups, "--batch-bytes", "16384"}}
		},
		"migrate-restore": func(d string) (*writerRun, *writerRun) {
			to := "zk://" + srv.Addr() + "?dir=" + d
			return &writerRun{args: []string{"migrate", "--from", "fs://" + dirA, "--to", to, "--yes", "--backup-dir", backups, "--batch-bytes", "16384"}},
				&writerRun{args: []string{"restore", archB, "--zk", srv.Addr(), "--zk-dir", d, "--yes", "--backup-dir", backups, "--batch-bytes", "16384"}}
		},
	}
	for name, pair := range pairs {
		t.Run(name, func(t *testing.T) {
			overlapped := 0
			for round := range 20 {
				d := fmt.Sprintf("/race/%s-%02d", name, round)
				a, b := pair(d)
				runTogether(t, bin, []string{batchDelayEnv + "=2ms"}, a, b)
				refused := 0
				for _, r := range []*writerRun{a, b} {
					switch {
					case r.code == exitRefused && (strings.Contains(r.out, "another writer") || strings.Contains(r.out, "differ")):
						refused++
						if strings.Contains(r.out, "another writer") {
							overlapped++
						}
					case r.code != exitOK:
						t.Fatalf("round %d: %s: exit %d:\n%s", round, strings.Join(r.args, " "), r.code, r.out)
					}
				}
				if refused != 1 {
					t.Fatalf("round %d: %d of the two writers refused, want exactly one:\n%s\n%s", round, refused, a.out, b.out)
				}
				winner := holdsExactly(t, readZKDir(t, srv.Addr(), d), recsA, recsB)
				if (winner == 0) != (a.code == exitOK) {
					t.Fatalf("round %d: ZooKeeper holds state %d, but the writer that succeeded was the other", round, winner)
				}
			}
			t.Logf("%s: in %d of 20 rounds the loser met the other's lock, in the rest its records", name, overlapped)
		})
	}
}

// readZKDir reads every record under <dir>/master_status.
func readZKDir(t *testing.T, servers, dir string) map[string][]byte {
	t.Helper()
	s, err := zk.Open(context.Background(), zk.Options{Servers: servers, SparkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[string][]byte{}
	err = s.Scan(context.Background(), store.ScanRequest{}, func(rec store.Record, err error) error {
		if err != nil {
			return err
		}
		got[rec.Name] = rec.Data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// killAt starts a writer and kills it with SIGKILL after d; it reports
// whether the kill came before the writer finished.
func killAt(t *testing.T, bin string, d time.Duration, args ...string) bool {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), batchDelayEnv+"=25ms")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		t.Logf("finished within %s: %.200s", d, out.String())
		return false
	case <-time.After(d):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// checkPrefix checks that the store holds, of the plan's records in plan
// (name) order, exactly a prefix written (or, for deletes, a prefix
// gone), each record whole.
func checkPrefix(t *testing.T, got map[string][]byte, planOrder []string, written func(name string) []byte, deleting bool) int {
	t.Helper()
	k := 0
	for k < len(planOrder) {
		_, has := got[planOrder[k]]
		if has == deleting {
			break
		}
		k++
	}
	for i, n := range planOrder {
		b, has := got[n]
		switch {
		case deleting && i < k && has, deleting && i >= k && !has:
			t.Fatalf("after the kill %s is %v: the deletes done are not a prefix of the plan (prefix %d)", n, has, k)
		case !deleting && i >= k && has:
			t.Fatalf("after the kill %s is there but %s before it is not: not a prefix of the plan", n, planOrder[k])
		case has && !bytes.Equal(b, written(n)):
			t.Fatalf("after the kill %s holds other bytes (partial or doubled)", n)
		}
	}
	return k
}

// TestKilledWritersLeaveAPrefix kills restore, migrate and prune with
// SIGKILL at random points, ten times each: the target then holds a
// prefix of the plan, every record whole, and running the same command
// again finishes it with nothing doubled or lost.
func TestKilledWritersLeaveAPrefix(t *testing.T) {
	bin := buildBinary(t)
	srv := zktest.Start(t)
	dir, recs := namedDir(t, 300, 3)
	arch := backupTo(t, "--fs", dir, "--to", t.TempDir()+"/").Archive
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range recs {
			if !yield(n) {
				return
			}
		}
	})
	backups := t.TempDir()
	rng := rand.New(rand.NewPCG(42, 42))
	common := []string{"--yes", "--backup-dir", backups, "--batch-bytes", "8192"}
	for _, what := range []string{"restore", "migrate", "prune"} {
		t.Run(what, func(t *testing.T) {
			killed := 0
			for round := range 10 {
				d := fmt.Sprintf("/killed/%s-%02d", what, round)
				var args []string
				switch what {
				case "restore":
					args = append([]string{"restore", arch, "--zk", srv.Addr(), "--zk-dir", d}, common...)
				case "migrate":
					args = append([]string{"migrate", "--from", "fs://" + dir, "--to", "zk://" + srv.Addr() + "?dir=" + d}, common...)
				case "prune":
					s, err := zk.Open(context.Background(), zk.Options{Servers: srv.Addr(), SparkDir: d})
					if err != nil {
						t.Fatal(err)
					}
					var all []store.Record
					for _, n := range names {
						all = append(all, store.NewRecord(n, recs[n]))
					}
					storetest.Create(t, s, all...)
					s.Close()
					// A delete costs a batch a hundred bytes or so: small
					// batches, so that the kill finds it halfway.
					args = append([]string{"prune", "--kind", "app", "--zk", srv.Addr(), "--zk-dir", d}, common...)
					args = append(args, "--batch-bytes", "600")
				}
				after := time.Duration(150+rng.IntN(1200)) * time.Millisecond
				if killAt(t, bin, after, args...) {
					killed++
				}
				got := readZKDir(t, srv.Addr(), d)
				k := checkPrefix(t, got, names, func(n string) []byte { return recs[n] }, what == "prune")
				t.Logf("round %d: killed after %s with %d of %d changes made", round, after, k, len(names))
				out, err := exec.Command(bin, args...).CombinedOutput()
				if err != nil {
					t.Fatalf("round %d: the rerun: %v\n%s", round, err, out)
				}
				got = readZKDir(t, srv.Addr(), d)
				if what == "prune" {
					if len(got) != 0 {
						t.Fatalf("round %d: %d records left after the rerun of prune", round, len(got))
					}
				} else {
					holdsExactly(t, got, recs)
				}
			}
			if killed < 5 {
				t.Fatalf("only %d of 10 runs were killed before they finished: the test proves little", killed)
			}
		})
	}
}
