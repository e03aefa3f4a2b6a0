package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/atomicfile"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/tui"
)

// The configuration file, config.toml in the configuration directory. It
// is TOML, read with BurntSushi/toml: no dependency of its own, the
// TOML 1.0 suite passed, and its MetaData lists the keys the file set
// that nothing read (typos, refused) and which keys it defined (where a
// setting came from). Every setting has a default; the file changes it;
// an environment variable, where there is one, wins over the file.

const configFileName = "config.toml"

// fileConfig is the file's shape. Pointers: nil is "not in the file".
type fileConfig struct {
	Notify struct {
		Bell   *bool `toml:"bell"`
		Title  *bool `toml:"title"`
		OSC9   *bool `toml:"osc9"`
		OSC777 *bool `toml:"osc777"`
	} `toml:"notify"`
	UI struct {
		Theme      *string `toml:"theme"`
		TimeFormat *string `toml:"time_format"`
	} `toml:"ui"`
	Live struct {
		Mode   *string   `toml:"mode"`
		Relays *[]string `toml:"relays"`
	} `toml:"live"`
	Poll struct {
		Interval *string `toml:"interval"`
	} `toml:"poll"`
}

// settings are the effective settings, and where each came from.
type settings struct {
	path  string // the file's
	found bool   // whether the file exists

	notify     tui.Notify
	look       tui.Look
	liveMode   chat.LiveMode
	relays     []peer.AddrInfo
	relayText  []string
	pollPeriod time.Duration // 0: the default policy

	list []setting // in the order 'dhtchat config' prints them
}

// A setting is one key of the file with its effective value and where
// that came from: "default", "file", or "env NAME".
type setting struct {
	Key    string `json:"key"`
	Value  any    `json:"value"`
	Source string `json:"source"`
}

// settings loads the configuration once per process: a bad file is said
// the same way by every command.
func (e *env) settings() (*settings, error) {
	if e.cfg == nil {
		dir, err := e.configDir()
		if err != nil {
			return nil, err
		}
		s, err := loadSettings(filepath.Join(dir, configFileName), e.getenv)
		e.cfg = &loadedSettings{s, err}
	}
	return e.cfg.s, e.cfg.err
}

type loadedSettings struct {
	s   *settings
	err error
}

// loadSettings reads the file at path (a missing one is empty) and
// applies the environment over it.
func loadSettings(path string, getenv func(string) string) (*settings, error) {
	s := &settings{path: path}
	data, err := atomicfile.ReadFile(path, 1<<20)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, userr.Runtimef("cannot read %s: %v", path, errors.Unwrap(err))
	default:
		s.found = true
	}
	var fc fileConfig
	if s.found {
		md, err := toml.Decode(string(data), &fc)
		if err != nil {
			return nil, tomlError(path, err)
		}
		if un := md.Undecoded(); len(un) > 0 {
			return nil, userr.Usagef("%s:%d: unknown setting %q ('dhtchat config --help' lists them)", path, lineOf(data, un[0].String()), un[0].String())
		}
	}
	bad := func(key string, err error) error {
		return userr.Usagef("%s:%d: %s: %s", path, lineOf(data, key), key, userr.Msg(err))
	}

	// Notifications: each switch from the file, or all from DHTCHAT_NOTIFY.
	s.notify = tui.DefaultNotify()
	notifyKeys := []struct {
		key  string
		file *bool
		v    *bool
	}{
		{"notify.bell", fc.Notify.Bell, &s.notify.Bell},
		{"notify.title", fc.Notify.Title, &s.notify.Title},
		{"notify.osc9", fc.Notify.OSC9, &s.notify.OSC9},
		{"notify.osc777", fc.Notify.OSC777, &s.notify.OSC777},
	}
	env := strings.TrimSpace(getenv("DHTCHAT_NOTIFY"))
	if env != "" {
		n, err := tui.ParseNotify(env)
		if err != nil {
			return nil, userr.Usagef("bad DHTCHAT_NOTIFY %q", env).
				WithHint("give bell, title, osc9, osc777 or desktop, separated by commas; or none, or all")
		}
		s.notify = n
	}
	for _, k := range notifyKeys {
		src := "default"
		switch {
		case env != "":
			src = "env DHTCHAT_NOTIFY"
		case k.file != nil:
			*k.v, src = *k.file, "file"
		}
		s.add(k.key, *k.v, src)
	}

	// The look of the full-screen chat.
	s.look.Theme = tui.ThemeDefault
	src := "default"
	if v := fc.UI.Theme; v != nil {
		t, err := tui.ParseTheme(*v)
		if err != nil {
			return nil, bad("ui.theme", err)
		}
		s.look.Theme, src = t, "file"
	}
	shown := s.look.Theme
	if getenv("NO_COLOR") != "" {
		// The UI reads NO_COLOR from the terminal's environment itself
		// (an SSH session's is the client's): the look keeps the file's.
		shown, src = tui.ThemeMono, "env NO_COLOR"
	}
	s.add("ui.theme", string(shown), src)
	s.look.TimeFormat, src = tui.DefaultTimeFormat, "default"
	if v := fc.UI.TimeFormat; v != nil {
		if _, err := tui.CheckTimeFormat(*v); err != nil {
			return nil, bad("ui.time_format", err)
		}
		s.look.TimeFormat, src = *v, "file"
	}
	s.add("ui.time_format", s.look.TimeFormat, src)

	// The live path's privacy mode and relays.
	s.liveMode, src = chat.LiveDirect, "default"
	if v := fc.Live.Mode; v != nil {
		m, err := chat.ParseLiveMode(strings.TrimSpace(*v))
		if err != nil {
			return nil, bad("live.mode", err)
		}
		s.liveMode, src = m, "file"
	}
	if v := strings.TrimSpace(getenv("DHTCHAT_LIVE")); v != "" {
		m, err := chat.ParseLiveMode(v)
		if err != nil {
			return nil, userr.Usagef("bad DHTCHAT_LIVE: %s", userr.Msg(err)).Because(err)
		}
		s.liveMode, src = m, "env DHTCHAT_LIVE"
	}
	s.add("live.mode", s.liveMode.String(), src)
	s.relayText, src = []string{}, "default"
	if v := fc.Live.Relays; v != nil {
		relays, err := dht.ParseBootstrap(strings.Join(*v, ","))
		if err != nil {
			return nil, bad("live.relays", err)
		}
		s.relays, s.relayText, src = relays, *v, "file"
	}
	if v := strings.TrimSpace(getenv("DHTCHAT_RELAYS")); v != "" {
		relays, err := dht.ParseBootstrap(v)
		if err != nil {
			return nil, userr.Usagef("bad DHTCHAT_RELAYS: %s", userr.Msg(err)).Because(err).
				WithHint("give multiaddrs ending in /p2p/<peer id>, separated by commas")
		}
		s.relays, s.relayText, src = relays, strings.Split(v, ","), "env DHTCHAT_RELAYS"
	}
	s.add("live.relays", s.relayText, src)

	// How often the focused chat is fetched (the others, in proportion).
	period, src := chat.DefaultPollPolicy().Focused, "default"
	if v := fc.Poll.Interval; v != nil {
		d, err := time.ParseDuration(strings.TrimSpace(*v))
		if err != nil || d <= 0 {
			return nil, bad("poll.interval", fmt.Errorf("%q is not a positive duration (e.g. 5s, 1m)", *v))
		}
		period, s.pollPeriod, src = d, d, "file"
	}
	// As before the file: an environment value that is no duration is
	// ignored.
	if d, err := time.ParseDuration(getenv("DHTCHAT_POLL_INTERVAL")); err == nil && d > 0 {
		period, s.pollPeriod, src = d, d, "env DHTCHAT_POLL_INTERVAL"
	}
	s.add("poll.interval", period.String(), src)
	return s, nil
}

func (s *settings) add(key string, v any, source string) {
	s.list = append(s.list, setting{Key: key, Value: v, Source: source})
}

// pollPolicy is the engine's poll policy with the interval set: the
// focused chat's, and the others' no slower than in proportion.
func (s *settings) pollPolicy() chat.PollPolicy {
	p := chat.DefaultPollPolicy()
	if d := s.pollPeriod; d > 0 {
		p.Focused = d
		p.Recent = min(p.Recent, 10*d)
		p.Idle = min(p.Idle, 60*d)
		p.MaxBackoff = min(p.MaxBackoff, 300*d)
	}
	return p
}

// tomlLine finds the line in the library's errors: "toml: line 3 (last
// key "a.b"): message" or "toml: line 3: message".
var tomlLine = regexp.MustCompile(`^toml: line ([0-9]+)(?: \(last key "([^"]*)"\))?: (.*)$`)

// tomlError says what is wrong with the file, on which line, and of
// which key when the library says (a value of the wrong type).
func tomlError(path string, err error) error {
	msg := err.Error()
	if m := tomlLine.FindStringSubmatch(msg); m != nil {
		if m[2] != "" && strings.HasPrefix(m[3], "incompatible types") {
			return userr.Usagef("%s:%s: %s: %s", path, m[1], m[2], m[3]).Because(err)
		}
		return userr.Usagef("%s:%s: %s", path, m[1], m[3]).Because(err)
	}
	return userr.Usagef("%s: %s", path, strings.TrimPrefix(msg, "toml: ")).Because(err)
}

// lineOf is the line of data where key ("table.key") is set, 0 if it
// cannot tell; enough to point at a typo or a bad value. It follows
// [table] headers and dotted keys, not inline tables.
func lineOf(data []byte, key string) int {
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "[") {
			table = strings.Trim(strings.TrimSpace(strings.Trim(l, "[]")), `"`)
			if table == key {
				return n
			}
			continue
		}
		lhs, _, ok := strings.Cut(l, "=")
		if !ok || strings.HasPrefix(l, "#") {
			continue
		}
		var parts []string
		for p := range strings.SplitSeq(lhs, ".") {
			parts = append(parts, strings.Trim(strings.TrimSpace(p), `"'`))
		}
		full := strings.Join(parts, ".")
		if table != "" {
			full = table + "." + full
		}
		if full == key || strings.HasPrefix(key, full+".") {
			return n
		}
	}
	return 0
}

var configCmd = &command{
	name:  "config",
	short: "Print the effective settings and where each came from",
	long: `Prints every setting of the configuration file, its value now, and where
that came from: default, file, or env NAME (an environment variable, which
wins over the file). The file is config.toml in the configuration
directory ($XDG_CONFIG_HOME/dhtchat, or --home); a missing file is fine.
A malformed file, an unknown key (a typo) or a bad value is an error that
names the file and line, for every command.

The settings:
  [notify]  bell, title, osc9, osc777   true/false (env DHTCHAT_NOTIFY wins)
  [ui]      theme = "default" | "bright" | "mono" (env NO_COLOR: mono)
            time_format = "15:04"       a Go time layout: "3:04PM", "15:04:05"
  [live]    mode = "direct" | "relay-only" | "dht-only" (env DHTCHAT_LIVE)
            relays = ["/ip4/…/p2p/…"]   (env DHTCHAT_RELAYS)
  [poll]    interval = "5s"             the open chat's (env DHTCHAT_POLL_INTERVAL)

Example config.toml:
  [notify]
  osc9 = true
  [ui]
  theme = "bright"
  time_format = "3:04PM"
  [live]
  mode = "relay-only"
  relays = ["/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…"]`,
	nargs: exactly(0),
	setup: func(fs *flag.FlagSet) runFunc {
		return func(_ context.Context, e *env, _ []string) error { return runConfig(e) }
	},
}

func runConfig(e *env) error {
	s, err := e.settings()
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(struct {
			File     string    `json:"file"`
			Found    bool      `json:"found"`
			Settings []setting `json:"settings"`
		}{s.path, s.found, s.list})
	}
	state := "found"
	if !s.found {
		state = "not found: every setting is the default or the environment's"
	}
	fmt.Fprintf(e.stdout, "# %s (%s)\n", s.path, state)
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, st := range s.list {
		fmt.Fprintf(w, "%s\t%s\t%s\n", st.Key, showValue(st.Value), st.Source)
	}
	return w.Flush()
}

// showValue is a setting's value as TOML writes it.
func showValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return fmt.Sprint(v)
}
