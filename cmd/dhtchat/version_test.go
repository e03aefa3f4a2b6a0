package main

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name     string
		override string
		bi       *debug.BuildInfo
		want     versionInfo
	}{
		{"ldflags", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, versionInfo{Version: "v1.2.3"}},
		{"go install", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"}}, versionInfo{Version: "v1.0.0"}},
		{"checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			versionInfo{Version: "(devel)", Revision: "0123456789abcdef0123", Time: "2026-12-01T10:00:00Z", Modified: true}},
		{"nothing", "", nil, versionInfo{Version: "(unknown)"}},
	} {
		tc.want.Go = runtime.Version()
		if got := buildVersion(tc.override, tc.bi, tc.bi != nil); got != tc.want {
			t.Errorf("%s: buildVersion = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestCLIVersion: dhtchat --version and dhtchat version print the version
// and exit 0; --json too.
func TestCLIVersion(t *testing.T) {
	home := t.TempDir()
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, stderr, code := dhtchatCmd(t, home, args...)
		if code != 0 || !strings.HasPrefix(out, "dhtchat ") || strings.Count(out, "\n") != 1 || stderr != "" {
			t.Errorf("dhtchat %s: exit %d, stdout %q, stderr %q", args[0], code, out, stderr)
		}
	}
	out, _, code := dhtchatCmd(t, home, "version", "--json")
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Version == "" || v.Go != runtime.Version() {
		t.Errorf("dhtchat version --json: exit %d, %q (%v)", code, out, err)
	}
}
