// Package testwait is how the tests wait for something to happen: they poll
// a condition, or wait on an event, under one generous deadline, and go on
// as soon as it holds.
//
// A deadline in a test only turns a hang into a failure. Since a wait ends
// the moment its condition holds, a long deadline costs nothing when the
// code works, while a short one fails tests only because the machine was
// busy (a loaded 2-core CI runner makes the race-enabled tests several
// times slower). So every wait uses Timeout, and none sleeps for a fixed
// time assuming that something happened meanwhile.
package testwait

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Timeout bounds each wait.
const Timeout = 3 * time.Minute

// Polling starts at minInterval and backs off to maxInterval, so a condition
// that holds soon is seen at once and a long wait costs little (some
// conditions run a command, such as tmux capture-pane).
const (
	minInterval = 5 * time.Millisecond
	maxInterval = 100 * time.Millisecond
)

// Until calls cond until it returns true, and fails the test, saying what
// it waited for, if Timeout passes or the test ends first. cond runs on the
// test's goroutine, so it may call tb.Fatal.
func Until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), Timeout)
	defer cancel()
	if err := Poll(ctx, cond); err != nil {
		tb.Fatalf("testwait: gave up waiting for %s: %v", what, err)
	}
}

// Poll calls cond until it returns true, or until ctx is done and then
// returns ctx.Err(): Until for a test that says more when it gives up.
func Poll(ctx context.Context, cond func() bool) error {
	timer := time.NewTimer(minInterval)
	defer timer.Stop()
	for wait := minInterval; !cond(); wait = min(2*wait, maxInterval) {
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
	return nil
}

// Context returns a context that ends after Timeout, or when the test
// ends: the deadline for a test that waits on events (channel receives,
// a command's output) rather than polling.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(tb.Context(), Timeout)
	tb.Cleanup(cancel)
	return ctx
}

// RunWithoutLeaks runs the tests of m, for a TestMain, and fails the run
// if a goroutine outlives them: every test closes what it starts. Some
// goroutines (libp2p's) end shortly after their Close returns, so the
// check is retried for up to grace. It returns the exit code.
func RunWithoutLeaks(m *testing.M, grace time.Duration) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	deadline := time.Now().Add(grace)
	for {
		err := goleak.Find()
		if err == nil {
			return 0
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
}
