package zktest

import (
	"strings"
	"testing"
	"time"
)

func TestStartRestartStop(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	s := Start(t)
	t.Logf("standalone server up in %s", time.Since(begin))
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("Addr = %q, want loopback", s.Addr())
	}
	out, err := FourLetterWord(s.Addr(), "ruok", time.Second)
	if err != nil || string(out) != "imok" {
		t.Fatalf("ruok = %q, %v", out, err)
	}
	if m, err := s.Mode(); m != "standalone" {
		t.Fatalf("Mode = %q, %v", m, err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Mode(); m != "standalone" {
		t.Fatalf("after Restart Mode = %q, %v", m, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := FourLetterWord(s.Addr(), "ruok", 200*time.Millisecond); err == nil {
		t.Fatal("server still answers after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestEnsemble(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	e := StartEnsemble(t, 3)
	t.Logf("3-member quorum up in %s", time.Since(begin))
	if n := strings.Count(e.ConnectString(), ","); n != 2 {
		t.Fatalf("ConnectString %q: want 3 members", e.ConnectString())
	}
	leader := -1
	for i, s := range e.Servers {
		if m, _ := s.Mode(); m == "leader" {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no leader")
	}
	// Stopping the leader forces a new election among the two others.
	if err := e.StopServer(leader); err != nil {
		t.Fatal(err)
	}
	if err := e.WaitQuorum(20 * time.Second); err != nil {
		t.Fatalf("two of three members lost quorum: %v", err)
	}
	if err := e.StartServer(leader); err != nil {
		t.Fatal(err)
	}
	if m, err := e.Servers[leader].Mode(); m != "follower" && m != "leader" {
		t.Fatalf("restarted member Mode = %q, %v", m, err)
	}
}
