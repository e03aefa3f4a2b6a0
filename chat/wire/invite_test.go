// This file is long because every refusal of the invite and acceptance
// parsers, and every attacker of the rendezvous, is one case here.

package wire

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/internal/bech32"
)

var testExpiry = time.UnixMilli(1700604800000)

func TestPairChatIDBothSides(t *testing.T) {
	alice, bob, carol := newParty(t, aliceSecretHex), newParty(t, bobSecretHex), newParty(t, carolSecretHex)
	ab, ba := pairKey(t, alice, bob), pairKey(t, bob, alice)
	if PairChatID(ab) != PairChatID(ba) {
		t.Fatalf("PairChatID differs between the two sides: %v, %v", PairChatID(ab), PairChatID(ba))
	}
	if !IsPairChat(ba, PairChatID(ab)) || IsPairChat(ba, testChatID) {
		t.Errorf("IsPairChat does not recognise exactly the pair conversation")
	}
	// Each pair has its own, so a friend cannot make your conversation
	// with someone else.
	ac, bc := pairKey(t, alice, carol), pairKey(t, bob, carol)
	if PairChatID(ab) == PairChatID(ac) || PairChatID(ab) == PairChatID(bc) || PairChatID(ac) == PairChatID(bc) {
		t.Errorf("two pairs share a pair conversation ID")
	}
	// Its keys are the chat's keys under that ID, on both sides, and its
	// chat key opens as an ordinary one.
	ka, kb := PairChatKeys(ab), PairChatKeys(ba)
	kc, err := ChatKeyFor(ba, PairChatID(ba)).Keys(ba)
	if err != nil {
		t.Fatal(err)
	}
	for d := range Direction(2) {
		for _, k := range []*Keys{kb, kc} {
			if !bytes.Equal(ka.SlotPublicKey(d, 0), k.SlotPublicKey(d, 0)) || ka.msg[d] != k.msg[d] {
				t.Errorf("pair conversation keys of direction %v differ between derivations", d)
			}
		}
	}
	// Its names differ from every chat of the pair with another ID.
	other := DeriveKeys(ab, testChatID)
	if bytes.Equal(other.SlotPublicKey(FromLo, 0), ka.SlotPublicKey(FromLo, 0)) {
		t.Errorf("pair conversation shares a slot name with chat %v", testChatID)
	}
}

// The pair conversation's ID is separated from every other derivation of
// the pair key: it is none of the 16-byte values a DHT observer or the
// friend of one party can see (a chat key's tag, an ID) nor a prefix of
// the chat keys' secrets.
func TestPairChatIDDomainSeparated(t *testing.T) {
	p := pairKey(t, newParty(t, aliceSecretHex), newParty(t, bobSecretHex))
	id := PairChatID(p)
	var zero ChatID
	for _, salt := range []ChatID{zero, testChatID, id} {
		tag := ChatKeyFor(p, salt).tag
		secret := hkdf32(p.k[:], salt[:], labelChat)
		if bytes.Equal(id[:], tag[:]) || bytes.Equal(id[:], secret[:16]) {
			t.Errorf("PairChatID equals a chat key tag or chat secret for id %v", salt)
		}
	}
	if bytes.Equal(id[:], p.k[:16]) {
		t.Errorf("PairChatID is a prefix of the pair key")
	}
}

func newTestInvite(t testing.TB, inviter party, name string) Invite {
	t.Helper()
	inv, err := NewInvite(inviter.pub, testExpiry, name)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestInviteRoundTrip(t *testing.T) {
	alice := newParty(t, aliceSecretHex)
	for _, name := range []string{"", "Alice", "Zoë ✓ ", strings.Repeat("é", MaxInviteName/2)} {
		inv := newTestInvite(t, alice, name)
		text := inv.Text()
		if !strings.HasPrefix(text, InviteHRP+"1") || len(text) > MaxInviteText {
			t.Errorf("Text() = %q (%d characters), want prefix %s1 and at most %d", text, len(text), InviteHRP, MaxInviteText)
		}
		for _, s := range []string{text, strings.ToUpper(text), " \n" + text + "\r\n"} {
			got, err := ParseInvite(s)
			if err != nil {
				t.Fatalf("ParseInvite(Text()) = %v", err)
			}
			if !got.Equal(inv) || got.Inviter() != alice.pub || got.Name() != name || !got.Expires().Equal(testExpiry) {
				t.Errorf("ParseInvite(Text()) = %x %q %v, want %x %q %v", got.Inviter(), got.Name(), got.Expires(), alice.pub, name, testExpiry)
			}
		}
	}
	// The sizes docs/PROTOCOL.md §19 and §20.2 state.
	if MaxInviteText != 242 || AcceptanceSize != 200 || len(newTestInvite(t, alice, "").Text()) != 140 {
		t.Errorf("MaxInviteText = %d, AcceptanceSize = %d, want the document's 242 and 200", MaxInviteText, AcceptanceSize)
	}
	long := newTestInvite(t, alice, strings.Repeat("x", MaxInviteName))
	if n := len(long.Text()); n != MaxInviteText {
		t.Errorf("the longest invite is %d characters, MaxInviteText = %d", n, MaxInviteText)
	}
	// Every invite has a fresh secret, hence its own rendezvous.
	a, b := newTestInvite(t, alice, ""), newTestInvite(t, alice, "")
	if a.Equal(b) || a.Text() == b.Text() || bytes.Equal(a.Rendezvous().PublicKey(), b.Rendezvous().PublicKey()) {
		t.Errorf("two invites share their secret or rendezvous")
	}
}

func TestInviteExpired(t *testing.T) {
	inv := newTestInvite(t, newParty(t, aliceSecretHex), "")
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{testExpiry.Add(-time.Millisecond), false},
		{testExpiry, true},
		{testExpiry.Add(time.Hour), true},
	} {
		if got := inv.Expired(c.now); got != c.want {
			t.Errorf("Expired(%v) = %v, want %v", c.now, got, c.want)
		}
	}
}

func TestInviteRedacted(t *testing.T) {
	inv := newTestInvite(t, newParty(t, aliceSecretHex), "Alice")
	r := inv.Rendezvous()
	secretHex := fmt.Sprintf("%x", inv.secret[:])
	for _, s := range []string{inv.String(), fmt.Sprint(inv), fmt.Sprintf("%v %+v %#v %x %s", inv, inv, inv, inv, &inv),
		fmt.Sprintf("%v %+v %#v %x", r, r, *r, r)} {
		if strings.Contains(s, secretHex) || strings.Contains(s, inv.Text()) || strings.Contains(s, "Alice") {
			t.Errorf("formatting an invite printed its content: %q", s)
		}
	}
}

func TestNewInviteRejects(t *testing.T) {
	alice := newParty(t, aliceSecretHex)
	for _, c := range []struct {
		name    string
		expires time.Time
	}{
		{strings.Repeat("x", MaxInviteName+1), testExpiry},
		{"evil\x1b[2J", testExpiry},
		{"line\nbreak", testExpiry},
		{"gnp.exe\u202e", testExpiry}, // right-to-left override
		{"\xff", testExpiry},
		{"ok", time.Time{}},
		{"ok", time.UnixMilli(0)},
		{"ok", time.UnixMilli(-1)},
	} {
		if _, err := NewInvite(alice.pub, c.expires, c.name); err == nil {
			t.Errorf("NewInvite(%q, %v) succeeded, want an error", c.name, c.expires)
		}
	}
}

// inviteText encodes raw invite bytes, for building invalid invites.
func inviteText(t testing.TB, hrp string, b []byte) string {
	t.Helper()
	s, err := bech32.Encode(hrp, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inviteBytes returns the bytes of a valid invite with the given name,
// to be broken by a test.
func inviteBytes(t testing.TB, name string) []byte {
	t.Helper()
	inv := vecInvite(t)
	inv.name = name
	_, b, err := bech32.Decode(inv.Text())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseInviteErrors(t *testing.T) {
	good := vecInvite(t).Text()
	with := func(f func(b []byte) []byte) string { return inviteText(t, InviteHRP, f(inviteBytes(t, "Alice"))) }
	flip := []byte(good)
	flip[len(flip)-1] ^= 'q' ^ 'p' // a different character of the charset
	if flip[len(flip)-1] == good[len(good)-1] {
		t.Fatal("flip did nothing")
	}
	mixed := strings.ToUpper(good[:20]) + good[20:]
	for _, c := range []struct {
		desc string
		in   string
		want error
	}{
		{"empty", "", ErrInviteMalformed},
		{"public key", inviteText(t, "dhtchat", make([]byte, 32)), ErrInvitePrefix},
		{"chat key", vecChatKeyText(t), ErrInvitePrefix},
		{"secret key", inviteText(t, "DHTCHAT-SECRET-KEY-", bytes.Repeat([]byte{7}, 32)), ErrInvitePrefix},
		{"other prefix", inviteText(t, "dhtchat-inv", inviteBytes(t, "")), ErrInvitePrefix},
		{"typo", string(flip), ErrInviteChecksum},
		{"mixed case", mixed, ErrInviteMixedCase},
		{"too long", good + strings.Repeat("q", MaxInviteText), ErrInviteTooLong},
		{"huge", strings.Repeat("q", 1<<20), ErrInviteTooLong},
		{"too long name", with(func(b []byte) []byte { b[73] = 65; return append(b[:74], bytes.Repeat([]byte{'x'}, 65)...) }), ErrInviteTooLong},
		{"name_len past the end", with(func(b []byte) []byte { b[73] = 6; return b }), ErrInviteMalformed},
		{"trailing byte", with(func(b []byte) []byte { return append(b, 'x') }), ErrInviteMalformed},
		{"truncated", with(func(b []byte) []byte { return b[:73] }), ErrInviteMalformed},
		{"only a version", with(func(b []byte) []byte { return b[:1] }), ErrInviteMalformed},
		{"zero expiry", with(func(b []byte) []byte { copy(b[65:73], make([]byte, 8)); return b }), ErrInviteMalformed},
		{"negative expiry", with(func(b []byte) []byte { b[65] = 0x80; return b }), ErrInviteMalformed},
		{"zero secret", with(func(b []byte) []byte { copy(b[33:65], make([]byte, 32)); return b }), ErrInviteMalformed},
		{"control character", inviteText(t, InviteHRP, inviteBytes(t, "a\x1bb")), ErrInviteMalformed},
		{"invalid UTF-8", inviteText(t, InviteHRP, inviteBytes(t, "a\xffb")), ErrInviteMalformed},
	} {
		inv, err := ParseInvite(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: ParseInvite = %v, want %v", c.desc, err, c.want)
		}
		if inv != (Invite{}) {
			t.Errorf("%s: ParseInvite returned an invite with its error", c.desc)
		}
		if err != nil && len(c.in) > 20 && strings.Contains(err.Error(), strings.TrimSpace(c.in)[15:]) {
			t.Errorf("%s: the error echoes the input: %v", c.desc, err)
		}
	}
	var uv *UnknownVersionError
	if _, err := ParseInvite(with(func(b []byte) []byte { b[0] = 2; return b })); !errors.As(err, &uv) || uv.Version != 2 {
		t.Errorf("version 2: ParseInvite = %v, want an UnknownVersionError", err)
	}
}

func vecChatKeyText(t testing.TB) string {
	return testKeys(t).ChatKey().String()
}

func TestAcceptanceRoundTrip(t *testing.T) {
	alice, bob := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	for _, name := range []string{"", "Bob", strings.Repeat("b", MaxInviteName)} {
		inv := newTestInvite(t, alice, "Alice")
		// Bob parses the text as it reached him.
		got, err := ParseInvite(inv.Text())
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := got.Rendezvous().SealAcceptance(Acceptance{Acceptor: bob.pub, Name: name}, pairKey(t, bob, alice))
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != AcceptanceSize {
			t.Errorf("sealed acceptance with a %d-byte name is %d bytes, want %d", len(name), len(sealed), AcceptanceSize)
		}
		a, err := inv.Rendezvous().OpenAcceptance(sealed, pairWithParty(t, alice))
		if err != nil {
			t.Fatal(err)
		}
		if a.Acceptor != bob.pub || a.Name != name {
			t.Errorf("OpenAcceptance = %x %q, want %x %q", a.Acceptor, a.Name, bob.pub, name)
		}
	}
}

func TestSealAcceptanceRejects(t *testing.T) {
	alice, bob := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	r := newTestInvite(t, alice, "").Rendezvous()
	p := pairKey(t, bob, alice)
	if _, err := r.SealAcceptance(Acceptance{Acceptor: alice.pub}, p); !errors.Is(err, ErrSameKey) {
		t.Errorf("SealAcceptance(inviter's own key) = %v, want ErrSameKey", err)
	}
	if _, err := r.SealAcceptance(Acceptance{Acceptor: bob.pub, Name: "\x07"}, p); err == nil {
		t.Errorf("SealAcceptance(unprintable name) succeeded")
	}
	if _, err := (Invite{}).Rendezvous().SealAcceptance(Acceptance{Acceptor: bob.pub}, p); err == nil {
		t.Errorf("SealAcceptance for a zero Invite succeeded")
	}
}

// sealAcceptancePlain seals an arbitrary plaintext as an acceptance of r,
// as an attacker who holds the invite can.
func sealAcceptancePlain(t testing.TB, r *RendezvousKeys, plain []byte) []byte {
	t.Helper()
	k := key32(r.seal)
	sealed, err := v2Seal(rand.Reader, &k, plain, r.ad())
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func acceptancePlain(acceptor [32]byte, confirm [32]byte, name string) []byte {
	plain := make([]byte, acceptancePlainSize)
	plain[0] = acceptanceType
	copy(plain[1:], acceptor[:])
	copy(plain[33:], confirm[:])
	plain[65] = byte(len(name))
	copy(plain[66:], name)
	return plain
}

// An eavesdropper on the DHT, without the invite, and a holder of the
// invite who is not Bob.
func TestAcceptanceAttacker(t *testing.T) {
	alice, bob, carol := newParty(t, aliceSecretHex), newParty(t, bobSecretHex), newParty(t, carolSecretHex)
	inv := newTestInvite(t, alice, "Alice")
	r := inv.Rendezvous()
	open := func(r *RendezvousKeys, sealed []byte) (Acceptance, error) {
		return r.OpenAcceptance(sealed, pairWithParty(t, alice))
	}
	sealed, err := r.SealAcceptance(Acceptance{Acceptor: bob.pub, Name: "Bob"}, pairKey(t, bob, alice))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the record shows neither key nor name", func(t *testing.T) {
		for what, b := range map[string][]byte{"alice's key": alice.pub[:], "bob's key": bob.pub[:], "bob's name": []byte("Bob"), "the secret": inv.secret[:]} {
			for _, in := range [][]byte{sealed, r.PublicKey()} {
				if bytes.Contains(in, b) {
					t.Errorf("the rendezvous record or its name contains %s", what)
				}
			}
		}
		// The name depends on the secret, not only on the inviter: another
		// invite of Alice's has another, and so does the same secret for
		// another inviter.
		carolInv := inv
		carolInv.inviter = carol.pub
		for _, o := range []Invite{newTestInvite(t, alice, "Alice"), carolInv} {
			if bytes.Equal(o.Rendezvous().PublicKey(), r.PublicKey()) || o.Rendezvous().seal == r.seal {
				t.Errorf("two invites share a rendezvous key")
			}
		}
	})

	t.Run("without the secret nobody reads or writes it", func(t *testing.T) {
		// Eve knows Alice's public key and makes an invite of her own for
		// it: its keys differ, so she can read no acceptance of Alice's
		// invite and write none that Alice takes.
		eve := newTestInvite(t, alice, "Alice")
		if _, err := open(eve.Rendezvous(), sealed); !errors.Is(err, ErrAcceptance) {
			t.Errorf("OpenAcceptance with another secret = %v, want ErrAcceptance", err)
		}
		forged, err := eve.Rendezvous().SealAcceptance(Acceptance{Acceptor: carol.pub}, pairKey(t, carol, alice))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := open(r, forged); !errors.Is(err, ErrAcceptance) {
			t.Errorf("OpenAcceptance(acceptance for another secret) = %v, want ErrAcceptance", err)
		}
	})

	t.Run("a replay into another invite fails", func(t *testing.T) {
		// Alice's next invite, and an invite with the same secret but
		// Carol as inviter (a swapped public key).
		next := newTestInvite(t, alice, "Alice")
		swapped := inv
		swapped.inviter = carol.pub
		if _, err := open(next.Rendezvous(), sealed); !errors.Is(err, ErrAcceptance) {
			t.Errorf("acceptance replayed into another invite: %v, want ErrAcceptance", err)
		}
		if _, err := swapped.Rendezvous().OpenAcceptance(sealed, pairWithParty(t, carol)); !errors.Is(err, ErrAcceptance) {
			t.Errorf("acceptance replayed under another inviter: %v, want ErrAcceptance", err)
		}
	})

	t.Run("the invite's holder cannot make Alice befriend a third key", func(t *testing.T) {
		// Eve has the invite and Carol's public key, but not Carol's
		// secret key: her confirm comes from her own pair key with Alice,
		// or a guess.
		eve := newParty(t, "a8abababababababababababababababababababababababababababababab6b")
		for _, p := range []PairKey{pairKey(t, eve, alice), {}} {
			s, err := r.SealAcceptance(Acceptance{Acceptor: carol.pub, Name: "Carol"}, p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := open(r, s); !errors.Is(err, ErrAcceptanceConfirm) {
				t.Errorf("acceptance naming Carol without her key = %v, want ErrAcceptanceConfirm", err)
			}
		}
	})

	t.Run("every changed byte is refused", func(t *testing.T) {
		for i := range sealed {
			b := bytes.Clone(sealed)
			b[i] ^= 0x01
			if _, err := open(r, b); !errors.Is(err, ErrAcceptance) {
				t.Fatalf("acceptance with byte %d flipped: %v, want ErrAcceptance", i, err)
			}
		}
		for _, n := range []int{0, AcceptanceSize - 1, AcceptanceSize + 1} {
			b := append(bytes.Clone(sealed), 0)[:n]
			if _, err := open(r, b); !errors.Is(err, ErrAcceptance) {
				t.Errorf("acceptance of %d bytes: %v, want ErrAcceptance", n, err)
			}
		}
	})

	t.Run("the invite's holder cannot break the format", func(t *testing.T) {
		confirm := r.confirm(pairKey(t, bob, alice))
		good := acceptancePlain(bob.pub, confirm, "Bob")
		var zero [32]byte
		for _, c := range []struct {
			desc  string
			plain []byte
			want  error
		}{
			{"non-zero padding", func() []byte { p := bytes.Clone(good); p[len(p)-1] = 1; return p }(), ErrAcceptance},
			{"name_len 65", func() []byte { p := bytes.Clone(good); p[65] = 65; return p }(), ErrAcceptance},
			{"unprintable name", acceptancePlain(bob.pub, confirm, "B\x1bb"), ErrAcceptance},
			{"the inviter's own key", acceptancePlain(alice.pub, confirm, ""), ErrAcceptance},
			{"short plaintext", good[:acceptancePlainSize-1], ErrAcceptance},
		} {
			if _, err := open(r, sealAcceptancePlain(t, r, c.plain)); !errors.Is(err, c.want) {
				t.Errorf("%s: OpenAcceptance = %v, want %v", c.desc, err, c.want)
			}
		}
		var uv *UnknownVersionError
		bad := bytes.Clone(good)
		bad[0] = 0x93
		if _, err := open(r, sealAcceptancePlain(t, r, bad)); !errors.As(err, &uv) {
			t.Errorf("type 0x93: OpenAcceptance = %v, want an UnknownVersionError", err)
		}
		// A low-order "public key" fails section 2's validation.
		if _, err := open(r, sealAcceptancePlain(t, r, acceptancePlain(zero, confirm, ""))); err == nil {
			t.Errorf("acceptance naming the all-zero key was taken")
		}
	})
}

func FuzzParseInvite(f *testing.F) {
	inv := vecInvite(f)
	f.Add(inv.Text())
	f.Add(strings.ToUpper(inv.Text()))
	f.Add(" " + inv.Text() + "\n")
	f.Add(inviteText(f, InviteHRP, inviteBytes(f, "")))
	f.Add(inviteText(f, InviteHRP, inviteBytes(f, strings.Repeat("x", MaxInviteName))))
	f.Add(inviteText(f, InviteHRP, make([]byte, 74)))
	f.Add(inviteText(f, "dhtchat", make([]byte, 32)))
	f.Add("dhtchat-invite1")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseInvite(s)
		if err != nil {
			if inv != (Invite{}) {
				t.Fatalf("ParseInvite(%q) returned an invite with error %v", s, err)
			}
			return
		}
		if got := inv.Text(); got != strings.ToLower(strings.TrimSpace(s)) {
			t.Fatalf("ParseInvite(%q).Text() = %q, not the input", s, got)
		}
		if inv2, err := ParseInvite(inv.Text()); err != nil || !inv2.Equal(inv) {
			t.Fatalf("ParseInvite(Text()) = %v, %v, want the same invite", inv2, err)
		}
		if _, err := NewInvite(inv.Inviter(), inv.Expires(), inv.Name()); err != nil {
			t.Fatalf("ParseInvite accepted an invite NewInvite refuses: %v", err)
		}
	})
}

// FuzzOpenAcceptance reaches OpenAcceptance's parser with arbitrary
// plaintexts sealed under the real keys (as a holder of the invite can),
// and checks that whatever opens is the one canonical encoding of what it
// returns.
func FuzzOpenAcceptance(f *testing.F) {
	alice, bob := newParty(f, aliceSecretHex), newParty(f, bobSecretHex)
	r := vecInvite(f).Rendezvous()
	confirm := r.confirm(pairKey(f, bob, alice))
	f.Add(acceptancePlain(bob.pub, confirm, "Bob"))
	f.Add(acceptancePlain(bob.pub, confirm, ""))
	f.Add(acceptancePlain(bob.pub, confirm, strings.Repeat("b", MaxInviteName)))
	f.Add(acceptancePlain(alice.pub, confirm, ""))
	f.Add(closedPlain(closedUsed))
	f.Add(closedPlain(closedCancelled))
	f.Add([]byte{})
	pairWith := pairWithParty(f, alice)
	f.Fuzz(func(t *testing.T, plain []byte) {
		sealed := sealAcceptancePlain(t, r, plain)
		if rec, err := r.OpenRecord(sealed); err == nil && rec.Closed != nil {
			if !bytes.Equal(plain, closedPlain(plain[1])) {
				t.Fatalf("OpenRecord accepted a non-canonical closing record %x", plain)
			}
		}
		a, err := r.OpenAcceptance(sealed, pairWith)
		if err != nil {
			if a != (Acceptance{}) {
				t.Fatalf("OpenAcceptance returned an acceptance with error %v", err)
			}
			return
		}
		p, err := pairWith(a.Acceptor)
		if err != nil {
			t.Fatal(err)
		}
		if want := acceptancePlain(a.Acceptor, r.confirm(p), a.Name); !bytes.Equal(plain, want) {
			t.Fatalf("OpenAcceptance accepted a non-canonical plaintext %x", plain)
		}
	})
}

func closedPlain(reason byte) []byte {
	plain := make([]byte, acceptancePlainSize)
	plain[0], plain[1] = closedType, reason
	return plain
}

// The inviter closes an invite; a second acceptor's client reads why, and
// nobody without the invite can close it.
func TestRendezvousClosed(t *testing.T) {
	alice := newParty(t, aliceSecretHex)
	r := newTestInvite(t, alice, "").Rendezvous()
	used, err := r.SealUsed()
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := r.SealCancelled()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sealed []byte
		want   error
	}{{used, ErrInviteUsed}, {cancelled, ErrInviteCancelled}} {
		if len(c.sealed) != AcceptanceSize {
			t.Errorf("closing record is %d bytes, want %d like an acceptance", len(c.sealed), AcceptanceSize)
		}
		rec, err := r.OpenRecord(c.sealed)
		if err != nil || rec.Closed != c.want || rec.Acceptance != (Acceptance{}) {
			t.Errorf("OpenRecord(closing record) = %+v, %v, want Closed %v", rec, err, c.want)
		}
		if _, err := r.OpenAcceptance(c.sealed, pairWithParty(t, alice)); err != c.want {
			t.Errorf("OpenAcceptance(closing record) = %v, want %v", err, c.want)
		}
		if r.Confirms(rec, PairKey{}) {
			t.Errorf("Confirms(closing record) = true")
		}
	}
	// Someone with another invite of Alice's cannot close this one.
	other, err := newTestInvite(t, alice, "").Rendezvous().SealUsed()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.OpenRecord(other); !errors.Is(err, ErrAcceptance) {
		t.Errorf("OpenRecord(another invite's closing record) = %v, want ErrAcceptance", err)
	}
	bad := closedPlain(closedUsed)
	bad[100] = 1
	for _, plain := range [][]byte{closedPlain(0), closedPlain(3), bad} {
		if _, err := r.OpenRecord(sealAcceptancePlain(t, r, plain)); !errors.Is(err, ErrAcceptance) {
			t.Errorf("OpenRecord(closing record %x…) = %v, want ErrAcceptance", plain[:2], err)
		}
	}
}

// Bob, about to accept, finds an acceptance naming his key at the
// rendezvous: his own from an earlier run confirms with his pair key; one
// planted by another holder of the invite does not.
func TestAcceptorChecksOwnAcceptance(t *testing.T) {
	alice, bob, eve := newParty(t, aliceSecretHex), newParty(t, bobSecretHex), newParty(t, carolSecretHex)
	r := newTestInvite(t, alice, "").Rendezvous()
	bobPair := pairKey(t, bob, alice)
	for _, c := range []struct {
		desc string
		pair PairKey
		want bool
	}{{"his own", bobPair, true}, {"planted by Eve", pairKey(t, eve, alice), false}} {
		sealed, err := r.SealAcceptance(Acceptance{Acceptor: bob.pub}, c.pair)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.OpenRecord(sealed)
		if err != nil || rec.Closed != nil || rec.Acceptance.Acceptor != bob.pub {
			t.Fatalf("%s: OpenRecord = %+v, %v", c.desc, rec, err)
		}
		if got := r.Confirms(rec, bobPair); got != c.want {
			t.Errorf("%s: Confirms = %v, want %v", c.desc, got, c.want)
		}
	}
}

// The callback's error reaches the caller unchanged.
func TestOpenAcceptancePairError(t *testing.T) {
	alice, bob := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	r := newTestInvite(t, alice, "").Rendezvous()
	sealed, err := r.SealAcceptance(Acceptance{Acceptor: bob.pub}, pairKey(t, bob, alice))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := r.OpenAcceptance(sealed, func([32]byte) (PairKey, error) { return PairKey{}, boom }); !errors.Is(err, boom) {
		t.Errorf("OpenAcceptance = %v, want the callback's error", err)
	}
}
