package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/tui"
)

// writeConfig writes text as a config file in a temporary directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func environment(kv ...string) func(string) string {
	return func(k string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == k {
				return kv[i+1]
			}
		}
		return ""
	}
}

// source is where the setting key came from in s.
func source(t *testing.T, s *settings, key string) (any, string) {
	t.Helper()
	for _, st := range s.list {
		if st.Key == key {
			return st.Value, st.Source
		}
	}
	t.Fatalf("no setting %s", key)
	return nil, ""
}

func relayAddr(t *testing.T) string {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return "/ip4/127.0.0.1/tcp/4001/p2p/" + id.String()
}

// TestSettingsPrecedence: each setting is the default, else the file's,
// else the environment's; the values reach what uses them.
func TestSettingsPrecedence(t *testing.T) {
	relay, envRelay := relayAddr(t), relayAddr(t)
	path := writeConfig(t, `
[notify]
bell = false
osc777 = true

[ui]
theme = "bright"
time_format = "15:04:05"

[live]
mode = "relay-only"
relays = ["`+relay+`"]

[poll]
interval = "10s"
`)
	// Without a file: defaults.
	s, err := loadSettings(filepath.Join(t.TempDir(), "none.toml"), environment())
	if err != nil {
		t.Fatal(err)
	}
	if s.found || s.notify != tui.DefaultNotify() || s.look.Theme != tui.ThemeDefault || s.look.TimeFormat != tui.DefaultTimeFormat ||
		s.liveMode != chat.LiveDirect || len(s.relays) != 0 || s.pollPolicy() != chat.DefaultPollPolicy() {
		t.Fatalf("without a file: %+v", s)
	}
	for _, st := range s.list {
		if st.Source != "default" {
			t.Errorf("without a file, %s comes from %s", st.Key, st.Source)
		}
	}

	// The file.
	s, err = loadSettings(path, environment())
	if err != nil {
		t.Fatal(err)
	}
	want := tui.Notify{Bell: false, Title: true, OSC777: true}
	if !s.found || s.notify != want || s.look != (tui.Look{Theme: tui.ThemeBright, TimeFormat: "15:04:05"}) || s.liveMode != chat.LiveRelayOnly ||
		len(s.relays) != 1 || s.relays[0].ID.String() != relay[strings.LastIndex(relay, "/")+1:] {
		t.Fatalf("from the file: %+v", s)
	}
	if p := s.pollPolicy(); p.Focused != 10*time.Second || p.Idle > 600*time.Second {
		t.Errorf("poll.interval 10s: policy %+v", p)
	}
	for key, src := range map[string]string{"notify.bell": "file", "notify.title": "default", "notify.osc777": "file", "ui.theme": "file", "live.relays": "file", "poll.interval": "file"} {
		if _, got := source(t, s, key); got != src {
			t.Errorf("%s from %s, want %s", key, got, src)
		}
	}

	// The environment wins.
	s, err = loadSettings(path, environment("DHTCHAT_NOTIFY", "osc9", "DHTCHAT_LIVE", "dht-only", "DHTCHAT_RELAYS", envRelay,
		"DHTCHAT_POLL_INTERVAL", "3s", "NO_COLOR", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if s.notify != (tui.Notify{OSC9: true}) || s.liveMode != chat.LiveOff || s.relays[0].ID.String() != envRelay[strings.LastIndex(envRelay, "/")+1:] ||
		s.pollPolicy().Focused != 3*time.Second {
		t.Fatalf("with the environment: %+v", s)
	}
	// NO_COLOR is the terminal's to apply: the look keeps the file's
	// theme (an SSH client's terminal may have colour), config says mono.
	if v, src := source(t, s, "ui.theme"); v != "mono" || src != "env NO_COLOR" || s.look.Theme != tui.ThemeBright {
		t.Errorf("ui.theme with NO_COLOR: %v from %s, look %q", v, src, s.look.Theme)
	}
	for _, key := range []string{"notify.bell", "notify.osc9"} {
		if _, src := source(t, s, key); src != "env DHTCHAT_NOTIFY" {
			t.Errorf("%s from %s, want env DHTCHAT_NOTIFY", key, src)
		}
	}
	// An environment value that is no duration is ignored, as before.
	s, err = loadSettings(path, environment("DHTCHAT_POLL_INTERVAL", "soon"))
	if err != nil {
		t.Fatal(err)
	}
	if v, src := source(t, s, "poll.interval"); v != "10s" || src != "file" {
		t.Errorf("poll.interval with DHTCHAT_POLL_INTERVAL=soon: %v from %s", v, src)
	}
}

// TestSettingsErrors: a bad file says its path, the line and what is
// wrong, in one line, as a usage error (exit 2).
func TestSettingsErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"malformed", "[notify]\nbell = \n", ":2: expected value"},
		{"unclosed table", "\n[notify\nbell = true\n", ":3: expected '.' or ']'"}, // where the library saw the end
		{"unknown key", "[notify]\nbell = true\n\nbel = true\n", `:4: unknown setting "notify.bel"`},
		{"unknown table", "\n[colour]\ntheme = \"x\"\n", `:2: unknown setting "colour"`},
		{"unknown dotted key", "ui.colour = \"x\"\n", `:1: unknown setting "ui.colour"`},
		{"wrong type", "[poll]\ninterval = 5\n", ":2: poll.interval: incompatible types"},
		{"bad theme", "[ui]\n  theme = \"neon\"\n", `:2: ui.theme: unknown theme "neon"`},
		{"time without time", "[ui]\ntime_format = \"now\"\n", `:2: ui.time_format: the time format "now" shows no time`},
		{"time too wide", "[ui]\ntime_format = \"Monday, 02 January 2006 15:04\"\n", ":2: ui.time_format: the time format"},
		{"bad mode", "[live]\nmode = \"fast\"\n", `:2: live.mode: unknown live mode "fast"`},
		{"bad relay", "[live]\nrelays = [\"/ip4/1.2.3.4/tcp/1\"]\n", ":2: live.relays: "},
		{"bad interval", "[poll]\ninterval = \"-1s\"\n", `:2: poll.interval: "-1s" is not a positive duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.text)
			_, err := loadSettings(path, environment())
			if err == nil {
				t.Fatal("no error")
			}
			msg := userr.Msg(err)
			if !strings.HasPrefix(msg, path+tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want it to start with %q, on one line", msg, path+tc.want)
			}
			if e := userr.Explain(err); e.Kind != userr.Usage || len(e.Hints) > 0 {
				t.Errorf("error %+v: want a usage error (exit 2) without hints", e)
			}
		})
	}
	// Bad environment values keep their messages of before the file.
	for env, want := range map[string]string{"DHTCHAT_LIVE": "bad DHTCHAT_LIVE", "DHTCHAT_NOTIFY": "bad DHTCHAT_NOTIFY", "DHTCHAT_RELAYS": "bad DHTCHAT_RELAYS"} {
		_, err := loadSettings(filepath.Join(t.TempDir(), "none.toml"), environment(env, "sideways"))
		if err == nil || !strings.HasPrefix(userr.Msg(err), want) {
			t.Errorf("%s=sideways: %v, want %q", env, err, want)
		}
	}
}
