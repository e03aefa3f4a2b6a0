package chat

import (
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht/dhttest"
)

// A one-shot command (a Client without a live host) that publishes beside
// the full-screen UI keeps the UI's announcement in our slot 0 record,
// rather than a "none" that would make the friend stop dialling.
func TestLiveAnnouncementCarriedOver(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	alice, bob := newLiveUser(t, "alice", net), newLiveUser(t, "bob", net)
	id := startChat(t, alice.user, bob.user)
	waitPath(t, alice, id, PathLiveDirect)
	alice.c.chatsMu.Lock()
	cs := alice.c.chats[id]
	alice.c.chatsMu.Unlock()
	keys, dir := cs.keys, cs.dir
	ui, err := alice.c.liveOf(cs).lc.Announcement()
	if err != nil {
		t.Fatal(err)
	}
	uiAnn, err := keys.OpenAnnouncement(dir, ui)
	if err != nil {
		t.Fatal(err)
	}

	// The UI's record stays; a one-shot of alice's home sends.
	alice.user.offline(t)
	alice.user.online(t, net)
	if _, err := alice.c.Send(t.Context(), id, "from a one-shot"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Sync(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	waitReceived(t, bob.user, id, []string{"from a one-shot"})
	rec, err := alice.node.Get(t.Context(), keys.SlotPublicKey(dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := keys.OpenAnnouncement(dir, rec.Live)
	if err != nil {
		t.Fatalf("the one-shot's slot 0 record: %v", err)
	}
	if got.None() || got.PeerKey != uiAnn.PeerKey {
		t.Errorf("the one-shot's slot 0 announces %+v; want the UI's %+v", got, uiAnn)
	}
}

// Only a valid announcement is carried over: an expired one, a "none" or
// one that does not open becomes a "none".
func TestLiveAnnouncementNotCarried(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	alice.c.chatsMu.Lock()
	cs := alice.c.chats[id]
	alice.c.chatsMu.Unlock()
	seal := func(a wire.Announcement) []byte {
		t.Helper()
		b, err := cs.keys.SealAnnouncement(cs.dir, a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	valid := wire.Announcement{Dir: cs.dir, Expires: time.Now().Add(time.Hour).Truncate(time.Millisecond), PeerKey: [32]byte{1}}
	expired := valid
	expired.Expires = time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	other := valid
	other.Dir = cs.dir.Other()
	otherSealed, err := cs.keys.SealAnnouncement(cs.dir.Other(), other)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		sealed []byte
		carry  bool
	}{
		{"valid", seal(valid), true},
		{"expired", seal(expired), false},
		{"none", seal(wire.Announcement{Dir: cs.dir}), false},
		{"the friend's direction", otherSealed, false},
		{"absent", nil, false},
	} {
		cs.mu.Lock()
		alice.c.carryAnnouncement(cs, tc.sealed)
		out, err := alice.c.announcementWithoutHost(cs)
		cs.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		a, err := cs.keys.OpenAnnouncement(cs.dir, out)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.None() == tc.carry {
			t.Errorf("%s: wrote %+v; carried over: %v, want %v", tc.name, a, !a.None(), tc.carry)
		}
	}
}
