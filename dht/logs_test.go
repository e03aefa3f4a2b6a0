package dht_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/testio"
	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
)

// Both logging systems under go-libp2p and kad-dht end up in the writer,
// filtered by level. (This changes process-wide logging for the rest of the
// test binary, to errors only, which is what the other tests want anyway.)
func TestRouteLibraryLogs(t *testing.T) {
	var buf testio.Buffer
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
