package testio_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dhtchat/dhtchat/internal/testio"
)

// TestBufferConcurrent writes from several goroutines while reading: the
// race detector checks the locking, and every write arrives whole.
func TestBufferConcurrent(t *testing.T) {
	var b testio.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if n, err := b.Write([]byte("line\n")); n != 5 || err != nil {
					t.Errorf("Write = %d, %v", n, err)
				}
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("line\n", 800) {
		t.Errorf("after 800 writes of \"line\\n\": %d bytes, %d lines", len(got), strings.Count(got, "\n"))
	}
}

const childEnv = "TESTIO_TEST_CHILD"

// TestKillChild: the child would print forever; KillChild returns the
// lines it printed first, once it is killed.
func TestKillChild(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		for i := 0; ; i++ {
			fmt.Println("line", i)
		}
	}
	got := testio.KillChild(t, "TestKillChild", childEnv, "1", 3)
	if want := []string{"line 0", "line 1", "line 2"}; !slices.Equal(got, want) {
		t.Errorf("KillChild = %q, want %q", got, want)
	}
}
