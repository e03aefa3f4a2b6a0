package testwait

import (
	"context"
	"fmt"
	"runtime"
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

// endedTB is a test whose context has already ended; Fatalf records the
// message and stops the goroutine, as testing.T's does.
type endedTB struct {
	testing.TB
	ctx context.Context
	msg chan string
}

func (e *endedTB) Context() context.Context { return e.ctx }
func (e *endedTB) Helper()                  {}
func (e *endedTB) Fatalf(format string, args ...any) {
	e.msg <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUntilFailsWhenTheTestEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tb := &endedTB{TB: t, ctx: ctx, msg: make(chan string, 1)}
	go Until(tb, "a condition that never holds", func() bool { return false })
	select {
	case msg := <-tb.msg:
		if !strings.Contains(msg, "a condition that never holds") || !strings.Contains(msg, "context canceled") {
			t.Fatalf("Until failed with %q", msg)
		}
	case <-time.After(Timeout):
		t.Fatal("Until kept waiting after the test's context ended")
	}
}

func TestContextEndsWithTheTest(t *testing.T) {
	ctx := Context(t)
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > Timeout {
		t.Fatalf("Context deadline = %v, %v; want one within %v", d, ok, Timeout)
	}
}
