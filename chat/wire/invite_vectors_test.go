package wire

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"testing"
	"time"
)

// The inputs of the vectors of docs/PROTOCOL.md §22: Alice invites Bob.
var (
	vecInviteExp       = time.UnixMilli(1700604800000) // 7 days after the messages' sent_at
	vecInviteName      = "Alice"
	vecAcceptanceName  = "Bob"
	vecInviteSecretHex = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
)

// vecInvite is Alice's invite in the vectors.
func vecInvite(t testing.TB) Invite {
	t.Helper()
	alice := newParty(t, aliceSecretHex)
	inv, err := newInvite(alice.pub, [32]byte(mustHex(t, vecInviteSecretHex)), vecInviteExp, vecInviteName)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// pairVectors computes the vectors of §22 for the pair key p of Alice and
// Bob.
func pairVectors(t *testing.T, p PairKey) map[string]string {
	x := hex.EncodeToString
	id := PairChatID(p)
	k := PairChatKeys(p)
	inv := vecInvite(t)
	r := inv.Rendezvous()
	bob := newParty(t, bobSecretHex)
	sealed, err := r.sealAcceptance(bytes.NewReader(seqNonce(0xe0)[:]), Acceptance{Acceptor: bob.pub, Name: vecAcceptanceName}, p)
	if err != nil {
		t.Fatal(err)
	}
	confirm := r.confirm(p)
	closed, err := r.sealClosed(bytes.NewReader(seqNonce(0x00)[:]), closedUsed)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"pair_chat_id":            x(id[:]),
		"pair_chat_key":           ChatKeyFor(p, id).String(),
		"pair_chat_msg_key_0":     x(k.msg[0][:]),
		"pair_chat_slot_name_0_0": ipnsName(k.SlotPublicKey(FromLo, 0)),
		"invite_secret":           vecInviteSecretHex,
		"invite_expires_ms":       strconv.FormatInt(vecInviteExp.UnixMilli(), 10),
		"invite_name":             strconv.Quote(vecInviteName),
		"invite":                  inv.Text(),
		"rendezvous_seed":         x(r.signing.Seed()),
		"rendezvous_public":       x(r.PublicKey()),
		"rendezvous_name":         ipnsName(r.PublicKey()),
		"rendezvous_seal_key":     x(r.seal[:]),
		"acceptance_name":         strconv.Quote(vecAcceptanceName),
		"acceptance_confirm":      x(confirm[:]),
		"acceptance_nonce":        x(seqNonce(0xe0)[:]),
		"acceptance_sealed":       x(sealed),
		"closed_used_nonce":       x(seqNonce(0x00)[:]),
		"closed_used_sealed":      x(closed),
	}
}

// The invite vectors parse and open as the inviter does: the invite text
// from the document, Alice's pair key with the acceptor it names.
func TestInviteVectorsOpen(t *testing.T) {
	v := readVectors(t, protocolDoc)
	alice, bob := newParty(t, v["alice_secret"]), newParty(t, v["bob_secret"])
	inv, err := ParseInvite(v["invite"])
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := strconv.Unquote(v["invite_name"]); inv.Inviter() != alice.pub || inv.Name() != name ||
		strconv.FormatInt(inv.Expires().UnixMilli(), 10) != v["invite_expires_ms"] || hex.EncodeToString(inv.secret[:]) != v["invite_secret"] {
		t.Errorf("ParseInvite(invite) = %x %q %v, want the vector's", inv.Inviter(), inv.Name(), inv.Expires())
	}
	a, err := inv.Rendezvous().OpenAcceptance(mustHex(t, v["acceptance_sealed"]), pairWithParty(t, alice))
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := strconv.Unquote(v["acceptance_name"]); a.Acceptor != bob.pub || a.Name != name {
		t.Errorf("OpenAcceptance(acceptance_sealed) = %x %q, want Bob's key and %s", a.Acceptor, a.Name, v["acceptance_name"])
	}
	if rec, err := inv.Rendezvous().OpenRecord(mustHex(t, v["closed_used_sealed"])); err != nil || rec.Closed != ErrInviteUsed {
		t.Errorf("OpenRecord(closed_used_sealed) = %+v, %v, want a used invite", rec, err)
	}
	// Bob finds the pair conversation of the document from his side.
	if id := PairChatID(pairKey(t, bob, alice)); hex.EncodeToString(id[:]) != v["pair_chat_id"] {
		t.Errorf("PairChatID as Bob = %x, want %s", id, v["pair_chat_id"])
	}
}
