package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/dhtchat/dhtchat/internal/textsafe"
	"github.com/dhtchat/dhtchat/keyring"
)

// This file attacks the engine from three sides: a chat partner who holds
// the real keys and writes records a correct client never would, third
// parties who know the public keys and even the chat key but no secret
// key, and DHT servers that lie. (dht/malicious_test.go has the servers'
// effect on a single Get.)

// ---- A malicious partner ----

// forger is a chat partner who writes its direction by hand: it holds the
// chat's real Keys, so everything it writes authenticates, but it obeys
// none of the writer's rules.
type forger struct {
	keys *wire.Keys
	dir  wire.Direction
	node *dht.Node
	seq  [wire.MaxSlots]uint64
}

func newForger(t *testing.T, u *user, id ChatID) *forger {
	t.Helper()
	cs, err := u.c.state(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return &forger{keys: cs.keys, dir: cs.dir, node: u.node}
}

// msg seals a message plaintext built by hand: any number, any sent_at,
// any body bytes (Seal refuses n = 0, invalid UTF-8 and oversized bodies).
func (f *forger) msg(n uint64, sentAtMs int64, body []byte) []byte {
	return f.keys.SealPlaintext(f.dir, wire.MessagePlaintext(f.dir, n, sentAtMs, string(body)))
}

// text is msg with a valid body and the current time.
func (f *forger) text(n uint64, body string) []byte {
	return f.msg(n, time.Now().UnixMilli(), []byte(body))
}

// put publishes a slot record with header h (Dir and Seq filled in unless
// set) carrying frames, laid out as EncodeSlot would but without its
// checks. It returns the sequence number used.
func (f *forger) put(t *testing.T, slot int, h wire.SlotHeader, frames ...[]byte) uint64 {
	t.Helper()
	f.seq[slot]++
	if h.Seq == 0 {
		h.Seq = f.seq[slot]
	}
	h.Dir = f.dir
	out := f.keys.EncodeSlotUnchecked(h, frames)
	if err := f.node.Put(t.Context(), f.keys.SlotPrivateKey(f.dir, slot), f.seq[slot], out); err != nil {
		t.Fatalf("forger: put slot %d: %v", slot, err)
	}
	return f.seq[slot]
}

// fetchOnce fetches as u, failing the test on an engine error (a hostile
// record must be rejected, never make Fetch fail).
func fetchOnce(t *testing.T, u *user, id ChatID) fetchResult {
	t.Helper()
	res, err := u.c.Fetch(t.Context(), id)
	if err != nil {
		t.Fatalf("%s: Fetch = %v", u.name, err)
	}
	return res
}

// fetchUntil fetches as u until cond holds for the accumulated result.
func fetchUntil(t *testing.T, u *user, id ChatID, what string, cond func(fetchResult) bool) fetchResult {
	t.Helper()
	var all fetchResult
	if err := testwait.Poll(testwait.Context(t), func() bool {
		res := fetchOnce(t, u, id)
		all.Received = append(all.Received, res.Received...)
		all.Delivered = append(all.Delivered, res.Delivered...)
		all.Rejected += res.Rejected
		all.Resynced = append(all.Resynced, res.Resynced...)
		all.Alerts = append(all.Alerts, res.Alerts...)
		return cond(all)
	}); err != nil {
		t.Fatalf("%s: waiting for %s: got %d messages, %d rejected: %v", u.name, what, len(all.Received), all.Rejected, err)
	}
	return all
}

func bodies(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%d:%.30s", e.N, e.Body))
	}
	return out
}

// receivedHistory returns u's received messages of chat id, in order.
func receivedHistory(t *testing.T, u *user, id ChatID) []Entry {
	t.Helper()
	hist, err := u.c.History(t.Context(), id, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var in []Entry
	for _, e := range hist {
		if !e.Outgoing {
			in = append(in, e)
		}
	}
	return in
}

// TestMaliciousPartner: mallory holds the chat's real keys and writes, one
// after the other, records that no correct client writes. Alice's engine
// never fails, never shows a message twice or out of order, never shows
// one that breaks the rules, and still delivers every valid message that
// comes after.
func TestMaliciousPartner(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, mallory := newUser(t, "alice", net), newUser(t, "mallory", net)
	id := startChat(t, alice, mallory)
	m := newForger(t, mallory, id)
	ctx := t.Context()
	if _, err := alice.c.Send(ctx, id, "hi mallory", "are you there?"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	want := []string{}
	expect := func(what string, add ...string) {
		t.Helper()
		want = append(want, add...)
		fetchUntil(t, alice, id, what, func(fetchResult) bool {
			return len(receivedHistory(t, alice, id)) >= len(want)
		})
		got := receivedHistory(t, alice, id)
		if len(got) != len(want) {
			t.Fatalf("%s: alice has %d messages %q, want %d", what, len(got), bodies(got), len(want))
		}
		for i, e := range got {
			if e.N != uint64(i+1) || e.Body != want[i] {
				t.Fatalf("%s: message %d is %d %.40q, want %d %.40q", what, i, e.N, e.Body, i+1, want[i])
			}
		}
	}
	expectRejected := func(what string) {
		t.Helper()
		fetchUntil(t, alice, id, what+" to be rejected", func(r fetchResult) bool {
			if len(r.Received) > 0 {
				t.Fatalf("%s: alice accepted %q", what, bodies(r.Received))
			}
			return r.Rejected > 0
		})
	}

	// 1. A huge message number beside valid ones, and lies about the
	// slots: 16 slots in use, of which 15 were never written.
	m.put(t, 0, wire.SlotHeader{SlotsUsed: wire.MaxSlots, MaxN: 1 << 62},
		m.text(1, "one"), m.text(2, "two"), m.text(1<<62, "from the far future"))
	expect("huge number", "one", "two")

	// 2. A reused number with other text beside the next message, and an
	// ack far above anything alice sent: the record is kept, the first
	// text of the reused number too, and alice is alerted; the ack is
	// ignored: nothing is marked delivered, alice's numbers do not move.
	// Then the same record with a true ack delivers alice's two.
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, MaxN: 3, Ack: 1 << 40},
		m.text(1, "EVIL one"), m.text(3, "three"))
	expect("reused number", "three")
	if as, err := alice.c.Alerts(ctx, id); err != nil || len(as) != 1 || as[0].Kind != AlertConflict || as[0].N != 1 {
		t.Fatalf("alice's alerts after a reused number = %+v, %v; want one conflict at 1", as, err)
	}
	if o, _ := alice.c.Outbox(ctx, id); o.Delivered != 0 || o.Sent != 2 {
		t.Fatalf("after an ack of 2^40 alice's outbox is %+v; want 2 sent, none delivered", o)
	}
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, MaxN: 3, Ack: 2},
		m.text(1, "EVIL one"), m.text(3, "three"))
	fetchUntil(t, alice, id, "the true ack", func(r fetchResult) bool { return len(r.Delivered) == 2 })
	if _, err := alice.c.Send(ctx, id, "third from alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}

	// 3. Timestamps at the ends of time: stored, and representable in
	// the JSON that recv --json prints.
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, MaxN: 6},
		m.msg(4, math.MaxInt64, []byte("max time")), m.msg(5, math.MinInt64, []byte("min time")), m.msg(6, 0, []byte("epoch")))
	expect("extreme timestamps", "max time", "min time", "epoch")
	for _, e := range receivedHistory(t, alice, id)[3:] {
		if _, err := json.Marshal(e.SentAt.UTC()); err != nil {
			t.Errorf("message %d: sent_at %v does not encode as JSON: %v", e.N, e.SentAt, err)
		}
	}

	// 4. A record with one message of invalid UTF-8 is refused whole;
	// the next valid record is delivered.
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, MaxN: 8},
		m.text(7, "seven, with a bad neighbour"), m.msg(8, 0, []byte("bad \xff\xfe utf-8")))
	expectRejected("invalid UTF-8")
	// ... and so are number 0, a body longer than MaxBody, non-zero
	// padding, a header naming another slot or sequence number, numbers
	// out of order, and a number above max_n.
	long := m.msg(7, 0, bytes.Repeat([]byte("x"), wire.MaxBody+1))
	plain := wire.MessagePlaintext(m.dir, 7, time.Now().UnixMilli(), "x")
	plain[len(plain)-1] = 1
	padded := m.keys.SealPlaintext(m.dir, plain)
	for _, bad := range []struct {
		name   string
		h      wire.SlotHeader
		frames [][]byte
	}{
		{"number 0", wire.SlotHeader{SlotsUsed: 1, MaxN: 7}, [][]byte{m.msg(0, 0, []byte("zero"))}},
		{"long body", wire.SlotHeader{SlotsUsed: 1, MaxN: 7}, [][]byte{long}},
		{"padding", wire.SlotHeader{SlotsUsed: 1, MaxN: 7}, [][]byte{padded}},
		{"other slot", wire.SlotHeader{Slot: 1, SlotsUsed: 2, MaxN: 7}, [][]byte{m.text(7, "x")}},
		{"other seq", wire.SlotHeader{SlotsUsed: 1, MaxN: 7, Seq: 1 << 50}, [][]byte{m.text(7, "x")}},
		{"out of order", wire.SlotHeader{SlotsUsed: 1, MaxN: 8}, [][]byte{m.text(8, "x"), m.text(7, "x")}},
		{"above max_n", wire.SlotHeader{SlotsUsed: 1, MaxN: 6}, [][]byte{m.text(7, "x")}},
		{"no slots", wire.SlotHeader{SlotsUsed: 0, MaxN: 7}, [][]byte{m.text(7, "x")}},
		{"17 slots", wire.SlotHeader{SlotsUsed: wire.MaxSlots + 1, MaxN: 7}, [][]byte{m.text(7, "x")}},
		{"other direction", wire.SlotHeader{SlotsUsed: 1, MaxN: 7}, [][]byte{func() []byte {
			m.dir ^= 1
			defer func() { m.dir ^= 1 }()
			return m.text(7, "x")
		}()}},
	} {
		m.put(t, 0, bad.h, bad.frames...)
		expectRejected(bad.name)
	}
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, MaxN: 7}, m.text(7, "seven"))
	expect("after the bad records", "seven")

	// 5. Terminal escapes, C1 controls and bidi overrides in valid UTF-8:
	// stored byte for byte, and nothing of them survives textsafe.
	evil := "\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\u009b31m\u202eevil\u2066 \x1bP+q\x1b\\ \r\b\x00 done"
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, MaxN: 8}, m.text(8, evil))
	expect("escapes", evil)
	for _, r := range textsafe.Clean(evil) {
		if (unicode.IsControl(r) && r != '\n' && r != '\t') || r == '\u202e' || r == '\u2066' {
			t.Fatalf("textsafe.Clean left %U in %q", r, textsafe.Clean(evil))
		}
	}

	// 6. Maximum-size bodies, one to a slot, in three slots; slot 0 is
	// written last, as a writer must.
	big := func(c byte) string { return strings.Repeat(string(c), wire.MaxBody) }
	m.put(t, 2, wire.SlotHeader{Slot: 2, SlotsUsed: 3, MaxN: 11}, m.text(11, big('c')))
	m.put(t, 1, wire.SlotHeader{Slot: 1, SlotsUsed: 3, MaxN: 11}, m.text(10, big('b')))
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 3, MaxN: 11}, m.text(9, big('a')))
	expect("max-size bodies", big('a'), big('b'), big('c'))

	// 7. max_n promises a message that is nowhere: alice keeps polling
	// the slots it names, shows nothing, and takes the real one later.
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 3, MaxN: 12})
	for range 3 {
		if r := fetchOnce(t, alice, id); len(r.Received) > 0 {
			t.Fatalf("alice received %q from an empty record", bodies(r.Received))
		}
	}
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, MaxN: 13}, m.text(12, "twelve"), m.text(13, "thirteen"))
	expect("after max_n lied", "twelve", "thirteen")

	// Alice's own messages: the two mallory acknowledged are delivered,
	// the one alice sent after the ack is not.
	hist, err := alice.c.History(ctx, id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hist {
		if !e.Outgoing {
			continue
		}
		if wantDelivered := e.N <= 2; (e.Status == Delivered) != wantDelivered {
			t.Errorf("alice's message %d is %v; delivered should be %v", e.N, e.Status, wantDelivered)
		}
	}
}

// ---- Third parties ----

// TestThirdPartyCannotReadOrInject: eve knows alice's and bob's public
// keys and, in the worse case, their chat key (it is not secret: it may
// be pasted in a channel eve reads). She has no secret key of theirs.
// Everything she can derive is keyed by a pair key she does not have:
// she cannot find the chat's records, cannot read them when shown where
// they are, and what she writes alice and bob never read.
func TestThirdPartyCannotReadOrInject(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob, eve := newUser(t, "alice", net), newUser(t, "bob", net), newUser(t, "eve", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	if _, err := alice.c.Send(ctx, id, "for bob only"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	aliceKeys := newForger(t, alice, id).keys
	info, err := alice.c.Info(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	chatKey, err := wire.ParseChatKey(info.Key.String())
	if err != nil {
		t.Fatalf("anyone can parse a chat key: %v", err)
	}

	// Every pair key eve can compute: with her own secret and either
	// public key, or from the public keys alone (the "shared secret" a
	// low-order key would give, all zeros, is refused; the public keys
	// themselves as a secret are just guesses).
	pub := func(u *user) [32]byte { return u.sk.Public().Bytes() }
	var guesses []wire.PairKey
	for _, peer := range []*user{alice, bob} {
		shared, err := eve.sk.SharedSecret(peer.sk.Public())
		if err != nil {
			t.Fatal(err)
		}
		p, err := wire.DerivePairKey(shared, pub(eve), pub(peer))
		if err != nil {
			t.Fatal(err)
		}
		guesses = append(guesses, p)
		if _, err := wire.DerivePairKey(shared, pub(alice), pub(bob)); err != nil {
			t.Fatal(err)
		}
		p, _ = wire.DerivePairKey(shared, pub(alice), pub(bob))
		guesses = append(guesses, p)
	}
	if _, err := wire.DerivePairKey([32]byte{}, pub(alice), pub(bob)); !errors.Is(err, wire.ErrZeroSecret) {
		t.Fatalf("DerivePairKey(zero secret) = %v, want ErrZeroSecret", err)
	}
	for _, guess := range [][32]byte{pub(alice), pub(bob)} {
		p, err := wire.DerivePairKey(guess, pub(alice), pub(bob))
		if err != nil {
			t.Fatal(err)
		}
		guesses = append(guesses, p)
	}

	realNames := map[string]bool{}
	for d := range wire.Direction(2) {
		for i := range wire.MaxSlots {
			realNames[string(aliceKeys.SlotPublicKey(d, i))] = true
		}
	}
	rec, err := eve.node.Get(ctx, aliceKeys.SlotPublicKey(wire.FromLo, 0))
	if err != nil {
		rec, err = eve.node.Get(ctx, aliceKeys.SlotPublicKey(wire.FromHi, 0))
	}
	if err != nil {
		t.Fatalf("eve, told where it is, cannot even fetch alice's record: %v", err)
	}
	aliceDir := wire.DirectionOf(pub(alice), pub(bob))
	if rec, err = eve.node.Get(ctx, aliceKeys.SlotPublicKey(aliceDir, 0)); err != nil {
		t.Fatal(err)
	}
	for gi, p := range guesses {
		// The chat key's tag tells her at once that the guess is wrong.
		if _, err := chatKey.Keys(p); !errors.Is(err, wire.ErrChatKeyNotForYou) {
			t.Fatalf("guess %d: ChatKey.Keys = %v, want ErrChatKeyNotForYou", gi, err)
		}
		// Ignoring the tag, the keys she derives name other records ...
		k := wire.DeriveKeys(p, chatKey.ID())
		for d := range wire.Direction(2) {
			for i := range wire.MaxSlots {
				if realNames[string(k.SlotPublicKey(d, i))] {
					t.Fatalf("guess %d derives the real name of slot %v/%d", gi, d, i)
				}
			}
		}
		// ... and cannot open the real one, in either direction.
		for d := range wire.Direction(2) {
			if _, err := k.DecodeSlot(d, 0, rec.Seq, rec.Payload); !errors.Is(err, wire.ErrDecrypt) {
				t.Fatalf("guess %d, direction %v: DecodeSlot(alice's record) = %v, want ErrDecrypt", gi, d, err)
			}
		}
		// What she writes with them goes where nobody reads.
		for d := range wire.Direction(2) {
			sealed, err := k.Seal(d, wire.Message{N: 2, SentAt: time.Now(), Body: "eve was here"})
			if err != nil {
				t.Fatal(err)
			}
			payload, err := k.EncodeSlot(wire.SlotHeader{Dir: d, SlotsUsed: 1, Seq: 1 << 40, MaxN: 2}, [][]byte{sealed})
			if err != nil {
				t.Fatal(err)
			}
			if err := eve.node.Put(ctx, k.SlotPrivateKey(d, 0), 1<<40, payload); err != nil {
				t.Fatal(err)
			}
			// Had she found a way to the real names, the message would
			// still not open under the real keys.
			if _, err := aliceKeys.Open(d, sealed); !errors.Is(err, wire.ErrDecrypt) {
				t.Fatalf("guess %d: eve's message opens under the real key of %v: %v", gi, d, err)
			}
		}
	}
	// A replay of alice's own record, put again by anyone, changes
	// nothing: the DHT keeps it as it is, and bob has accepted its seq.
	got := receiveAll(t, bob, id, 1)
	if len(got) != 1 || got[0].Body != "for bob only" {
		t.Fatalf("bob received %q", bodies(got))
	}
	for _, u := range []*user{alice, bob} {
		res := fetchOnce(t, u, id)
		if len(res.Received) != 0 {
			t.Fatalf("%s received %q after eve's attempts", u.name, bodies(res.Received))
		}
	}
	if _, err := bob.c.Send(ctx, id, "for alice only"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	checkInOrder(t, receiveAll(t, alice, id, 1), []string{"for alice only"})
}

// TestChatKeyIsNotACapability: someone who has the chat key and both
// public keys, but no secret key, joins nothing: a Client with another
// identity refuses the chat key with either party as the peer.
func TestChatKeyIsNotACapability(t *testing.T) {
	net := dhttest.NewNetwork(t, 2)
	alice, bob, eve := newUser(t, "alice", net), newUser(t, "bob", net), newUser(t, "eve", net)
	started, err := alice.c.StartChat(t.Context(), bob.sk.Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, peer := range []keyring.PublicKey{alice.sk.Public(), bob.sk.Public()} {
		if _, err := eve.c.JoinChat(t.Context(), peer, started.Key); !errors.Is(err, wire.ErrChatKeyNotForYou) {
			t.Fatalf("eve JoinChat = %v, want ErrChatKeyNotForYou", err)
		}
	}
	chats, err := eve.c.Chats(t.Context())
	if err != nil || len(chats) != 0 {
		t.Fatalf("eve has chats %v, %v", chats, err)
	}
}

// ---- Lying DHT servers (dhttest.LyingStore), end to end ----

// TestLyingServers: alice and bob chat in both directions, in bursts that
// take several slots, on a network where six lying servers (one of each
// kind) outnumber three honest ones. Every message arrives exactly once,
// in order, and is acknowledged; nothing else is ever shown.
func TestLyingServers(t *testing.T) {
	if testing.Short() {
		t.Skip("bursts through nine servers, six of them lying: slow, skipped with -short")
	}
	net := dhttest.NewNetwork(t, 3)
	ctx := testwait.Context(t)
	for _, mode := range dhttest.LieModes {
		dhttest.NewLiar(t, net, mode)
	}
	dhttest.WaitRouted(t, net, 2+len(dhttest.LieModes))

	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	aliceEvents, bobEvents := alice.c.Subscribe(ctx), bob.c.Subscribe(ctx)
	alice.c.Focus(id)
	bob.c.Focus(id)

	const rounds, burst = 3, 70 // 70 messages of ~90 bytes take two slots
	var toBob, toAlice []string
	for r := range rounds {
		for i := range burst {
			toBob = append(toBob, fmt.Sprintf("round %d, alice's message %03d %s", r, i, strings.Repeat(".", 50)))
			toAlice = append(toAlice, fmt.Sprintf("round %d, bob's message %03d %s", r, i, strings.Repeat(".", 50)))
		}
	}
	var gotBob, gotAlice []Entry
	deliveredA, deliveredB := 0, 0
	for r := range rounds {
		if _, err := alice.c.Send(ctx, id, toBob[r*burst:(r+1)*burst]...); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.c.Send(ctx, id, toAlice[r*burst:(r+1)*burst]...); err != nil {
			t.Fatal(err)
		}
		for len(gotBob) < (r+1)*burst || len(gotAlice) < (r+1)*burst ||
			deliveredA < (r+1)*burst || deliveredB < (r+1)*burst {
			select {
			case ev := <-bobEvents:
				switch ev := ev.(type) {
				case MessageEvent:
					gotBob = append(gotBob, ev.Entry)
				case StatusEvent:
					if ev.Entry.Status == Delivered {
						deliveredB++
					}
				}
			case ev := <-aliceEvents:
				switch ev := ev.(type) {
				case MessageEvent:
					gotAlice = append(gotAlice, ev.Entry)
				case StatusEvent:
					if ev.Entry.Status == Delivered {
						deliveredA++
					}
				}
			case <-ctx.Done():
				t.Fatalf("round %d: bob has %d, alice %d; delivered %d and %d", r, len(gotBob), len(gotAlice), deliveredA, deliveredB)
			}
		}
	}
	checkInOrder(t, gotBob, toBob)
	checkInOrder(t, gotAlice, toAlice)
}
