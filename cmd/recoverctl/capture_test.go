package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/internal/zktest"
)

// capture is one directory of testdata/spark: state a real Spark Master
// wrote, with that Master's own /json view taken just before it was killed.
type capture struct {
	name     string // "3.5.8-2.12/filesystem"
	dir      string
	records  string
	master   map[string]any
	znodes   string // znodes.json, ZooKeeper captures only
	rocksdb  string // the RocksDB directory itself, ROCKSDB captures only
	decoding bool   // false for variants whose records are not Java-decodable (kryo)
}

func captures(t *testing.T) []capture {
	t.Helper()
	dirs, _ := filepath.Glob("../../testdata/spark/*/*/records")
	if len(dirs) == 0 {
		t.Fatal("no capture under testdata/spark/*/*/records: the real-Spark captures are required")
	}
	var out []capture
	for _, rec := range dirs {
		dir := filepath.Dir(rec)
		c := capture{name: strings.TrimPrefix(dir, "../../testdata/spark/"), dir: dir, records: rec, decoding: !strings.Contains(dir, "kryo")}
		b, err := os.ReadFile(filepath.Join(dir, "master.json"))
		if err != nil {
			t.Fatalf("%s: every capture needs the Master's own view: %v", c.name, err)
		}
		if err := json.Unmarshal(b, &c.master); err != nil {
			t.Fatalf("%s/master.json: %v", c.name, err)
		}
		if z := filepath.Join(dir, "znodes.json"); fileExists(z) {
			c.znodes = z
		}
		if r := filepath.Join(dir, "rocksdb"); fileExists(filepath.Join(r, "CURRENT")) {
			c.rocksdb = r
		}
		out = append(out, c)
	}
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// sharedKeys must appear in both the Master's JSON and ours, so that the
// comparison cannot pass by sharing nothing.
var sharedKeys = map[string][]string{
	"workers":       {"id", "host", "port", "webuiaddress", "cores", "memory"},
	"activeapps":    {"id", "name", "user", "starttime", "submitdate", "memoryperexecutor"},
	"activedrivers": {"id", "starttime", "submitdate", "cores", "memory", "mainclass"},
}

// compareWithMaster checks that every field ls prints under a name the
// Master's JSON also uses has the Master's value, for every worker, app and
// driver the Master listed.
func compareWithMaster(t *testing.T, c capture, ours map[string]any) {
	t.Helper()
	for section, required := range sharedKeys {
		theirs, _ := c.master[section].([]any)
		mine, _ := ours[section].([]any)
		byID := map[string]map[string]any{}
		for _, m := range mine {
			obj := m.(map[string]any)
			byID[obj["id"].(string)] = obj
		}
		if len(theirs) == 0 {
			t.Errorf("%s: master.json lists no %s", c.name, section)
		}
		for _, x := range theirs {
			want := x.(map[string]any)
			id, _ := want["id"].(string)
			if section == "workers" && want["state"] == "DEAD" {
				continue // the Master keeps dead workers in /json, not in its records
			}
			got, ok := byID[id]
			if !ok {
				t.Errorf("%s: %s %s is in the Master's JSON but not in ls", c.name, section, id)
				continue
			}
			for _, k := range required {
				if _, ok := got[k]; !ok {
					t.Errorf("%s: %s %s: ls lacks %q", c.name, section, id, k)
				}
			}
			for k, wv := range want {
				gv, ok := got[k]
				if !ok {
					continue
				}
				if !sameJSON(wv, gv) {
					t.Errorf("%s: %s %s: %q = %v, the Master says %v", c.name, section, id, k, gv, wv)
				}
			}
		}
		if len(mine) != len(theirs) {
			t.Errorf("%s: ls has %d %s, the Master's JSON %d", c.name, len(mine), section, len(theirs))
		}
	}
}

// sameJSON compares decoded JSON values on what both sides have: objects on
// their shared keys (ls may add fields the Master's JSON lacks), arrays
// element by element. Numbers may be strings on one side (a driver's
// starttime is startTime.toString in the Master's JSON).
func sameJSON(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok && !sameJSON(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameJSON(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	if reflect.DeepEqual(want, got) {
		return true
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	return strings.Trim(string(wb), `"`) == strings.Trim(string(gb), `"`)
}

func lsJSON(t *testing.T, args ...string) (map[string]any, string, int) {
	t.Helper()
	root := newRootCommand()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(append([]string{"ls", "-o", "json"}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := exitCode(root.ExecuteContext(ctx))
	var doc map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("ls %v: output is not JSON (%v): %s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	return doc, stderr.String(), code
}

func TestLsMatchesMasterJSONFromDirectory(t *testing.T) {
	for _, c := range captures(t) {
		if !c.decoding {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			doc, stderr, code := lsJSON(t, "--fs", c.records)
			if code != exitOK {
				t.Errorf("exit %d, want 0; stderr: %s; undecodable: %v", code, stderr, doc["undecodable"])
			}
			compareWithMaster(t, c, doc)
		})
	}
}

func TestLsMatchesMasterJSONFromZooKeeper(t *testing.T) {
	var zkCaptures []capture
	for _, c := range captures(t) {
		if c.znodes != "" && c.decoding {
			zkCaptures = append(zkCaptures, c)
		}
	}
	if len(zkCaptures) == 0 {
		t.Fatal("no ZooKeeper capture (testdata/spark/*/zookeeper/znodes.json)")
	}
	srv := zktest.Start(t)
	for i, c := range zkCaptures {
		dump, err := zktest.ReadDump(c.znodes)
		if err != nil {
			t.Fatal(err)
		}
		// Each capture under a chroot of its own; the first also exactly as
		// Spark wrote it, at the server's root.
		chroots := []string{fmt.Sprintf("/capture%d", i)}
		if i == 0 {
			chroots = append(chroots, "")
		}
		for _, chroot := range chroots {
			t.Run(c.name+chroot, func(t *testing.T) {
				if err := zktest.LoadDump(t.Context(), srv.Addr(), dump, chroot); err != nil {
					t.Fatal(err)
				}
				doc, stderr, code := lsJSON(t, "--zk", srv.Addr()+chroot, "--zk-dir", dump.SparkDir, "-v")
				if code != exitOK {
					t.Errorf("exit %d, want 0; stderr: %s; undecodable: %v", code, stderr, doc["undecodable"])
				}
				if strings.Contains(stderr, "getData") {
					t.Errorf("read without multiRead from a server that has it: %s", stderr)
				}
				compareWithMaster(t, c, doc)
				// One getData per znode, as on ZooKeeper before 3.6: the same listing.
				single, _, _ := lsJSON(t, "--zk", srv.Addr()+chroot, "--zk-dir", dump.SparkDir, "--zk-multiread=false")
				if !reflect.DeepEqual(doc, single) {
					t.Errorf("ls --zk-multiread=false differs from ls")
				}
			})
		}
	}
}

// rocksdbCaptures are the captures of ROCKSDB Masters; there must be one
// per RocksDB directory the generator left.
func rocksdbCaptures(t *testing.T) []capture {
	t.Helper()
	dbs, _ := filepath.Glob("../../testdata/spark/*/*/rocksdb/CURRENT")
	var out []capture
	for _, c := range captures(t) {
		if c.rocksdb != "" && c.decoding {
			out = append(out, c)
		}
	}
	if len(out) == 0 || len(out) != len(dbs) {
		t.Fatalf("%d ROCKSDB captures with records and master.json, %d RocksDB directories under testdata/spark", len(out), len(dbs))
	}
	return out
}

func TestLsMatchesMasterJSONFromRocksDB(t *testing.T) {
	for _, c := range rocksdbCaptures(t) {
		t.Run(c.name, func(t *testing.T) {
			doc, stderr, code := lsJSON(t, "--rocksdb", c.rocksdb)
			if code != exitOK {
				t.Errorf("exit %d, want 0; stderr: %s; undecodable: %v", code, stderr, doc["undecodable"])
			}
			if !strings.HasPrefix(fmt.Sprint(doc["store"]), "rocksdb:///") {
				t.Errorf("store %v: not read as a RocksDB store", doc["store"])
			}
			compareWithMaster(t, c, doc)
		})
	}
}
