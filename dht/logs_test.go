package dht_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Both logging systems under go-libp2p and kad-dht end up in the writer,
// filtered by level. (This changes process-wide logging for the rest of the
// test binary, to errors only, which is what the other tests want anyway.)
func TestRouteLibraryLogs(t *testing.T) {
	var buf syncBuffer
	dht.RouteLibraryLogs(&buf, slog.LevelError)
	golog.Logger("dhtchat-test-golog").Error("from go-log")
	golog.Logger("dhtchat-test-golog").Info("go-log info, filtered")
	shim := gologshim.Logger("dhtchat-test-shim")
	shim.Error("from gologshim")
	shim.Warn("gologshim warn, filtered")
	out := buf.String()
	for _, want := range []string{"from go-log", "from gologshim"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "filtered") {
		t.Errorf("log output has lines below the level:\n%s", out)
	}
}
