package zktest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Ensemble is a quorum of QuorumPeerMain servers on loopback, each with its
// own client, quorum and election port.
type Ensemble struct {
	Servers []*Server
}

// StartEnsembleServers starts n quorum members under dir (one subdirectory
// each) and waits until every member serves. The caller must Stop it.
func StartEnsembleServers(dir string, n int) (*Ensemble, error) {
	if n < 1 {
		return nil, fmt.Errorf("zktest: ensemble of %d servers", n)
	}
	rt, err := findRuntime()
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		e, err := startEnsemble(rt, filepath.Join(dir, fmt.Sprintf("try%d", attempt)), n)
		if err == nil {
			return e, nil
		}
		last = err
		var se *StartError
		if !errors.As(err, &se) || !strings.Contains(se.LogTail, "Address already in use") {
			break
		}
	}
	return nil, last
}

func startEnsemble(rt runtime, dir string, n int) (*Ensemble, error) {
	ports, err := freePorts(3 * n)
	if err != nil {
		return nil, err
	}
	members := make([]string, n)
	for i := range n {
		members[i] = fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, ports[3*i+1], ports[3*i+2])
	}
	e := &Ensemble{}
	for i := range n {
		sdir := filepath.Join(dir, fmt.Sprintf("zk%d", i+1))
		s := &Server{rt: rt, dir: sdir, host: "127.0.0.1", port: ports[3*i],
			mainCls: "org.apache.zookeeper.server.quorum.QuorumPeerMain"}
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			return nil, fmt.Errorf("zktest: %w", err)
		}
		if err := s.writeConfig(members, i+1); err != nil {
			return nil, err
		}
		e.Servers = append(e.Servers, s)
	}
	for _, s := range e.Servers {
		if err := s.start(); err != nil {
			e.Stop()
			return nil, err
		}
	}
	if err := e.WaitQuorum(startupTimeout); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// ConnectString lists every member's client address, as Spark's
// spark.deploy.zookeeper.url does.
func (e *Ensemble) ConnectString() string {
	addrs := make([]string, len(e.Servers))
	for i, s := range e.Servers {
		addrs[i] = s.Addr()
	}
	return strings.Join(addrs, ",")
}

// StopServer stops member i (0-based).
func (e *Ensemble) StopServer(i int) error { return e.Servers[i].Stop() }

// StartServer starts member i again and waits until it serves (which needs a
// quorum of the other members to be running).
func (e *Ensemble) StartServer(i int) error { return e.Servers[i].startAndWait() }

// WaitQuorum waits until every running member serves clients and one of them
// leads.
func (e *Ensemble) WaitQuorum(timeout time.Duration) error {
	var wg sync.WaitGroup
	errs := make([]error, len(e.Servers))
	for i, s := range e.Servers {
		if !s.Running() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.waitServing(timeout)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Right after a member stops, the others may still call themselves
	// followers of a leader that is gone; poll until one really leads.
	deadline := time.Now().Add(timeout)
	for {
		for _, s := range e.Servers {
			if !s.Running() {
				continue
			}
			if m, _ := s.Mode(); m == "leader" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("zktest: ensemble %s serves but no member reports Mode: leader", e.ConnectString())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops every member.
func (e *Ensemble) Stop() {
	var wg sync.WaitGroup
	for _, s := range e.Servers {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Stop() }()
	}
	wg.Wait()
}
