package testwait

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	Until(t, "the third call", func() bool {
		calls++
		return calls == 3
	})
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
}

// endedTB is a test whose context has already ended; Fatalf panics with
// the message, which fatalMessage recovers, instead of ending the test.
type endedTB struct {
	testing.TB
	ctx context.Context
}

type fatal string

func (e *endedTB) Context() context.Context { return e.ctx }
func (e *endedTB) Helper()                  {}
func (e *endedTB) Fatalf(format string, args ...any) {
	panic(fatal(fmt.Sprintf(format, args...)))
}

// fatalMessage runs f and returns what it passed to tb.Fatalf, or "".
func fatalMessage(f func()) (msg string) {
	defer func() {
		if m, ok := recover().(fatal); ok {
			msg = string(m)
		}
	}()
	f()
	return ""
}

func TestUntilFailsWhenTheTestEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tb := &endedTB{TB: t, ctx: ctx}
	msg := fatalMessage(func() { Until(tb, "a condition that never holds", func() bool { return false }) })
	if !strings.Contains(msg, "a condition that never holds") || !strings.Contains(msg, "context canceled") {
		t.Fatalf("Until failed with %q", msg)
	}
}

func TestPollReturnsTheContextsError(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := Poll(ctx, func() bool {
		calls++
		if calls == 2 {
			cancel()
		}
		return false
	})
	if err != context.Canceled || calls < 2 {
		t.Fatalf("Poll = %v after %d calls, want context.Canceled after 2 or more", err, calls)
	}
}

func TestContextEndsWithTheTest(t *testing.T) {
	ctx := Context(t)
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > Timeout {
		t.Fatalf("Context deadline = %v, %v; want one within %v", d, ok, Timeout)
	}
}
