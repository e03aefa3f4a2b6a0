package dht_test

import (
	"os"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/internal/testwait"
)

// leakGrace is how long the goroutines of closed nodes may take to end.
// Node.Close waits for everything the node started, but goleveldb v1.0.0
// (under OpenDatastore) lets one goroutine linger up to a second after
// DB.Close, outside its own wait group; goleak's built-in retries stop
// sooner than that. It is generous for a loaded machine: the loop below
// ends as soon as no goroutine is left (testwait.RunWithoutLeaks).
const leakGrace = 30 * time.Second

// TestMain fails the run if any goroutine outlives the tests: every test
// closes what it starts (dhttest does so in t.Cleanup).
func TestMain(m *testing.M) {
	os.Exit(testwait.RunWithoutLeaks(m, leakGrace))
}
