package chat

import (
	"testing"

	"go.uber.org/goleak"
)

// The engine's tests start DHT nodes and workers; every one is stopped by
// the test that started it, so no goroutine may outlive the tests.
func TestMain(m *testing.M) {
	// The tests written for version 1 keep testing it; version 2's set
	// Config.ChatVersion (v2_test.go).
	defaultChatVersion = 1
	goleak.VerifyTestMain(m)
}
