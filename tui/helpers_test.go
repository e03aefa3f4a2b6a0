package tui

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// book is a FriendBook in memory.
type book struct {
	self    keyring.PublicKey
	friends []keyring.Friend
}

func (b *book) Self() keyring.PublicKey { return b.self }
func (b *book) List() ([]keyring.Friend, error) {
	return append([]keyring.Friend(nil), b.friends...), nil
}
func (b *book) Add(name, text string) (keyring.Friend, error) {
	pk, err := keyring.ParsePublicKey(text)
	if err != nil {
		return keyring.Friend{}, err
	}
	f := keyring.Friend{Name: name, Key: pk}
	b.friends = append(b.friends, f)
	return f, nil
}

func (b *book) SetVerified(name string, v bool) error {
	for i := range b.friends {
		if b.friends[i].Name == name {
			b.friends[i].Verified = v
			if v {
				b.friends[i].KeyChange = nil
			}
			return nil
		}
	}
	return fmt.Errorf("no friend named %s", name)
}

// fixedKey returns a valid public key derived from seed.
func fixedKey(t testing.TB, seed byte) (keyring.SecretKey, keyring.PublicKey) {
	t.Helper()
	var b [32]byte
	for i := range b {
		b[i] = seed + byte(i)
	}
	sk, err := keyring.SecretKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return sk, sk.Public()
}

// offlineClient is a real chat engine without a network, on a database in
// a temporary directory, with a chat started with the key of each seed.
// It is closed when the test ends.
func offlineClient(t testing.TB, seeds ...byte) (*chat.Client, keyring.SecretKey, []chat.ChatID) {
	t.Helper()
	sk, _ := fixedKey(t, 1)
	client, err := chat.Open(chat.Config{Identity: sk, DBPath: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	var ids []chat.ChatID
	for _, seed := range seeds {
		_, peer := fixedKey(t, seed)
		info, err := client.StartChat(t.Context(), peer)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, info.ID)
	}
	return client, sk, ids
}

// base is the fixed "now" of the rendering tests: a Tuesday afternoon.
var base = time.Date(2026, 3, 10, 15, 4, 0, 0, time.UTC)

func chatID(n byte) chat.ChatID { return chat.ChatID{n} }

// newTestModel returns a model with no engine (the tests feed it what the
// commands would), sized w×h, pinned to base in UTC.
func newTestModel(t testing.TB, w, h int) *model {
	t.Helper()
	_, self := fixedKey(t, 1)
	m := newModel(context.Background(), nil, &book{self: self}, nil)
	m.c.now = func() time.Time { return base }
	m.c.loc = time.UTC
	m.after = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil } // send would wait for it
	m.Init()
	send(m, tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// send feeds msg to Update, and the messages of the commands it returns
// back to Update, until none is left. Commands are run synchronously.
func send(m *model, msg tea.Msg) {
	queue := []tea.Msg{msg}
	for len(queue) > 0 && len(queue) < 10000 {
		msg, queue = queue[0], queue[1:]
		_, cmd := m.Update(msg)
		queue = append(queue, run(cmd)...)
	}
}

func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, run(c)...)
		}
		return out
	case tea.QuitMsg:
		return nil
	default:
		if fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" {
			return nil
		}
		return []tea.Msg{msg}
	}
}

// typeText types s one key at a time.
func typeText(m *model, s string) {
	for _, r := range s {
		send(m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

var (
	keyEnter    = tea.KeyPressMsg{Code: tea.KeyEnter}
	keyAltEnter = tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt}
	keyPgUp     = tea.KeyPressMsg{Code: tea.KeyPgUp}
	keyPgDown   = tea.KeyPressMsg{Code: tea.KeyPgDown}
	keyUp       = tea.KeyPressMsg{Code: tea.KeyUp}
	keyDown     = tea.KeyPressMsg{Code: tea.KeyDown}
	keyLeft     = tea.KeyPressMsg{Code: tea.KeyLeft}
	keyEsc      = tea.KeyPressMsg{Code: tea.KeyEscape}
	keyCtrlN    = tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}
	keyCtrlP    = tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl}
	keyF1       = tea.KeyPressMsg{Code: tea.KeyF1}
	keyF2       = tea.KeyPressMsg{Code: tea.KeyF2}
	keyTab      = tea.KeyPressMsg{Code: tea.KeyTab}
	keyCtrlI    = tea.KeyPressMsg{Code: 'i', Mod: tea.ModCtrl}
)

// conversation builds n entries of chat id, alternating directions, one
// minute apart and ending at base.
func conversation(id chat.ChatID, n int, text func(i int) string) []chat.Entry {
	es := make([]chat.Entry, n)
	var in, out uint64
	for i := range n {
		e := chat.Entry{Seq: int64(i + 1), Chat: id, Outgoing: i%2 == 1, Body: text(i)}
		e.SentAt = base.Add(-time.Duration(n-1-i) * time.Minute)
		if e.Outgoing {
			out++
			e.N, e.Status = out, chat.Delivered
		} else {
			in++
			e.N, e.Status, e.ReceivedAt = in, chat.Received, e.SentAt.Add(time.Second)
		}
		es[i] = e
	}
	return es
}

// withChats gives the model friends and chats, and opens the first.
func withChats(t testing.TB, m *model, names ...string) []chat.Info {
	t.Helper()
	var infos []chat.Info
	var friends []keyring.Friend
	for i, n := range names {
		_, pk := fixedKey(t, byte(10*(i+1)))
		friends = append(friends, keyring.Friend{Name: n, Key: pk})
		infos = append(infos, chat.Info{ID: chatID(byte(i + 1)), Peer: pk, LastActivity: base.Add(-time.Duration(i) * time.Hour), LastText: "last from " + n})
	}
	if b, ok := m.book.(*book); ok {
		b.friends = friends // the book is the truth: the model reads it again
	}
	send(m, friendsMsg(friends))
	send(m, chatsMsg(infos))
	return infos
}

// panelTitle is the title of the panel shown, or "" if none is.
func panelTitle(m *model) string {
	if m.panel == nil {
		return ""
	}
	title, _ := m.panel.content(m)
	return title
}

// screen is the model's view without styling, each row trimmed on the right.
func screen(m *model) string {
	return plain(m.View().Content)
}

func plain(s string) string {
	lines := strings.Split(ansi.Strip(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// ansi16 is the view as a 16-colour terminal gets it.
func ansi16(s string) string {
	var b bytes.Buffer
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.ANSI}
	fmt.Fprint(w, s)
	return b.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -run %s -update rewrites it)\ngot:\n%s\nwant:\n%s", name, t.Name(), got, want)
	}
}
