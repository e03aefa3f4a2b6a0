package userr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// The errors below come from the real libraries, made the way a user
// makes them: a mistyped key, a second keygen, a damaged file.

func keyringDir(t *testing.T) (*keyring.File, string) {
	t.Helper()
	dir := t.TempDir()
	return keyring.NewFile(dir, nil), filepath.Join(dir, keyring.FileName)
}

func newKeyring(t *testing.T) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicKey(t *testing.T) keyring.PublicKey {
	t.Helper()
	return newKeyring(t).Identity.Public()
}

// must returns the error of a call that has to fail.
func must(t *testing.T, what string, err error) error {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded, want an error", what)
	}
	return err
}

func TestExplainLibraryErrors(t *testing.T) {
	f, path := keyringDir(t)
	_, notFound := f.Load()
	must(t, "Load of no keyring", notFound)
	if err := f.Create(newKeyring(t), false, nil); err != nil {
		t.Fatal(err)
	}
	exists := must(t, "a second Create", f.Create(newKeyring(t), false, nil))

	_, parse := keyring.ParsePublicKey("dhtchat1plsqp84mrwjazazvclhy7yspkqcrl42ndz40va9mh9efqkqd4e8swy5csg")
	k := newKeyring(t)
	bob := publicKey(t)
	if _, err := k.AddFriend("bob", bob); err != nil {
		t.Fatal(err)
	}
	_, nameTaken := k.AddFriend("bob", publicKey(t))
	_, ownKey := k.AddFriend("me", k.Identity.Public())
	badName := keyring.ValidName("a b")

	_, chatKeyTypo := wire.ParseChatKey("dhtchat-chat1qqqq")
	const secret = "DHTCHAT-SECRET-KEY-1ZKM62ADAMMP8EXPUTEGXX5JW0WD5QA9HMT0UD60AL9VWCS2S3YZQ0N3K7X"
	_, chatKeySecret := wire.ParseChatKey(secret)
	_, bootstrap := dht.ParseBootstrap("/ip4/127.0.0.1/tcp/1")

	for _, tc := range []struct {
		name  string
		err   error
		kind  userr.Kind
		msg   string // the whole message
		hints []string
	}{
		{"no keyring", notFound, userr.Runtime, "no keyring yet at " + path,
			[]string{"create your identity first with 'dhtchat keygen'"}},
		{"keyring exists", exists, userr.Usage, "a keyring already exists at " + path,
			[]string{"'dhtchat keygen --force' replaces it; your friends will no longer reach you under the old key"}},
		{"bad public key", parse, userr.Usage, "invalid key: checksum mismatch; check for a typo", nil},
		{"name taken", nameTaken, userr.Usage, `friend "bob" already exists with a different key`,
			[]string{"to point the name at another key, 'dhtchat remove-friend NAME' first"}},
		{"own key", ownKey, userr.Usage, "that is your own public key", nil},
		{"bad name", badName, userr.Usage, `invalid friend name "a b": only letters a-z, A-Z, digits, '-', '_' and '.' are allowed`,
			[]string{"a name is 1 to 64 letters, digits, '-', '_' or '.'"}},
		{"body too large", chat.ValidBody(strings.Repeat("x", chat.MaxBody+1)), userr.Usage,
			fmt.Sprintf("the message is too long: at most %d bytes", chat.MaxBody), []string{"split it in parts"}},
		{"chat key typo", chatKeyTypo, userr.Usage, "", nil},
		{"secret key as chat key", chatKeySecret, userr.Usage, "invalid chat key: this is not a chat key", nil},
		{"bootstrap address", bootstrap, userr.Usage, `address "/ip4/127.0.0.1/tcp/1": does not end in /p2p/<peer id>`, nil},
		{"interrupted", fmt.Errorf("dht: get x: %w", context.Canceled), userr.Runtime, "interrupted", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("the library returned no error")
			}
			e := userr.Explain(tc.err)
			if e.Kind != tc.kind {
				t.Errorf("Explain(%q).Kind = %v, want %v", tc.err, e.Kind, tc.kind)
			}
			if tc.msg != "" && e.Msg != tc.msg {
				t.Errorf("Explain(%q).Msg = %q, want %q", tc.err, e.Msg, tc.msg)
			}
			if tc.hints != nil && !slices.Equal(e.Hints, tc.hints) {
				t.Errorf("Explain(%q).Hints = %q, want %q", tc.err, e.Hints, tc.hints)
			}
			if !errors.Is(e, tc.err) {
				t.Errorf("Explain(%q) does not wrap the error", tc.err)
			}
			// The user's words: no package prefix, and never a secret.
			for _, s := range append([]string{e.Msg}, e.Hints...) {
				for _, p := range []string{"keyring: ", "chat: ", "wire: ", "dht: ", "bech32: ", "store: "} {
					if strings.Contains(s, p) {
						t.Errorf("Explain(%q) says %q, with the prefix %q", tc.err, s, p)
					}
				}
				if strings.Contains(s, secret[20:]) {
					t.Errorf("Explain(%q) echoes the secret key: %q", tc.err, s)
				}
			}
		})
	}
	// Every chat key error says so first and says what a chat key is.
	for _, err := range []error{chatKeyTypo, chatKeySecret} {
		e := userr.Explain(err)
		if !strings.HasPrefix(e.Msg, "invalid chat key: ") || len(e.Hints) == 0 || !strings.HasPrefix(e.Hints[0], "copy the whole chat key (dhtchat-chat1…)") {
			t.Errorf("Explain(%q) = %q, %q", err, e.Msg, e.Hints)
		}
	}
	if e := userr.Explain(chatKeySecret); !strings.Contains(strings.Join(e.Hints, " "), "secret key") {
		t.Errorf("a secret key pasted as a chat key gives no warning to keep it: %q", e.Hints)
	}
}

// TestExplainDamagedKeyring: a keyring file that breaks a rule (here a
// friend twice) is a damaged file, not the friend error inside it: the
// hint is about the file.
func TestExplainDamagedKeyring(t *testing.T) {
	f, path := keyringDir(t)
	k := newKeyring(t)
	bob := publicKey(t)
	data := fmt.Sprintf(`{"version":2,"identity":%q,"friends":[{"name":"bob","public_key":%q},{"name":"bob","public_key":%q}]}`,
		secretText(t, k), bob, publicKey(t))
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := f.Load()
	var corrupt *keyring.CorruptError
	if !errors.As(err, &corrupt) || !errors.Is(err, keyring.ErrNameTaken) {
		t.Fatalf("Load = %v, want a CorruptError wrapping ErrNameTaken", err)
	}
	e := userr.Explain(err)
	if e.Kind != userr.Runtime || !strings.HasPrefix(e.Msg, path+" is damaged (it was not modified): ") {
		t.Errorf("Explain = %v %q", e.Kind, e.Msg)
	}
	if len(e.Hints) != 1 || !strings.HasPrefix(e.Hints[0], "the file was not modified") {
		t.Errorf("hints %q, want the damaged file's", e.Hints)
	}
}

// secretText is the text form of k's secret key, as the keyring file
// holds it.
func secretText(t *testing.T, k *keyring.Keyring) string {
	t.Helper()
	f, path := keyringDir(t)
	if err := f.Create(k, false, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "DHTCHAT-SECRET-KEY-1")
	j := strings.IndexByte(string(b[i:]), '"')
	return string(b[i : i+j])
}

// TestExplainNoPeers: a node that cannot join the DHT says so, and what to
// do, from the error of a real node with nobody to bootstrap from.
func TestExplainNoPeers(t *testing.T) {
	ctx := testwait.Context(t)
	n, err := dht.New(ctx, dht.Config{
		ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)},
		Bootstrap:   []peer.AddrInfo{},
		Mode:        dht.ModeClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	err = must(t, "Connect with no bootstrap peers", n.Connect(ctx))
	e := userr.Explain(err)
	if e.Kind != userr.Runtime || e.Msg != "no DHT peers reachable" || len(e.Hints) != 2 ||
		!strings.HasPrefix(e.Hints[0], "check your network, or give peers with --bootstrap") ||
		!strings.HasPrefix(e.Hints[1], "queued messages stay queued") {
		t.Errorf("Explain(%q) = %v %q %q", err, e.Kind, e.Msg, e.Hints)
	}
}

// TestExplainOthers: an error userr does not know is shown whole, as its
// own text, and is no one's fault in particular.
func TestExplainOthers(t *testing.T) {
	err := fmt.Errorf("store: open /x/dhtchat.db: %w", io.ErrUnexpectedEOF)
	if e := userr.Explain(err); e.Kind != userr.Runtime || e.Msg != err.Error() || e.Hints != nil || !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Errorf("Explain(%q) = %v %q %q", err, e.Kind, e.Msg, e.Hints)
	}
	if userr.Explain(nil) != nil || userr.Line(nil) != "" {
		t.Error("Explain(nil) or Line(nil) is not empty")
	}
}

// TestErrorWritten: an *Error written by a command is used as it is,
// also when wrapped, and takes its cause's hints when it has none.
func TestErrorWritten(t *testing.T) {
	own := userr.Usagef("bob is blocked").WithHint("'dhtchat unblock bob' first")
	if e := userr.Explain(fmt.Errorf("start: %w", own)); e.Msg != "bob is blocked" || e.Kind != userr.Usage ||
		!slices.Equal(e.Hints, []string{"'dhtchat unblock bob' first"}) {
		t.Errorf("Explain of a wrapped *Error = %v %q %q", e.Kind, e.Msg, e.Hints)
	}
	because := userr.Runtimef("cannot add bob").Because(keyring.ErrUnknownFriend)
	if e := userr.Explain(because); e.Kind != userr.Runtime || !slices.Equal(e.Hints, []string{"'dhtchat friends' lists your friends"}) ||
		!errors.Is(e, keyring.ErrUnknownFriend) {
		t.Errorf("Explain of an *Error with a cause = %v %q %q", e.Kind, e.Msg, e.Hints)
	}
	if len(because.Hints) != 0 {
		t.Error("Explain changed the *Error it was given")
	}
	if e := userr.BadInput(errors.New("x: y")); e.Kind != userr.Usage || e.Msg != "x: y" {
		t.Errorf("BadInput = %v %q", e.Kind, e.Msg)
	}
	if got := userr.Msg(userr.Usagef("a")); got != "a" {
		t.Errorf("Msg = %q", got)
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{userr.Usagef("two\nlines,\tand\x1b[2Jcontrols").WithHint("one hint").WithHint("another"),
			"two lines, andcontrols; one hint; another"},
		{chat.ValidBody(strings.Repeat("x", chat.MaxBody+1)),
			fmt.Sprintf("the message is too long: at most %d bytes; split it in parts", chat.MaxBody)},
		{errors.New("dht: dial: failed\n  * [/ip4/127.0.0.1/tcp/9] refused"), "dht: dial: failed * [/ip4/127.0.0.1/tcp/9] refused"},
	} {
		if got := userr.Line(tc.err); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
