package chat

import (
	"testing"

	"go.uber.org/goleak"
)

// The engine's tests start DHT nodes and workers; every one is stopped by
// the test that started it, so no goroutine may outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
