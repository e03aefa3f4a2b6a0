package dht_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test closes the nodes it starts (dhttest does it in t.Cleanup), and
// Node.Close waits for everything the node started: no goroutine may
// outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
