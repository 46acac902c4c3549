package zktest

import (
	"errors"
	"os"
	"testing"
)

// Start starts a standalone server for t and stops it in t.Cleanup. When
// no server can be started it skips t, or fails it when CI=true so that CI
// never passes without having run the ZooKeeper tests.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer(t.TempDir())
	if err != nil {
		unavailable(t, err)
	}
	// The test command counts these lines: CI's output shows that tests
	// really ran against servers.
	t.Logf("zktest: real ZooKeeper server serving at %s", s.Addr())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("zookeeper %s log tail (%s):\n%s", s.Addr(), s.LogPath(), s.LogTail(20))
		}
		_ = s.Stop()
	})
	return s
}

// StartTLS is Start with a server serving clients TLS only (see
// TLSOptions); its certificates are in s.TLS().
func StartTLS(t testing.TB, opt TLSOptions) *Server {
	t.Helper()
	s, err := StartTLSServer(t.TempDir(), opt)
	if err != nil {
		unavailable(t, err)
	}
	t.Logf("zktest: real ZooKeeper server serving at %s (TLS only, clientAuth %q)", s.Addr(), opt.ClientAuth)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("zookeeper %s log tail (%s):\n%s", s.Addr(), s.LogPath(), s.LogTail(20))
		}
		_ = s.Stop()
	})
	return s
}

// StartRelease is Start with another ZooKeeper release (see OldRelease).
func StartRelease(t testing.TB, release string) *Server {
	t.Helper()
	s, err := StartReleaseServer(t.TempDir(), release)
	if err != nil {
		unavailable(t, err)
	}
	t.Logf("zktest: real ZooKeeper server serving at %s (release %s)", s.Addr(), release)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("zookeeper %s log tail (%s):\n%s", s.Addr(), s.LogPath(), s.LogTail(20))
		}
		_ = s.Stop()
	})
	return s
}

// StartEnsemble starts an n-member quorum for t and stops it in t.Cleanup;
// skipping and failing as Start.
func StartEnsemble(t testing.TB, n int) *Ensemble {
	t.Helper()
	e, err := StartEnsembleServers(t.TempDir(), n)
	if err != nil {
		unavailable(t, err)
	}
	t.Logf("zktest: real ZooKeeper ensemble of %d serving at %s", n, e.ConnectString())
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range e.Servers {
				t.Logf("zookeeper %s log tail (%s):\n%s", s.Addr(), s.LogPath(), s.LogTail(20))
			}
		}
		e.Stop()
	})
	return e
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("zookeeper required in CI: %v", err)
	}
	if errors.Is(err, ErrNoJava) {
		t.Skipf("zookeeper not available: %v", err)
	}
	// A runtime that exists but fails to start is a bug to see, not skip.
	t.Fatalf("zookeeper failed to start: %v", err)
}
