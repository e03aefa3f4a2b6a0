package archtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goList runs `go list args...` in this module and returns its output
// lines. GOPROXY=off: everything it needs is in the module cache already
// (the tests were built from it), and nothing may be downloaded at test
// time.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.CommandContext(t.Context(), goBin, append([]string{"list"}, args...)...)
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// module returns this module's path.
func module(t *testing.T) string {
	t.Helper()
	return goList(t, "-m")[0]
}

// wireModules are the only modules besides the standard library that the
// protocol may use: it is pure computation over bytes.
var wireModules = map[string]bool{"golang.org/x/crypto": true, "golang.org/x/sys": true}

// TestWireIsPure: chat/wire, with its tests, depends on no package of
// this module but internal helpers (no engine, no store, no DHT) and on no
// module but the standard library's and golang.org/x/crypto: no SQLite, no
// libp2p. So `go test ./chat/wire` needs no network and no database.
func TestWireIsPure(t *testing.T) {
	mod := module(t)
	wire := mod + "/chat/wire"
	for _, line := range goList(t, "-deps", "-test", "-f", "{{.ImportPath}}|{{.Standard}}|{{with .Module}}{{.Path}}{{end}}", wire) {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			t.Fatalf("go list printed %q", line)
		}
		// A test variant is "path [path.test]".
		path, std, pathMod := strings.Fields(f[0])[0], f[1] == "true", f[2]
		switch {
		case std || path == wire || path == wire+"_test" || path == wire+".test":
		case pathMod == mod:
			rel := strings.TrimPrefix(path, mod+"/")
			if !strings.HasPrefix(rel, "internal/") || strings.HasPrefix(rel, "internal/cmd/") {
				t.Errorf("chat/wire depends on %s: the protocol may use only internal helpers of this module", rel)
			}
		case !wireModules[pathMod]:
			t.Errorf("chat/wire depends on %s (module %s): the protocol may use only the standard library and golang.org/x/crypto", path, pathMod)
		}
	}
}

// layers ranks the module's packages, by the longest matching prefix
// (relative to the module path). A package may import a package of a
// lower rank, or one of its own group (chat → chat/internal/store, dht
// tests → dht/dhttest); internal helpers may import each other.
var layers = []struct {
	prefix string
	rank   int
}{
	{"cmd/", 5},
	{"internal/cmd/", 5}, // development tools are commands too
	{"tui", 4},
	// The one place where errors become the user's words: it knows the
	// errors of everything below, and both faces (CLI and UI) use it.
	{"internal/userr", 3},
	// The control socket of a running client (docs/AGENT.md): a server
	// over the engine's API, for the commands and the UI above it.
	{"internal/agent", 3},
	{"chat", 2},
	{"chat/wire", 1},
	{"dht", 1},
	// The live path's libp2p host and streams: beside dht, under the
	// engine. It speaks the protocol, so it may import chat/wire (see
	// sideways below), but neither the engine nor dht.
	{"chat/live", 1},
	{"keyring", 1},
	{"internal/", 0},
}

// sideways are the imports allowed between two groups of the same rank:
// the live path carries the protocol's frames and sealed messages, and
// chat/wire, which is pure, cannot import it back (TestWireIsPure).
var sideways = map[[2]string]bool{{"chat/live", "chat/wire"}: true}

// layerOf returns the group (the matching prefix) and rank of the package
// at rel, a path relative to the module.
func layerOf(rel string) (group string, rank int, ok bool) {
	for _, l := range layers {
		match := rel == strings.TrimSuffix(l.prefix, "/") || strings.HasPrefix(rel, strings.TrimSuffix(l.prefix, "/")+"/")
		if match && len(l.prefix) > len(group) {
			group, rank, ok = l.prefix, l.rank, true
		}
	}
	return group, rank, ok
}

// TestLayers: the import graph, tests included, runs one way: cmd → tui
// → internal/userr → chat → {chat/wire, chat/live, dht, keyring} → internal helpers. Nothing imports
// upward (the engine never imports the UI, the protocol never the engine)
// and chat/wire, chat/live, dht and keyring do not import each other, but for
// chat/live → chat/wire.
func TestLayers(t *testing.T) {
	mod := module(t)
	lines := goList(t, "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, mod+"/...")
	if len(lines) < 8 {
		t.Fatalf("go list found %d packages in %s: %q", len(lines), mod, lines)
	}
	for _, line := range lines {
		f := strings.Fields(line)
		from := strings.TrimPrefix(f[0], mod+"/")
		fromGroup, fromRank, ok := layerOf(from)
		if !ok {
			t.Errorf("package %s has no layer: add it to layers in %s", from, "internal/archtest")
			continue
		}
		seen := map[string]bool{}
		for _, imp := range f[1:] {
			to, inModule := strings.CutPrefix(imp, mod+"/")
			if !inModule || to == from || seen[to] {
				continue
			}
			seen[to] = true
			toGroup, toRank, ok := layerOf(to)
			switch {
			case !ok:
				t.Errorf("%s imports %s, which has no layer", from, to)
			case toRank < fromRank, toGroup == fromGroup, toRank == 0 && fromRank == 0,
				sideways[[2]string{fromGroup, toGroup}]:
			default:
				t.Errorf("%s imports %s: %s (layer %d) may import only lower layers (cmd 5 → tui 4 → internal/userr 3 → chat 2 → chat/wire, chat/live, dht, keyring 1 (chat/live → chat/wire) → internal 0)",
					from, to, fromGroup, fromRank)
			}
		}
	}
}
