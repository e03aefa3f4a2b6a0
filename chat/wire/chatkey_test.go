package wire

import (
	"errors"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/internal/bech32"
)

func TestChatKeyRoundTrip(t *testing.T) {
	alice, bob := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	p := pairKey(t, alice, bob)
	c := NewChatKey(p)
	if c2 := NewChatKey(p); c2.ID() == c.ID() {
		t.Fatalf("NewChatKey returned the same id twice")
	}
	s := c.String()
	if !strings.HasPrefix(s, ChatKeyHRP+"1") || s != strings.ToLower(s) {
		t.Errorf("ChatKey.String() = %q, want lower case with prefix %q", s, ChatKeyHRP+"1")
	}
	for _, in := range []string{s, strings.ToUpper(s), " " + s + "\n"} {
		got, err := ParseChatKey(in)
		if err != nil || got != c {
			t.Errorf("ParseChatKey(%q) = %v, %v, want %v", in, got, err, c)
		}
	}
	if got, want := testChatID.String(), "000102030405060708090a0b0c0d0e0f"; got != want {
		t.Errorf("ChatID.String() = %q, want %q", got, want)
	}
	var u ChatKey
	text, _ := c.MarshalText()
	if err := u.UnmarshalText(text); err != nil || u != c {
		t.Errorf("UnmarshalText(MarshalText()) = %v, %v, want %v", u, err, c)
	}
	if err := u.UnmarshalText([]byte("nope")); err == nil {
		t.Errorf("UnmarshalText(nope) succeeded")
	}

	// Bob derives the same keys from the chat key Alice made.
	ka, err := c.Keys(p)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := c.Keys(pairKey(t, bob, alice))
	if err != nil {
		t.Fatal(err)
	}
	if ka.msg != kb.msg || ka.ID() != c.ID() || ka.ChatKey() != c {
		t.Errorf("the two parties' Keys differ")
	}

	// Carol, given the chat key by mistake, is told so.
	carol := newParty(t, carolSecretHex)
	if _, err := c.Keys(pairKey(t, alice, carol)); !errors.Is(err, ErrChatKeyNotForYou) {
		t.Errorf("ChatKey.Keys(other pair) = %v, want ErrChatKeyNotForYou", err)
	}
}

func TestParseChatKeyErrors(t *testing.T) {
	valid := ChatKeyFor(PairKey{k: [32]byte{1}}, testChatID).String()
	enc := func(hrp string, n int) string {
		s, err := bech32.Encode(hrp, make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	flip := []byte(valid) // a typo in the last character
	if flip[len(flip)-1] == 'q' {
		flip[len(flip)-1] = 'p'
	} else {
		flip[len(flip)-1] = 'q'
	}
	tests := []struct {
		in   string
		want error
		hint string // a word the message must contain
	}{
		{"", ErrChatKeyMalformed, ""},
		{"hello", ErrChatKeyMalformed, ""},
		{valid[:20] + strings.ToUpper(valid[20:]), ErrChatKeyMixedCase, ""},
		{string(flip), ErrChatKeyChecksum, ""},
		{valid[:len(valid)-1], ErrChatKeyChecksum, ""},
		{enc("dhtchat", 32), ErrChatKeyPrefix, "public key"},
		{strings.ToUpper(enc("dhtchat-secret-key-", 32)), ErrChatKeyPrefix, "secret key"},
		{enc("age", 32), ErrChatKeyPrefix, "age1"},
		{enc(ChatKeyHRP, 31), ErrChatKeyLength, "31"},
		{enc(ChatKeyHRP, 33), ErrChatKeyLength, "33"},
		{enc(ChatKeyHRP, 0), ErrChatKeyLength, ""},
		{strings.Repeat("q", 2000), ErrChatKeyMalformed, ""},
	}
	for _, tt := range tests {
		got, err := ParseChatKey(tt.in)
		if !errors.Is(err, tt.want) || got != (ChatKey{}) {
			t.Errorf("ParseChatKey(%.30q) = %v, %v, want %v", tt.in, got, err, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("ParseChatKey(%.30q) = %q, want a message mentioning %q", tt.in, err, tt.hint)
		}
	}
}

// A pasted secret key is never echoed back in an error.
func TestParseChatKeyDoesNotEchoSecret(t *testing.T) {
	secret := strings.ToUpper(mustEncode(t, "dhtchat-secret-key-", []byte(strings.Repeat("s", 32))))
	for _, in := range []string{secret, secret[:len(secret)-1] + "Q", strings.ToLower(secret[:30]) + secret[30:]} {
		_, err := ParseChatKey(in)
		if err == nil || strings.Contains(strings.ToUpper(err.Error()), secret[len(secret)-20:]) {
			t.Errorf("ParseChatKey(secret key) = %v, want an error that does not echo it", err)
		}
	}
}

func mustEncode(t testing.TB, hrp string, data []byte) string {
	t.Helper()
	s, err := bech32.Encode(hrp, data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
