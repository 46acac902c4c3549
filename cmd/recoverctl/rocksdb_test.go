package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/recoverctl/recoverctl/backup"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/rocksdb"
)

// jvmDatabase is one of store/rocksdb's databases written by rocksdbjni,
// with what rocksdbjni's own iterator read back from it: per live key its
// value's length and SHA-256. Keys deleted, single-deleted or under a range
// deletion are absent; overwritten keys have their newest value.
type jvmDatabase struct {
	name string
	dir  string
	want map[string]jvmValue
}

type jvmValue struct {
	size   int
	sha256 string
}

func jvmDatabases(t *testing.T) []jvmDatabase {
	t.Helper()
	tsvs, _ := filepath.Glob("../../store/rocksdb/testdata/jvm/*/expected.tsv")
	if len(tsvs) == 0 {
		t.Fatal("no rocksdbjni database under store/rocksdb/testdata/jvm")
	}
	var out []jvmDatabase
	for _, tsv := range tsvs {
		d := jvmDatabase{name: filepath.Base(filepath.Dir(tsv)), dir: filepath.Join(filepath.Dir(tsv), "db"), want: map[string]jvmValue{}}
		f, err := os.Open(tsv)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			cols := strings.Split(sc.Text(), "\t")
			if len(cols) != 4 {
				t.Fatalf("%s: line %q", tsv, sc.Text())
			}
			key, err := hex.DecodeString(cols[1])
			if err != nil {
				t.Fatal(err)
			}
			n, err := strconv.Atoi(cols[2])
			if err != nil {
				t.Fatal(err)
			}
			if _, dup := d.want[string(key)]; dup {
				t.Fatalf("%s: %q in two column families", tsv, key)
			}
			d.want[string(key)] = jvmValue{n, cols[3]}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func rocksdbStatus(t *testing.T, dir string) rocksdbState {
	t.Helper()
	out, stderr, code := runCLI(t, "status", "-o", "json", "--rocksdb", dir)
	if code != exitOK && code != exitUndecodable {
		t.Fatalf("status --rocksdb %s: exit %d: %s", dir, code, stderr)
	}
	var rep struct {
		RocksDB *rocksdbState `json:"rocksdb"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.RocksDB == nil {
		t.Fatalf("status -o json: %v: %s", err, out)
	}
	return *rep.RocksDB
}

// ls and backup show, for every key, the value rocksdbjni reads back:
// the newest version, and nothing for a deleted key.
func TestRocksDBNewestVersionsNoDeletedRecords(t *testing.T) {
	var deleted, tables int
	for _, db := range jvmDatabases(t) {
		t.Run(db.name, func(t *testing.T) {
			st := rocksdbStatus(t, db.dir)
			deleted += st.Deleted
			for _, f := range st.Files {
				if f.Kind == "sst" {
					tables++
				}
			}

			// ls: the synthetic values are not Spark objects, so every
			// Spark-named key is listed as undecodable, with its size.
			doc, stderr, code := lsJSON(t, "--rocksdb", db.dir)
			if code != exitUndecodable {
				t.Errorf("ls: exit %d, want %d: %s", code, exitUndecodable, stderr)
			}
			shown := map[string]int{}
			undecodable, _ := doc["undecodable"].([]any)
			for _, u := range undecodable {
				m := u.(map[string]any)
				size, _ := m["recordsize"].(float64)
				shown[m["record"].(string)] = int(size)
			}
			foreign, _ := doc["foreign"].([]any)
			for _, f := range foreign {
				shown[fmt.Sprint(f.(map[string]any)["name"])] = -1
			}
			for name, w := range db.want {
				got, ok := shown[name]
				switch k, _ := store.ParseName(name); {
				case !ok:
					t.Errorf("ls: %s missing", name)
				case k != store.KindForeign && got != w.size:
					t.Errorf("ls: %s is %d bytes, the newest version rocksdbjni reads %d", name, got, w.size)
				}
			}
			for name := range shown {
				if _, ok := db.want[name]; !ok {
					t.Errorf("ls shows %s, which rocksdbjni does not read (deleted)", name)
				}
			}

			// backup: every Spark record with the newest value's bytes.
			archive := filepath.Join(t.TempDir(), "a.rctl.zst")
			res := backupTo(t, "--rocksdb", db.dir, "--to", archive)
			if _, stderr, code := runCLI(t, "verify", archive); code != exitOK {
				t.Fatalf("verify: exit %d: %s", code, stderr)
			}
			a, err := backup.OpenFile(context.Background(), archive)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.Manifest().StoreKind != "rocksdb" {
				t.Errorf("archive store kind %q, want rocksdb", a.Manifest().StoreKind)
			}
			got := map[string]bool{}
			for r, err := range a.Records(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				got[r.Name] = true
				w, ok := db.want[r.Name]
				if sum := fmt.Sprintf("%x", sha256.Sum256(r.Data)); !ok || sum != w.sha256 {
					t.Errorf("archive: %s: %d bytes sha256 %s, rocksdbjni reads %+v (present %v)", r.Name, len(r.Data), sum[:12], w, ok)
				}
			}
			spark := 0
			for name := range db.want {
				if k, _ := store.ParseName(name); k != store.KindForeign {
					spark++
					if !got[name] {
						t.Errorf("archive lacks %s", name)
					}
				}
			}
			if res.Records != spark {
				t.Errorf("backup: %d records, want %d", res.Records, spark)
			}
		})
	}
	// The databases must hold what the test is about.
	if deleted == 0 || tables == 0 {
		t.Fatalf("the databases hold %d deleted keys and %d SSTs: nothing tested", deleted, tables)
	}
}

func TestStatusRocksDB(t *testing.T) {
	for _, c := range rocksdbCaptures(t) {
		t.Run(c.name, func(t *testing.T) {
			st := rocksdbStatus(t, c.rocksdb)
			want := readDirRecords(t, c.records)
			// A Master that never restarted on its directory left a WAL and no SST
			// (rocksdb, rocksdb-stopped): every record is in the log only. A
			// restarted one (rocksdb-long) flushed the log it recovered into SSTs.
			ssts, _ := filepath.Glob(filepath.Join(c.rocksdb, "*.sst"))
			logFiles, _ := filepath.Glob(filepath.Join(c.rocksdb, "*.log"))
			if len(logFiles) != 1 {
				t.Fatalf("%s holds logs %v, want one", c.rocksdb, logFiles)
			}
			logOnly := len(want)
			if len(ssts) > 0 {
				logOnly = len(st.LogOnly)
				if st.Deleted == 0 {
					t.Errorf("a restarted Master's database with %d SSTs shows no deleted key: %+v", len(ssts), st)
				}
			}
			if len(st.LogOnly) != logOnly {
				t.Errorf("logonly %v, want every record of a killed Master (%d)", st.LogOnly, len(want))
			}
			for _, n := range st.LogOnly {
				if _, ok := want[n]; !ok {
					t.Errorf("logonly names %s, no record of the capture", n)
				}
			}
			var logs int
			for _, f := range st.Files {
				if f.Kind == "log" && f.Records > 0 {
					logs++
				}
			}
			if logs == 0 || st.LargestSeq == 0 || st.Manifest == "" || st.Locked || len(st.Problems) != 0 {
				t.Errorf("status: %+v", st)
			}
			out, _, _ := runCLI(t, "status", "--rocksdb", c.rocksdb)
			expect := []string{"rocksdb:", filepath.Base(logFiles[0]), "only in log:  " + strconv.Itoa(logOnly), "lock:         free", "problems:     0"}
			for _, f := range ssts {
				expect = append(expect, filepath.Base(f))
			}
			for _, s := range expect {
				if !strings.Contains(out, s) {
					t.Errorf("status table lacks %q:\n%s", s, out)
				}
			}
		})
	}
	// A database with SSTs, deletions and a log tail.
	for _, db := range jvmDatabases(t) {
		if db.name != "killed-with-ssts" {
			continue
		}
		st := rocksdbStatus(t, db.dir)
		var ssts []string
		for _, f := range st.Files {
			if f.Kind == "sst" {
				ssts = append(ssts, f.Name+" "+f.Table)
				if f.Level == nil || f.Table == "" || f.Records == 0 {
					t.Errorf("sst %+v", f)
				}
			}
		}
		if len(ssts) < 2 || st.Deleted == 0 || len(st.LogOnly) == 0 || st.SmallestSeq >= st.LargestSeq {
			t.Errorf("killed-with-ssts: %+v", st)
		}
		return
	}
	t.Fatal("no killed-with-ssts database")
}

// copyDatabase copies a RocksDB directory into a fresh one.
func copyDatabase(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "rocksdb")
	if err := os.Mkdir(to, 0o755); err != nil {
		t.Fatal(err)
	}
	des, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		b, err := os.ReadFile(filepath.Join(from, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, de.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// A RocksDB directory named as a FILESYSTEM one is refused by every
// command, with the flag to use, and nothing in it is touched or planned
// for deletion.
func TestRocksDBNeverARecoveryDirectory(t *testing.T) {
	c := rocksdbCaptures(t)[0]
	db := copyDatabase(t, c.rocksdb)
	before := snapshotDir(t, db)
	target := t.TempDir()
	for _, args := range [][]string{
		{"ls", "--fs", db},
		{"show", "app-20261128051446-0000", "--fs", db},
		{"status", "--fs", db},
		{"audit", "--fs", db},
		{"backup", "--fs", db, "--to", filepath.Join(t.TempDir(), "x.rctl.zst")},
		{"prune", "--foreign", "--dry-run", "--fs", db},
		{"prune", "--foreign", "--yes", "--fs", db, "--backup-dir", t.TempDir()},
		{"migrate", "--from", "fs://" + db, "--to", "fs://" + target, "--dry-run"},
		{"migrate", "--from", "fs://" + target, "--to", "fs://" + db, "--dry-run"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			out, stderr, code := runCLI(t, args...)
			if code != exitUsage || !strings.Contains(stderr, "RocksDB database") || !strings.Contains(stderr, "--rocksdb "+db) {
				t.Errorf("%v: exit %d, want %d naming --rocksdb %s; stderr: %s", args, code, exitUsage, db, stderr)
			}
			if strings.Contains(out, "delete") || strings.Contains(out, "foreign") {
				t.Errorf("%v planned on the database's files: %s", args, out)
			}
		})
	}
	// The same through the Master's configuration when it says FILESYSTEM.
	conf := writeConf(t, fmt.Sprintf("SPARK_MASTER_OPTS=\"-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=%s\"\n", db), "")
	if _, stderr, code := runCLI(t, "prune", "--foreign", "--dry-run", "--spark-conf", conf); code != exitUsage || !strings.Contains(stderr, "--rocksdb") {
		t.Errorf("prune --spark-conf (FILESYSTEM on a database): exit %d: %s", code, stderr)
	}
	if after := snapshotDir(t, db); after != before {
		t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
	}
}

// Writers write a RocksDB target through the same engine as every store:
// a dry run changes nothing; migrate and restore into a new database and
// prune on it leave exactly the records planned, read back by the reader.
func TestWritersOnRocksDB(t *testing.T) {
	c := rocksdbCaptures(t)[0]
	db := copyDatabase(t, c.rocksdb)
	before := snapshotDir(t, db)
	want := readDirRecords(t, c.records)
	archive := filepath.Join(t.TempDir(), "a.rctl.zst")
	backupTo(t, "--fs", c.records, "--to", archive)
	for _, args := range [][]string{
		{"restore", archive, "--rocksdb", db, "--dry-run"},
		{"prune", "--foreign", "--dry-run", "--rocksdb", db},
		{"migrate", "--from", "fs://" + absTest(t, c.records), "--to", "rocksdb://" + db, "--dry-run"},
	} {
		if _, stderr, code := runCLI(t, args...); code != exitOK {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
	if after := snapshotDir(t, db); after != before {
		t.Errorf("a dry run changed the database:\nbefore %s\nafter  %s", before, after)
	}
	readDB := func(dir string) map[string][]byte {
		t.Helper()
		s, err := rocksdb.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		got := map[string][]byte{}
		if err := s.Scan(t.Context(), store.ScanRequest{}, func(rec store.Record, err error) error {
			if err != nil {
				return err
			}
			got[rec.Name] = rec.Data
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	migrated := filepath.Join(t.TempDir(), "migrated")
	if _, stderr, code := runCLI(t, "migrate", "--from", "fs://"+absTest(t, c.records), "--to", "rocksdb://"+migrated, "--yes"); code != exitOK {
		t.Fatalf("migrate into a new RocksDB directory: exit %d: %s", code, stderr)
	}
	sameRecords(t, "migrated into RocksDB", readDB(migrated), want)
	restored := filepath.Join(t.TempDir(), "restored")
	if _, stderr, code := runCLI(t, "restore", archive, "--rocksdb", restored, "--yes"); code != exitOK {
		t.Fatalf("restore into a new RocksDB directory: exit %d: %s", code, stderr)
	}
	sameRecords(t, "restored into RocksDB", readDB(restored), want)
	if _, stderr, code := runCLI(t, "prune", "--kind", "worker", "--rocksdb", restored, "--yes"); code != exitOK {
		t.Fatalf("prune on RocksDB: exit %d: %s", code, stderr)
	}
	left := map[string][]byte{}
	for n, b := range want {
		if !strings.HasPrefix(n, "worker_") {
			left[n] = b
		}
	}
	sameRecords(t, "after prune --kind worker", readDB(restored), left)
}

func absTest(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestSparkConfRocksDB(t *testing.T) {
	c := rocksdbCaptures(t)[0]
	abs := absTest(t, c.rocksdb)
	conf := writeConf(t, fmt.Sprintf("export SPARK_MASTER_OPTS=\"-Dspark.deploy.recoveryMode=ROCKSDB -Dspark.deploy.recoveryDirectory=%s\"\n", abs), "")
	doc, stderr, code := lsJSON(t, "--spark-conf", conf, "-v")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "ROCKSDB directory "+abs) || doc["store"] != "rocksdb://"+abs {
		t.Errorf("not read as the ROCKSDB store %s: store %v; stderr %s", abs, doc["store"], stderr)
	}
	compareWithMaster(t, c, doc)
	for _, args := range [][]string{{"status"}, {"audit"}, {"show", "app-20261128051446-0000"}} {
		if out, stderr, code := runCLI(t, append(args, "--spark-conf", conf)...); code != exitOK || !strings.Contains(out, abs) && args[0] != "show" {
			t.Errorf("%v --spark-conf: exit %d: %s%s", args, code, out, stderr)
		}
	}
}

// migrate --from rocksdb:// into a real ZooKeeper: every record read back
// identical, the bytes rocksdbjni read from the database (records/).
func TestMigrateFromRocksDBToZooKeeper(t *testing.T) {
	srv := zktest.Start(t)
	for i, c := range rocksdbCaptures(t) {
		t.Run(c.name, func(t *testing.T) {
			chroot := fmt.Sprintf("/rocks%d", i)
			to := "zk://" + srv.Addr() + chroot
			from := "rocksdb://" + absTest(t, c.rocksdb)
			out, stderr, code := runCLI(t, "migrate", "--from", from, "--to", to, "--yes", "--backup-dir", t.TempDir(), "-o", "json")
			if code != exitOK {
				t.Fatalf("migrate: exit %d: %s%s", code, out, stderr)
			}
			var res migrateResult
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.Result == nil {
				t.Fatalf("migrate -o json: %v: %s", err, out)
			}
			want := readDirRecords(t, c.records)
			if res.Source != from || res.Create != len(want) || res.Result.Verified != len(want) {
				t.Errorf("migrate: source %s, %d created, %d read back; want %s, %d", res.Source, res.Create, res.Result.Verified, from, len(want))
			}
			sameRecords(t, "ZooKeeper after migrate", readZK(t, openZK(t, srv.Addr()+chroot)), want)
			doc, stderr, code := lsJSON(t, "--zk", srv.Addr()+chroot)
			if code != exitOK {
				t.Fatalf("ls --zk: exit %d: %s", code, stderr)
			}
			compareWithMaster(t, c, doc)
			// Again: nothing left to write.
			out, stderr, code = runCLI(t, "migrate", "--from", from, "--to", to, "--yes", "--backup-dir", t.TempDir())
			if code != exitOK || !strings.Contains(out, "nothing to write") {
				t.Errorf("second migrate: exit %d: %s%s", code, out, stderr)
			}
		})
	}
}

// holdLockEnv makes TestRocksDBLockHelper, run as a child process, hold
// the LOCK of a database as a RocksDB does (a POSIX write lock) until its
// stdin closes. A child, because POSIX locks belong to a process: any
// close of the file in the process holding one releases it.
const holdLockEnv = "RECOVERCTL_TEST_HOLD_ROCKSDB_LOCK"

func TestRocksDBLockHelper(t *testing.T) {
	path := os.Getenv(holdLockEnv)
	if path == "" {
		return // only a helper of TestRocksDBLockHolder
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// A database whose LOCK a process holds is a live Master's: status says
// so, and a migration out of it is refused without --force.
func TestRocksDBLockHolder(t *testing.T) {
	c := rocksdbCaptures(t)[0]
	db := copyDatabase(t, c.rocksdb)
	child := exec.Command(os.Args[0], "-test.run=^TestRocksDBLockHelper$")
	child.Env = append(os.Environ(), holdLockEnv+"="+filepath.Join(db, "LOCK"))
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = child.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("lock holder: %q, %v", line, err)
	}
	pid := child.Process.Pid

	st := rocksdbStatus(t, db)
	if !st.Locked || st.LockPID != pid {
		t.Errorf("status: locked %v by %d, want the holder %d", st.Locked, st.LockPID, pid)
	}
	out, _, _ := runCLI(t, "status", "--rocksdb", db)
	if !strings.Contains(out, fmt.Sprintf("held by process %d", pid)) {
		t.Errorf("status table does not name the holder:\n%s", out)
	}
	target := t.TempDir()
	_, stderr, code := runCLI(t, "migrate", "--from", "rocksdb://"+db, "--to", "fs://"+target, "--yes", "--backup-dir", t.TempDir())
	if code != exitRefused || !strings.Contains(stderr, fmt.Sprintf("process %d holds the RocksDB LOCK", pid)) {
		t.Errorf("migrate from a held database: exit %d, want %d: %s", code, exitRefused, stderr)
	}
	if des, _ := os.ReadDir(target); len(des) != 0 {
		t.Errorf("refused migrate wrote %d files", len(des))
	}
	// Once the holder is gone, the same migration goes through.
	stdin.Close()
	_ = child.Wait()
	if _, stderr, code := runCLI(t, "migrate", "--from", "rocksdb://"+db, "--to", "fs://"+target, "--yes", "--backup-dir", t.TempDir()); code != exitOK {
		t.Errorf("migrate after the holder exited: exit %d: %s", code, stderr)
	}
	sameRecords(t, "directory after migrate", readDirRecords(t, target), readDirRecords(t, c.records))
}

// backup --rocksdb, verify, and restore into a directory: the records
// rocksdbjni read from the database, byte for byte.
func TestBackupRocksDBVerifyRestore(t *testing.T) {
	for _, c := range rocksdbCaptures(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			res := backupTo(t, "--rocksdb", c.rocksdb, "--to", dir+"/")
			if !strings.Contains(filepath.Base(res.Archive), "recoverctl-rocksdb-") {
				t.Errorf("archive %s not named for a rocksdb store", res.Archive)
			}
			out, stderr, code := runCLI(t, "verify", res.Archive)
			if code != exitOK || !strings.Contains(out, "rocksdb store rocksdb://") {
				t.Fatalf("verify: exit %d: %s%s", code, out, stderr)
			}
			target := t.TempDir()
			if _, stderr, code := runCLI(t, "restore", res.Archive, "--fs", target, "--yes", "--backup-dir", t.TempDir()); code != exitOK {
				t.Fatalf("restore: exit %d: %s", code, stderr)
			}
			sameRecords(t, "restored directory", readDirRecords(t, target), readDirRecords(t, c.records))
		})
	}
}

// A damaged database (its log cut in the middle of a write batch) is read
// as far as it goes; status and audit report the damage with the file.
func TestRocksDBDamageReported(t *testing.T) {
	c := rocksdbCaptures(t)[0]
	db := copyDatabase(t, c.rocksdb)
	log := filepath.Join(db, "000004.log")
	fi, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(log, fi.Size()-1000); err != nil {
		t.Fatal(err)
	}
	st := rocksdbStatus(t, db)
	if len(st.Problems) == 0 || !strings.Contains(strings.Join(st.Problems, "\n"), "000004.log") {
		t.Errorf("status problems %q: want the truncated log named", st.Problems)
	}
	doc, _, _ := lsJSON(t, "--rocksdb", db)
	workers, _ := doc["workers"].([]any)
	if len(workers) == 0 {
		t.Errorf("nothing listed from the records before the damage: %v", doc)
	}
	out, _, code := runCLI(t, "audit", "--rocksdb", db)
	if code != exitFindings || !strings.Contains(out, "000004.log") {
		t.Errorf("audit: exit %d, want %d naming the log:\n%s", code, exitFindings, out)
	}
}

// --master asks a ROCKSDB directory's Master too, as for a FILESYSTEM one.
func TestMigrateFromRocksDBAsksMaster(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"url":"spark://127.0.0.1:7077","status":"ALIVE"}`)
	}))
	defer srv.Close()
	c := rocksdbCaptures(t)[0]
	target := t.TempDir()
	args := []string{"migrate", "--from", "rocksdb://" + absTest(t, c.rocksdb), "--to", "fs://" + target, "--master", srv.URL, "--yes", "--backup-dir", t.TempDir()}
	if _, stderr, code := runCLI(t, args...); code != exitRefused || !strings.Contains(stderr, "Master ALIVE") {
		t.Fatalf("exit %d, want %d: %s", code, exitRefused, stderr)
	}
	if des, _ := os.ReadDir(target); len(des) != 0 {
		t.Fatalf("refused migrate wrote %d files", len(des))
	}
	if _, stderr, code := runCLI(t, append(args, "--force")...); code != exitOK {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	sameRecords(t, "forced migrate", readDirRecords(t, target), readDirRecords(t, c.records))
}
