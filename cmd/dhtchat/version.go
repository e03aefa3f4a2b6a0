package main

import (
	"context"
	"flag"
	"runtime"
	"runtime/debug"
	"strings"
)

// version, when set at build time (go build -ldflags "-X
// main.version=v1.2.3"), is the version dhtchat reports. Otherwise the
// build information says: the module version of 'go install …@v1.2.3',
// or the pseudo-version and VCS revision that go build stamps in a
// checkout.
var version string

var versionCmd = &command{
	name:  "version",
	short: "Print dhtchat's version (also dhtchat --version)",
	long: `Prints "dhtchat VERSION", and the source revision it was built from when
it is known. With --json: {"version":…, "revision":…, "time":…,
"modified":…, "go":…}.

Examples:
  dhtchat --version
  dhtchat version --json`,
	nargs: exactly(0),
	setup: func(*flag.FlagSet) runFunc {
		return func(_ context.Context, e *env, _ []string) error { return printVersion(e) }
	},
}

type versionInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"` // of the revision
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// buildVersion reads the version from the build: version if set, else the
// main module's version, and the VCS settings go build recorded.
func buildVersion(override string, bi *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{Version: override, Go: runtime.Version()}
	if ok {
		if v.Version == "" && bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "(unknown)"
	}
	return v
}

func printVersion(e *env) error {
	bi, ok := debug.ReadBuildInfo()
	v := buildVersion(version, bi, ok)
	if e.json {
		return e.printJSON(v)
	}
	line := "dhtchat " + v.Version
	// A pseudo-version already names the revision.
	if v.Revision != "" && !strings.Contains(v.Version, v.Revision[:min(12, len(v.Revision))]) {
		line += " (" + v.Revision[:min(12, len(v.Revision))]
		if v.Modified {
			line += ", modified"
		}
		line += ")"
	}
	e.printf("%s\n", line)
	return nil
}
