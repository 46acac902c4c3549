package sparktest

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestCluster starts a Master without recovery and one Worker, and checks
// the Master's /json sees the Worker ALIVE; killing the Worker's group must
// end the Worker.
func TestCluster(t *testing.T) {
	version, scala := "3.5.8", "2.12"
	if v := os.Getenv("RECOVERCTL_SPARKTEST_VERSION"); v != "" { // e.g. 4.0.5-2.13
		version, scala, _ = strings.Cut(v, "-")
	}
	home := Prepare(t, version, scala)
	m := StartMaster(t, home, MasterOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := m.WaitStatus(ctx, "ALIVE"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.URL(), "spark://127.0.0.1:") || !strings.HasPrefix(m.WebURL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q, WebURL %q: want loopback", m.URL(), m.WebURL())
	}
	w := StartWorker(t, home, m.URL(), WorkerOptions{Cores: 1, MemoryMB: 512})
	if !strings.HasPrefix(w.ID(), "worker-") {
		t.Fatalf("worker id %q", w.ID())
	}
	err := m.WaitJSON(ctx, "the worker ALIVE", func(v map[string]any) bool {
		ws, _ := v["workers"].([]any)
		for _, x := range ws {
			if o, _ := x.(map[string]any); o["id"] == w.ID() && o["state"] == "ALIVE" {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Kill()
	if !w.Exited() {
		t.Fatal("worker still running after Kill")
	}
	m.Kill()
	if _, err := m.JSON(ctx); err == nil {
		t.Fatal("master web UI still answers after Kill")
	}
}
