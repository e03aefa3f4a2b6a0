package chat

import (
	"path/filepath"
	"testing"

	"github.com/dhtchat/dhtchat/dht/dhttest"
)

// waitEvent returns the first event of w that match accepts.
func waitEvent[E Event](t *testing.T, w *worker, match func(E) bool) E {
	t.Helper()
	for {
		if ev, ok := w.next(t).(E); ok && match(ev) {
			return ev
		}
	}
}

// Typing indicators and read receipts cross the live path between two
// Clients, and a read receipt arrives too when the user read before the
// stream came up.
func TestLiveSignals(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	alice, bob := newLiveUser(t, "alice", net), newLiveUser(t, "bob", net)
	id := startChat(t, alice.user, bob.user)
	aw, bw := runWorker(t, alice.user), runWorker(t, bob.user)
	waitPath(t, alice, id, PathLiveDirect)
	waitPath(t, bob, id, PathLiveDirect)

	for _, typing := range []bool{true, false} {
		alice.c.Typing(id, typing)
		waitEvent(t, bw, func(ev TypingEvent) bool { return ev.ID == id && ev.Typing == typing })
	}

	sendEach(t, alice.user, id, []string{"one", "two"})
	waitReceived(t, bob.user, id, []string{"one", "two"})
	if err := bob.c.MarkRead(t.Context(), id, 1); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, aw, func(ev ReadEvent) bool { return ev.ID == id && ev.N == 1 })

	// Read while the stream is down: told when it comes back.
	c := bob.conn(id)
	bob.net.blind.Store(true) // no DHT either: nothing reaches alice but the stream
	c.Close()
	if err := bob.c.MarkRead(t.Context(), id, 2); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, aw, func(ev ReadEvent) bool { return ev.ID == id && ev.N == 2 })
	if got := alice.c.FriendRead(id); got != 2 {
		t.Errorf("alice's FriendRead = %d, want 2", got)
	}
}

// Switched off, neither is kept to be sent.
func TestLiveSignalsOff(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	alice, bob := newLiveUser(t, "alice", net), newLiveUser(t, "bob", net)
	id := startChat(t, alice.user, bob.user)
	if err := alice.c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db"), Network: alice.net, Poll: fastPoll,
		Watch: WatchAll, Live: alice.live, NoTyping: true, NoReadReceipts: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Typing(id, true)
	if err := c.MarkRead(t.Context(), id, 1); err != nil {
		t.Fatal(err)
	}
	c.sig.mu.Lock()
	n := len(c.sig.chats)
	c.sig.mu.Unlock()
	if n != 0 {
		t.Errorf("with both off, %d chats have signals to send", n)
	}
	if got := c.FriendRead(id); got != 0 {
		t.Errorf("FriendRead with read receipts off = %d", got)
	}
}
