package main

import (
	"os"
	"testing"
)

// TestMain keeps the writers' default archive directory
// ($XDG_STATE_HOME/recoverctl/backups) out of the home of whoever runs
// the tests.
func TestMain(m *testing.M) {
	startupChildMain()
	dir, err := os.MkdirTemp("", "recoverctl-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
