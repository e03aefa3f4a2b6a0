package chat

import (
	"os"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/internal/testwait"
)

// The engine's tests start DHT nodes and workers; every one is stopped by
// the test that started it, so no goroutine may outlive the tests.
// libp2p's hosts (the live path's) end their goroutines shortly after
// Close returns, so the check retries for a while.
func TestMain(m *testing.M) {
	// The tests written for version 1 keep testing it; version 2's set
	// Config.ChatVersion (v2_test.go).
	defaultChatVersion = 1
	os.Exit(testwait.RunWithoutLeaks(m, 30*time.Second))
}
