package main

import (
	"fmt"
	"io"

	"github.com/recoverctl/recoverctl/livemaster"
)

// refuseLive is the rule every command that writes shares: while a live
// Master holds the store the write is refused unless --force; a dry run
// only warns, so that its plan is still shown. nil means go on.
func refuseLive(live livemaster.Result, st *openedStore, dryRun, force bool, stderr io.Writer) error {
	if !live.Live() {
		return nil
	}
	switch {
	case dryRun:
		fmt.Fprintf(stderr, "recoverctl: warning: %s: %s (without --dry-run this would be refused unless --force)\n", termText(st.String()), termText(live.Err().Error()))
	case force:
		fmt.Fprintf(stderr, "recoverctl: warning: --force: writing to %s although %s\n", termText(st.String()), termText(live.Err().Error()))
	default:
		return fmt.Errorf("%s: %w (stop the Masters first, or pass --force)", st, live.Err())
	}
	return nil
}

// lockForWriting keeps other recoverctl writers out of a directory store
// for as long as the command writes; ZooKeeper stores need no lock of
// ours, and a dry run writes nothing. The returned func releases it.
func lockForWriting(st *openedStore, dryRun bool) (func(), error) {
	if st.fs == nil || dryRun {
		return func() {}, nil
	}
	lock, err := livemaster.LockDir(st.fs.Dir())
	if err != nil {
		return nil, err
	}
	return func() { _ = lock.Unlock() }, nil
}
