package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// recorded is one record put to the DHT, as a recording DHT server keeps it.
type recorded struct {
	who     string
	name    ed25519.PublicKey
	seq     uint64
	payload []byte
}

// recorder is the attacker's archive: every record any client put.
type recorder struct {
	mu   sync.Mutex
	recs []recorded
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

func (r *recorder) count(who string) int {
	n := 0
	for _, x := range r.all() {
		if x.who == who {
			n++
		}
	}
	return n
}

// recNet is a user's DHT client that copies every put to the recorder.
type recNet struct {
	*dht.Node
	who string
	rec *recorder
}

func (n recNet) Put(ctx context.Context, key ed25519.PrivateKey, seq uint64, payload []byte) error {
	n.rec.mu.Lock()
	n.rec.recs = append(n.rec.recs, recorded{n.who, key.Public().(ed25519.PublicKey), seq, slices.Clone(payload)})
	n.rec.mu.Unlock()
	return n.Node.Put(ctx, key, seq, payload)
}

// onlineV2 (re)starts u's Client as a version 2 client whose puts rec
// records under who.
func (u *user) onlineV2(t *testing.T, net *dht.LocalNetwork, rec *recorder, who string) {
	t.Helper()
	u.node = dhttest.NewClient(t, net)
	c, err := Open(Config{Identity: u.sk, DBPath: filepath.Join(u.dir, "dhtchat.db"),
		Network: recNet{u.node, who, rec}, Poll: fastPoll, ChatVersion: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	u.c = c
}

func newUserV2(t *testing.T, name string, net *dht.LocalNetwork, rec *recorder) *user {
	t.Helper()
	u := newUser(t, name, net)
	u.offline(t)
	u.onlineV2(t, net, rec, name)
	return u
}

// ratchetOf reads u's ratchet state of chat id from u's database file, as
// an attacker who copied the file would.
func ratchetOf(t *testing.T, u *user, id ChatID) *wire.RatchetState {
	t.Helper()
	db, err := store.Open(filepath.Join(u.dir, "dhtchat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := db.Ratchet(t.Context(), store.ChatID(id))
	if err != nil || raw == nil {
		t.Fatalf("%s's ratchet state: %v, %v", u.name, raw, err)
	}
	st, err := wire.UnmarshalRatchetState(raw)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// opened returns the bodies that st opens from recs, trying every epoch
// and slot as an attacker who does not know them would. With chain, each
// record that opens replaces the state (the attacker follows the chat).
func opened(st *wire.RatchetState, recs []recorded, chain bool) []string {
	var got []string
	for _, r := range recs {
	try:
		for e := uint32(0); e < 16; e++ {
			for i := range wire.MaxSlots {
				next, s, err := st.DecodeSlot(zeroRand{}, e, i, r.seq, r.payload)
				if err != nil {
					continue
				}
				for _, m := range s.Messages {
					got = append(got, m.Body)
				}
				if chain {
					st = next
				}
				break try
			}
		}
	}
	return got
}

// zeroRand is the attacker's randomness: it does not know the parties'.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var _ io.Reader = zeroRand{}

// send sends bodies as u and publishes them.
func send(t *testing.T, u *user, id ChatID, bodies ...string) {
	t.Helper()
	if _, err := u.c.Send(t.Context(), id, bodies...); err != nil {
		t.Fatal(err)
	}
	if _, err := u.c.Flush(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

// roundTrip: a sends, b receives them, b answers, a receives the answer.
func roundTrip(t *testing.T, a, b *user, id ChatID, toB, toA string) {
	t.Helper()
	send(t, a, id, toB)
	receiveUntil(t, b, id, toB)
	send(t, b, id, toA)
	receiveUntil(t, a, id, toA)
}

// receiveUntil fetches as u until body arrives.
func receiveUntil(t *testing.T, u *user, id ChatID, body string) {
	t.Helper()
	ctx := testwait.Context(t)
	if err := testwait.Poll(ctx, func() bool {
		if _, err := u.c.Fetch(ctx, id); err != nil {
			t.Fatalf("%s: Fetch: %v", u.name, err)
		}
		h, err := u.c.History(ctx, id, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(h, func(e Entry) bool { return !e.Outgoing && e.Body == body })
	}); err != nil {
		t.Fatalf("%s never got %q: %v", u.name, body, err)
	}
}

// New chats are version 2: their records have one size, only the new
// keys open them, and both directions work, acks included.
func TestV2ChatBothWays(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	rec := &recorder{}
	alice, bob := newUserV2(t, "alice", net, rec), newUserV2(t, "bob", net, rec)
	id := startChat(t, alice, bob)
	ctx := t.Context()

	toBob := []string{"hello bob", "second"}
	send(t, alice, id, toBob...)
	checkInOrder(t, receiveAll(t, bob, id, len(toBob)), toBob)
	send(t, bob, id, "hi alice")
	checkInOrder(t, receiveAll(t, alice, id, 1), []string{"hi alice"})
	if err := testwait.Poll(testwait.Context(t), func() bool {
		if _, err := alice.c.Fetch(ctx, id); err != nil {
			t.Fatal(err)
		}
		o, err := alice.c.Outbox(ctx, id)
		return err == nil && o.Delivered == 2
	}); err != nil {
		t.Fatalf("alice's messages never delivered: %v", err)
	}
	recs := rec.all()
	if len(recs) == 0 {
		t.Fatal("nothing recorded")
	}
	p, err := alice.c.pairKey(bob.sk.Public())
	if err != nil {
		t.Fatal(err)
	}
	v1 := wire.DeriveKeys(p, wire.ChatID(mustChat(t, alice, id).Wire))
	for _, r := range recs {
		if len(r.payload) != wire.MaxSlotPayload {
			t.Errorf("a record of %s has %d bytes, want %d", r.who, len(r.payload), wire.MaxSlotPayload)
		}
		for _, d := range []wire.Direction{wire.FromLo, wire.FromHi} {
			for i := range wire.MaxSlots {
				if _, err := v1.DecodeSlot(d, i, r.seq, r.payload); err == nil {
					t.Errorf("version 1's keys open a record of %s", r.who)
				}
			}
		}
	}
}

func mustChat(t *testing.T, u *user, id ChatID) store.Chat {
	t.Helper()
	db, err := store.Open(filepath.Join(u.dir, "dhtchat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ch, err := db.Chat(t.Context(), store.ChatID(id))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// Forward secrecy (issue 13, property 1): an attacker who recorded every
// record and then takes both keyrings and both databases cannot open a
// message sent before the last completed ratchet step. The same attack
// with a state copied before the message was read opens it: the attack
// works where the keys are still there.
func TestV2ForwardSecrecy(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	rec := &recorder{}
	alice, bob := newUserV2(t, "alice", net, rec), newUserV2(t, "bob", net, rec)
	id := startChat(t, alice, bob)

	bobBefore := ratchetOf(t, bob, id)
	roundTrip(t, alice, bob, id, "early secret", "early answer")
	early := rec.all()
	if got := opened(bobBefore, early, true); !slices.Contains(got, "early secret") {
		t.Fatalf("the attack with bob's state from before opens %q; want it to open the early secret", got)
	}
	roundTrip(t, alice, bob, id, "later", "later answer")
	roundTrip(t, alice, bob, id, "latest", "latest answer")

	all := rec.all()
	for _, u := range []*user{alice, bob} {
		st := ratchetOf(t, u, id)
		for _, chain := range []bool{false, true} {
			for _, b := range opened(st, all, chain) {
				if b == "early secret" || b == "early answer" || b == "later" || b == "later answer" {
					t.Errorf("with %s's keyring and database the attacker opens %q", u.name, b)
				}
			}
		}
	}
	// The sealed copies of delivered messages are gone from the outbox.
	for _, u := range []*user{alice, bob} {
		db, err := store.Open(filepath.Join(u.dir, "dhtchat.db"))
		if err != nil {
			t.Fatal(err)
		}
		frames, c, err := db.Frames(t.Context(), store.ChatID(id), 100)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			if f.N <= c.PeerAck {
				t.Errorf("%s keeps the frame of delivered message %d", u.name, f.N)
			}
		}
	}
}

// Recovery after compromise (property 2): an attacker who copied alice's
// complete state, and follows every record with it, reads what bob sends
// before alice's next step (the control), but nothing bob sends once he
// has read a step that alice made after the copy: her new X25519 and
// ML-KEM keys are not in it. (Bob's step answering alice's keys of the
// copied state is still open to the attacker: that is the round trip.)
func TestV2PostCompromise(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	rec := &recorder{}
	alice, bob := newUserV2(t, "alice", net, rec), newUserV2(t, "bob", net, rec)
	id := startChat(t, alice, bob)
	roundTrip(t, alice, bob, id, "one", "two")

	stolen := ratchetOf(t, alice, id)
	from := len(rec.all())
	send(t, bob, id, "before healing")
	receiveUntil(t, alice, id, "before healing")
	roundTrip(t, alice, bob, id, "after alice's step", "after the round trip")
	roundTrip(t, alice, bob, id, "and later", "later still")

	got := opened(stolen, rec.all()[from:], true)
	if !slices.Contains(got, "before healing") {
		t.Fatalf("the stolen state opens %q; want it to open what bob sent before the next step", got)
	}
	for _, b := range got {
		if b == "later still" {
			t.Errorf("the stolen state opens %q, sent after the next round trip", b)
		}
	}
}

// copyDB copies u's database files (u offline) to dir, or back.
func copyDBFiles(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(to, "dhtchat.db"+suffix))
		b, err := os.ReadFile(filepath.Join(from, "dhtchat.db"+suffix))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, "dhtchat.db"+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// A restored database (issue 13, item 8): alice's database is put back to
// a backup made before the chat moved on. Her Client detects that its
// ratchet state is behind, raises AlertStale and refuses to publish
// (ErrStale): it puts no record, so no key of the old state is used again.
func TestV2RestoredDatabaseRefuses(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	rec := &recorder{}
	alice, bob := newUserV2(t, "alice", net, rec), newUserV2(t, "bob", net, rec)
	id := startChat(t, alice, bob)
	roundTrip(t, alice, bob, id, "one", "two")

	backup := t.TempDir()
	alice.offline(t)
	copyDBFiles(t, alice.dir, backup)
	alice.onlineV2(t, net, rec, "alice")
	roundTrip(t, alice, bob, id, "three", "four")
	send(t, alice, id, "five") // in alice's new epoch, on the names the backup announced
	receiveUntil(t, bob, id, "five")

	alice.offline(t)
	copyDBFiles(t, backup, alice.dir)
	alice.onlineV2(t, net, rec, "alice restored")
	ctx := t.Context()
	if _, err := alice.c.Send(ctx, id, "from the stale state"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Flush(ctx, id); !errors.Is(err, ErrStale) {
		t.Fatalf("Flush with the restored database = %v, want ErrStale", err)
	}
	as, err := alice.c.Alerts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(as, func(a Alert) bool { return a.Kind == AlertStale }) {
		t.Errorf("alerts = %v, want AlertStale", as)
	}
	if _, err := alice.c.Fetch(ctx, id); err != nil && !errors.Is(err, ErrStale) {
		t.Fatal(err)
	}
	if _, err := alice.c.Flush(ctx, id); !errors.Is(err, ErrStale) {
		t.Fatalf("Flush again = %v, want ErrStale", err)
	}
	if n := rec.count("alice restored"); n != 0 {
		t.Errorf("the restored database put %d records", n)
	}
}

// A restored database whose state made no step since the backup (issue
// 13, item 8; the scenario of cmd/dhtchat's TestCLIRestoredHome): alice
// sent more messages in the same epoch, bob acknowledged them, and the
// restored Client is asked to send before it fetched. The check before its
// first write reads bob's acknowledgement, above what this database ever
// put, and it refuses: the restored state's keys for those numbers were
// used by the original.
func TestV2RestoredSameEpochRefuses(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	rec := &recorder{}
	alice, bob := newUserV2(t, "alice", net, rec), newUserV2(t, "bob", net, rec)
	id := startChat(t, alice, bob)
	roundTrip(t, alice, bob, id, "one", "two")
	if _, err := alice.c.Fetch(t.Context(), id); err != nil {
		t.Fatal(err)
	}

	backup := t.TempDir()
	alice.offline(t)
	copyDBFiles(t, alice.dir, backup)
	alice.onlineV2(t, net, rec, "alice")
	send(t, alice, id, "three", "four")
	receiveUntil(t, bob, id, "four")
	if _, err := bob.c.Flush(t.Context(), id); err != nil { // bob's ack
		t.Fatal(err)
	}

	alice.offline(t)
	copyDBFiles(t, backup, alice.dir)
	alice.onlineV2(t, net, rec, "alice restored")
	ctx := t.Context()
	if _, err := alice.c.Send(ctx, id, "five", "six", "seven"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Flush(ctx, id); !errors.Is(err, ErrStale) {
		t.Fatalf("Flush with the restored database = %v, want ErrStale", err)
	}
	if n := rec.count("alice restored"); n != 0 {
		t.Errorf("the restored database put %d records", n)
	}
}
