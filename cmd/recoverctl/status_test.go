package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/internal/zktest"
)

// status must count what the Master listed and name the release that wrote
// the records, read from class layouts alone.
func TestStatusOnCaptures(t *testing.T) {
	for _, c := range captures(t) {
		if !c.decoding {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := runRoot(t, "status", "-o", "json", "--fs", c.records)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep statusReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			count := func(key string) int { l, _ := c.master[key].([]any); return len(l) }
			if rep.Workers != count("workers") || rep.Apps != count("activeapps") || rep.Drivers != count("activedrivers") {
				t.Errorf("counts %d/%d/%d, the Master listed %d/%d/%d", rep.Workers, rep.Apps, rep.Drivers,
					count("workers"), count("activeapps"), count("activedrivers"))
			}
			release, _, _ := strings.Cut(c.name, "/") // "3.5.8-2.12"
			found := false
			for _, r := range rep.SparkReleases {
				found = found || r == release
			}
			if !found {
				t.Errorf("status says written by %q %v; the capture is %s", rep.Spark, rep.SparkReleases, release)
			}
			if _, scala, _ := strings.Cut(release, "-"); !strings.HasSuffix(rep.Spark, " (Scala "+scala+")") {
				t.Errorf("status says written by %q; the capture is Scala %s", rep.Spark, scala)
			}
			out, stderr, code = runRoot(t, "status", "--fs", c.records)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// The store line names the checkout's absolute path.
			if abs, err := filepath.Abs(c.records); err == nil {
				out = strings.ReplaceAll(out, abs, "testdata/spark/"+c.name+"/records")
			}
			golden(t, "status/"+strings.ReplaceAll(c.name, "/", "-")+".golden", []byte(out))
		})
	}
}

func TestStatusLeaderElection(t *testing.T) {
	var zkCap *capture
	for _, c := range captures(t) {
		if c.znodes != "" && c.decoding {
			zkCap = &c
			break
		}
	}
	if zkCap == nil {
		t.Fatal("no ZooKeeper capture")
	}
	srv := zktest.Start(t)
	dump, err := zktest.ReadDump(zkCap.znodes)
	if err != nil {
		t.Fatal(err)
	}
	if err := zktest.LoadDump(t.Context(), srv.Addr(), dump, ""); err != nil {
		t.Fatal(err)
	}
	latches := 0
	for _, z := range dump.Znodes {
		if strings.Contains(z.Path, "/leader_election/") && strings.Contains(z.Path, "latch-") {
			latches++
		}
	}
	out, stderr, code := runRoot(t, "status", "-o", "json", "--zk", srv.Addr(), "--zk-dir", dump.SparkDir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Election == nil || len(rep.Election.Participants) != latches || latches == 0 {
		t.Fatalf("election %+v, the capture holds %d latch node(s)", rep.Election, latches)
	}
	if rep.Election.Leader == nil {
		t.Error("no leader named among the participants")
	}
}
