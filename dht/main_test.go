package dht_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// leakGrace is how long the goroutines of closed nodes may take to end.
// Node.Close waits for everything the node started, but goleveldb v1.0.0
// (under OpenDatastore) lets one goroutine linger up to a second after
// DB.Close, outside its own wait group; goleak's built-in retries stop
// sooner than that. It is generous for a loaded machine: the loop below
// ends as soon as no goroutine is left.
const leakGrace = 30 * time.Second

// TestMain fails the run if any goroutine outlives the tests: every test
// closes what it starts (dhttest does so in t.Cleanup).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(leakGrace)
		for {
			err := goleak.Find()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
				code = 1
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.Exit(code)
}
