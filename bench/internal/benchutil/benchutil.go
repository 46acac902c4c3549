// Package benchutil holds what the benchmark programs under bench/cmd share:
// loading the real-Spark capture records, preparing and clearing a
// ZooKeeper tree, and timing a command with its peak memory.
package benchutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	gozk "github.com/go-zookeeper/zk"
	"golang.org/x/sync/errgroup"

	"github.com/recoverctl/recoverctl/codec/envelope"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
)

// LoadCaptures reads the Spark records (app_, driver_, worker_) of every
// directory glob matches; with plainOnly, records in a compression codec's
// framing are left out (a Master without spark.deploy.recoveryCompressionCodec,
// the default, writes plain records).
func LoadCaptures(glob string, plainOnly bool) ([]store.Record, error) {
	dirs, _ := filepath.Glob(glob)
	var pool []store.Record
	for _, d := range dirs {
		des, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, de := range des {
			if k, _ := store.ParseName(de.Name()); k == store.KindForeign {
				continue
			}
			b, err := os.ReadFile(filepath.Join(d, de.Name()))
			if err != nil {
				return nil, err
			}
			if plainOnly && envelope.Detect(b).IsCodec() {
				continue
			}
			pool = append(pool, store.NewRecord(de.Name(), b))
		}
	}
	if len(pool) == 0 {
		return nil, fmt.Errorf("no capture records match %s", glob)
	}
	return pool, nil
}

// Mkdirs creates p and its parents with empty data, ignoring those that exist.
func Mkdirs(conn *gozk.Conn, p string) error {
	cur := ""
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		cur += "/" + seg
		if _, err := conn.Create(cur, nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil && err != gozk.ErrNodeExists {
			return err
		}
	}
	return nil
}

// DeleteTree deletes p and everything under it; a missing p is no error.
func DeleteTree(conn *gozk.Conn, p string) error {
	children, _, err := conn.Children(p)
	if err == gozk.ErrNoNode {
		return nil
	}
	if err != nil {
		return err
	}
	var g errgroup.Group
	g.SetLimit(64)
	for _, c := range children {
		g.Go(func() error { return DeleteTree(conn, p+"/"+c) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return conn.Delete(p, -1)
}

var rssRE = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// Timed runs a command under /usr/bin/time -v, its output discarded, and
// returns its wall time and peak resident memory in KiB (0 if unknown).
func Timed(name string, args ...string) (seconds float64, rssKB int64, err error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-v", name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t0 := time.Now()
	err = cmd.Run()
	seconds = time.Since(t0).Seconds()
	if err != nil {
		return seconds, 0, fmt.Errorf("%s %v: %w\n%s", name, args, err, stderr.String())
	}
	if m := rssRE.FindStringSubmatch(stderr.String()); m != nil {
		rssKB, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return seconds, rssKB, nil
}

// ServerVersion is the ZooKeeper version the server at addr reports, "?"
// when it does not say.
func ServerVersion(addr string) string {
	b, err := zktest.FourLetterWord(addr, "srvr", 2*time.Second)
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Zookeeper version: "); ok {
			if i := strings.IndexByte(v, '-'); i > 0 {
				v = v[:i]
			}
			return v
		}
	}
	return "?"
}

// FloorMulti is the bare write floor: it creates recs under dir in multis
// of about 512 KiB, one at a time, as the plan engine sends its batches.
func FloorMulti(conn *gozk.Conn, dir string, recs []store.Record) error {
	if err := Mkdirs(conn, dir); err != nil {
		return err
	}
	var ops []any
	cost := 0
	for _, r := range recs {
		c := len(r.Data) + len(dir) + len(r.Name) + 256
		if cost+c > 512<<10 && len(ops) > 0 {
			if _, err := conn.Multi(ops...); err != nil {
				return err
			}
			ops, cost = nil, 0
		}
		ops = append(ops, &gozk.CreateRequest{Path: dir + "/" + r.Name, Data: r.Data, Acl: gozk.WorldACL(gozk.PermAll)})
		cost += c
	}
	_, err := conn.Multi(ops...)
	return err
}
