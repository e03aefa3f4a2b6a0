package wire

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// The vectors of docs/PROTOCOL.md §26: alice makes a group with bob and
// carol, drawing from detRand("dhtchat/g1 vectors alice").
const (
	g1VecAliceSeed = "dhtchat/g1 vectors alice"
	g1VecBody      = "Hello, group ✓"
)

func computeGroupVectors(t *testing.T) map[string]string {
	x := hex.EncodeToString
	sum := func(b []byte) string { s := sha256.Sum256(b); return x(s[:]) }
	alice, bob, carol := memberID("alice"), memberID("bob"), memberID("carol")
	v := map[string]string{"g1_alice": x(alice[:]), "g1_bob": x(bob[:]), "g1_carol": x(carol[:])}
	// The control session of §9's two parties.
	pa, pb := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	cid := GroupPairChatID(pairKey(t, pa, pb))
	if cid != GroupPairChatID(pairKey(t, pb, pa)) {
		t.Fatal("the two sides derive different control sessions")
	}
	v["g1_control_chat_id"] = x(cid[:])
	r := newDetRand(g1VecAliceSeed)
	var nonce [16]byte
	r.Read(nonce[:])
	create, err := NewCreateOp(alice, nonce, "friends", []MemberID{carol, bob})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := create.Encode()
	h := create.Hash()
	v["g1_create_nonce"], v["g1_group_id"] = x(nonce[:]), x(create.Group[:])
	v["g1_create_op"], v["g1_create_hash"] = x(enc), x(h[:])
	s0, err := NewGroupState().Apply(create)
	if err != nil {
		t.Fatal(err)
	}

	key, d, err := NewSenderKey(r, s0, alice)
	if err != nil {
		t.Fatal(err)
	}
	v["g1_alice_ck_0"], v["g1_alice_hk_0"] = x(d.ck[:]), x(d.hk[:])
	v["g1_alice_name_seed_0"], v["g1_alice_name_0"] = x(key.seeds[0][:]), x(d.Names[0][:])
	v["g1_alice_name_15"] = x(d.Names[15][:])
	body := d.Body()
	v["g1_skd_body_prefix"] = fmt.Sprintf("%q", body[:len(prefixSKD)])
	v["g1_skd_body_len"], v["g1_skd_body_sha256"] = fmt.Sprint(len(body)), sum([]byte(body))
	mk, ck1 := groupChainStep(&d.ck)
	v["g1_chain_mk_1"], v["g1_chain_ck_2"] = x(mk[:]), x(ck1[:])

	key, f, err := key.SealText(r, time.UnixMilli(v2VecSentAtMs), g1VecBody)
	if err != nil {
		t.Fatal(err)
	}
	v["g1_msg_n"], v["g1_msg_body"] = fmt.Sprint(f.N), fmt.Sprintf("%q", g1VecBody)
	v["g1_msg_ad"], v["g1_msg_sealed"] = x(groupMsgAD(create.Group, alice, 0, 1)), x(f.Sealed)
	acks := []GroupAck{{Member: bob, N: 0}}
	p, err := key.EncodeSlot(r, GroupSlotHeader{Slot: 0, SlotsUsed: 1, Seq: 1, MaxN: 1, Acks: acks}, []GroupFrame{f})
	if err != nil {
		t.Fatal(err)
	}
	v["g1_slot_ad"] = x(groupSlotAD(create.Group, alice, 0, 0, 1))
	v["g1_slot_head"], v["g1_slot_sha256"] = x(p[:64]), sum(p)

	// alice makes bob an admin; then, concurrently, alice removes bob and
	// bob removes carol.
	grant, err := s0.NewOp(OpAdmin, alice, bob, "")
	if err != nil {
		t.Fatal(err)
	}
	genc, _ := grant.Encode()
	gh := grant.Hash()
	v["g1_admin_op"], v["g1_admin_hash"] = x(genc), x(gh[:])
	s1, _ := s0.Apply(grant)
	welcome, err := WelcomeBodies(create.Group, []GroupOp{create, grant})
	if err != nil || len(welcome) != 1 {
		t.Fatal(err)
	}
	part, _ := ParseWelcomePart(welcome[0])
	v["g1_welcome_digest"], v["g1_welcome_body_sha256"] = x(part.Digest[:]), sum([]byte(welcome[0]))
	rmBob, err1 := s1.NewOp(OpRemove, alice, bob, "")
	rmCarol, err2 := s1.NewOp(OpRemove, bob, carol, "")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	hb, hc := rmBob.Hash(), rmCarol.Hash()
	v["g1_remove_bob_hash"], v["g1_remove_carol_hash"] = x(hb[:]), x(hc[:])
	final, skipped := Converge([]GroupOp{rmCarol, rmBob, grant, create})
	head, epoch := final.Head()
	var names []string
	for _, m := range final.Members() {
		names = append(names, x(m[:4]))
	}
	v["g1_converged_members"] = strings.Join(names, ",")
	v["g1_converged_head"], v["g1_converged_epoch"] = x(head[:]), fmt.Sprint(epoch)
	v["g1_converged_skipped"] = fmt.Sprint(len(skipped))
	return v
}

func TestGroupProtocolVectors(t *testing.T) {
	checkVectors(t, computeGroupVectors(t), func(k string) bool { return strings.HasPrefix(k, "g1_") })
}

// The formulas of docs/PROTOCOL.md §24–§25, computed straight from their
// text with crypto/sha256, crypto/hkdf, Ed25519 and XChaCha20-Poly1305
// (not through the package's functions), give the document's vectors.
func TestGroupDocFormulas(t *testing.T) {
	v := readVectors(t, protocolDoc)
	x := hex.EncodeToString
	check := func(name string, got []byte) {
		t.Helper()
		if x(got) != v[name] {
			t.Errorf("%s from the formula = %x, the document says %s", name, got, v[name])
		}
	}
	cid, err := hkdf.Key(sha256.New, mustHex(t, v["pair_key"]), nil, "dhtchat/g1 pair", 32)
	if err != nil {
		t.Fatal(err)
	}
	check("g1_control_chat_id", cid[:16])
	alice := mustHex(t, v["g1_alice"])
	gid := sha256.Sum256(append(append([]byte("dhtchat/g1 group id"), alice...), mustHex(t, v["g1_create_nonce"])...))
	check("g1_group_id", gid[:16])
	oh := sha256.Sum256(append([]byte("dhtchat/g1 op"), mustHex(t, v["g1_create_op"])...))
	check("g1_create_hash", oh[:])
	ah := sha256.Sum256(append([]byte("dhtchat/g1 op"), mustHex(t, v["g1_admin_op"])...))
	check("g1_admin_hash", ah[:])
	check("g1_alice_name_0", ed25519.NewKeyFromSeed(mustHex(t, v["g1_alice_name_seed_0"])).Public().(ed25519.PublicKey))
	chain, err := hkdf.Key(sha256.New, mustHex(t, v["g1_alice_ck_0"]), nil, "dhtchat/g1 chain", 64)
	if err != nil {
		t.Fatal(err)
	}
	check("g1_chain_mk_1", chain[:32])
	check("g1_chain_ck_2", chain[32:])
	ad := append(append([]byte("dhtchat/g1 msg"), gid[:16]...), alice...)
	ad = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(ad, 0), 1)
	check("g1_msg_ad", ad)
	sealed := mustHex(t, v["g1_msg_sealed"])
	aead, _ := chacha20poly1305.NewX(chain[:32])
	plain, err := aead.Open(nil, sealed[:24], sealed[24:], ad)
	if err != nil {
		t.Fatalf("g1_msg_sealed does not open by the formula: %v", err)
	}
	n := int(binary.BigEndian.Uint16(plain[9:]))
	if len(plain) != 64 || binary.BigEndian.Uint64(plain) != v2VecSentAtMs || plain[8] != GroupText || fmt.Sprintf("%q", plain[11:11+n]) != v["g1_msg_body"] {
		t.Errorf("g1_msg_sealed's plaintext is not the layout of §25.1: %x", plain)
	}
	sad := append(append([]byte("dhtchat/g1 slot"), gid[:16]...), alice...)
	sad = binary.BigEndian.AppendUint64(append(binary.BigEndian.AppendUint32(sad, 0), 0), 1)
	check("g1_slot_ad", sad)
	// The welcome's digest: of u32(2) || u16(len) || create || u16(len) || admin.
	wlog := binary.BigEndian.AppendUint32(nil, 2)
	for _, k := range []string{"g1_create_op", "g1_admin_op"} {
		op := mustHex(t, v[k])
		wlog = append(binary.BigEndian.AppendUint16(wlog, uint16(len(op))), op...)
	}
	wd := sha256.Sum256(append([]byte("dhtchat/g1 welcome"), wlog...))
	check("g1_welcome_digest", wd[:])
	// The distribution body is the prefix and 677 bytes in base64.
	if want := len("\x00dhtchat-gk1 ") + base64.RawStdEncoding.EncodedLen(skdSize); v["g1_skd_body_len"] != fmt.Sprint(want) {
		t.Errorf("g1_skd_body_len = %s, want %d", v["g1_skd_body_len"], want)
	}
	// The tie-break: whichever removal has the lower hash applies first
	// and the other is refused (bob removed cannot remove; carol removed
	// by bob, then alice removes bob).
	bobFirst := v["g1_remove_bob_hash"] < v["g1_remove_carol_hash"]
	if want := map[bool]string{true: "1", false: "0"}[bobFirst]; v["g1_converged_skipped"] != want {
		t.Errorf("g1_converged_skipped = %s, want %s by the order of the two hashes", v["g1_converged_skipped"], want)
	}
}
