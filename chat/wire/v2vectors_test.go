package wire

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// The vectors of docs/PROTOCOL.md §16: the chat of §9 (Alice from-lo, Bob
// from-hi, chat_id 00…0f), each party drawing from its own detRand stream
// in the order of its operations.
const (
	v2VecAliceSeed = "dhtchat/v2 vectors alice"
	v2VecBobSeed   = "dhtchat/v2 vectors bob"
	v2VecSentAtMs  = 1700000000000
	v2VecBodyA0    = "Hello, Bob! ✓"
	v2VecBodyB0    = "Hi Alice"
	v2VecBodyA1    = "After the first step"
)

func computeV2Vectors(t *testing.T) map[string]string {
	x := hex.EncodeToString
	sum := func(b []byte) string { s := sha256.Sum256(b); return x(s[:]) }
	a, b := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	p := pairKey(t, a, b)
	v := map[string]string{}
	rk0 := rootKey0(p, testChatID)
	v["v2_rk_0"] = x(rk0[:])
	for d := range Direction(2) {
		ck := bootChain(&rk0, d)
		v[fmt.Sprintf("v2_boot_chain_%d", d)] = x(ck[:])
		hk := headerKey(&rk0, d, 0)
		v[fmt.Sprintf("v2_hk_%d_0", d)] = x(hk[:])
		seed := bootSeed(&rk0, d, 0)
		v[fmt.Sprintf("v2_boot_seed_%d_0", d)] = x(seed[:])
		pub := edPublic(&seed)
		v[fmt.Sprintf("v2_boot_public_%d_0", d)] = x(pub[:])
		seed15 := bootSeed(&rk0, d, 15)
		pub15 := edPublic(&seed15)
		v[fmt.Sprintf("v2_boot_public_%d_15", d)] = x(pub15[:])
	}
	hk01 := headerKey(&rk0, FromLo, 1)
	v["v2_hk_0_1"] = x(hk01[:])
	ck := bootChain(&rk0, FromLo)
	mk0, ck1 := chainStep(&ck)
	v["v2_chain_0_mk_0"], v["v2_chain_0_ck_1"] = x(mk0[:]), x(ck1[:])

	ra, rb := newDetRand(v2VecAliceSeed), newDetRand(v2VecBobSeed)
	alice, err := NewRatchetState(ra, p, testChatID, FromLo)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := NewRatchetState(rb, pairKey(t, b, a), testChatID, FromHi)
	if err != nil {
		t.Fatal(err)
	}
	bx, _ := ecdh.X25519().NewPrivateKey(bob.myX[:])
	bdk, _ := mlkem.NewDecapsulationKey768(bob.myDK[:])
	v["v2_bob_x_0"], v["v2_bob_X_0"] = x(bob.myX[:]), x(bx.PublicKey().Bytes())
	v["v2_bob_dk_0"], v["v2_bob_ek_0_sha256"] = x(bob.myDK[:]), sum(bdk.EncapsulationKey().Bytes())
	v["v2_bob_name_seed_2_0"] = x(bob.nextNames[0][:])

	sentAt := time.UnixMilli(v2VecSentAtMs)
	alice, fa0, err := alice.Seal(ra, sentAt, v2VecBodyA0)
	if err != nil {
		t.Fatal(err)
	}
	v["v2_msg_a0_epoch"], v["v2_msg_a0_n"], v["v2_msg_a0_body"] = fmt.Sprint(fa0.Epoch), fmt.Sprint(fa0.N), fmt.Sprintf("%q", v2VecBodyA0)
	v["v2_msg_a0_sealed"] = x(fa0.Sealed)
	v["v2_msg_a0_ad"] = x(v2MsgAD(testChatID, FromLo, 0, 1))
	pa0, err := alice.EncodeSlot(ra, V2Header{Slot: 0, SlotsUsed: 1, Seq: 1, MaxN: 1}, []Frame{fa0})
	if err != nil {
		t.Fatal(err)
	}
	v["v2_slot_a0_head"], v["v2_slot_a0_sha256"] = x(pa0[:64]), sum(pa0)

	bob, fb0, err := bob.Seal(rb, sentAt, v2VecBodyB0)
	if err != nil {
		t.Fatal(err)
	}
	v["v2_msg_b0_sealed"] = x(fb0.Sealed)
	pb0, err := bob.EncodeSlot(rb, V2Header{Slot: 0, SlotsUsed: 1, Seq: 1, MaxN: 1}, []Frame{fb0})
	if err != nil {
		t.Fatal(err)
	}
	v["v2_slot_b0_sha256"] = sum(pb0)

	// Alice reads Bob's bootstrap slot 0 and makes step 1.
	alice, sb, err := alice.DecodeSlot(ra, 0, 0, 1, pb0)
	if err != nil || len(sb.Messages) != 1 || sb.Messages[0].Body != v2VecBodyB0 {
		t.Fatalf("alice reads bob's bootstrap: %v %+v", err, sb)
	}
	ax, _ := ecdh.X25519().NewPrivateKey(alice.myX[:])
	v["v2_step_1_x"], v["v2_step_1_X"] = x(alice.myX[:]), x(ax.PublicKey().Bytes())
	v["v2_step_1_ct_sha256"] = sum(alice.sendCT[:])
	v["v2_step_1_ct"] = x(alice.sendCT[:])
	v["v2_rk_1"], v["v2_ck_1"] = x(alice.rk[:]), x(alice.sendCK[:])
	if alice.sendHK != hk01 {
		t.Fatal("alice's epoch-1 header key is not HK[0][1]")
	}
	dh, err := x25519(alice.myX[:], bx.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	v["v2_step_1_dh"], v["v2_step_1_ss"] = x(dh), x(decaps(t, bob.myDK[:], alice.sendCT[:]))
	v["v2_hk_1_2"] = x(alice.nextHK[:])
	v["v2_alice_dk_1"] = x(alice.myDK[:])
	v["v2_step_1_m"] = x(stepM(t))

	alice, fa1, err := alice.Seal(ra, sentAt, v2VecBodyA1)
	if err != nil {
		t.Fatal(err)
	}
	v["v2_msg_a1_epoch"], v["v2_msg_a1_n"] = fmt.Sprint(fa1.Epoch), fmt.Sprint(fa1.N)
	v["v2_msg_a1_sealed_sha256"] = sum(fa1.Sealed)
	pa1, err := alice.EncodeSlot(ra, V2Header{Slot: 0, SlotsUsed: 1, Seq: 2, Ack: 1, MaxN: 2}, []Frame{fa0, fa1})
	if err != nil {
		t.Fatal(err)
	}
	v["v2_slot_a1_sha256"] = sum(pa1)
	v["v2_state_alice_sha256"], v["v2_state_alice_len"] = sum(alice.Marshal()), fmt.Sprint(len(alice.Marshal()))

	// Bob reads it: step 1 received, step 2 made.
	bob, sa, err := bob.DecodeSlot(rb, 1, 0, 2, pa1)
	if err != nil || len(sa.Messages) != 2 {
		t.Fatalf("bob reads alice's epoch 1: %v %+v", err, sa)
	}
	if bob.rk == alice.rk || bob.sendEpoch != 2 {
		t.Fatal("bob did not step")
	}
	v["v2_rk_2"] = x(bob.rk[:])
	v["v2_state_bob_sha256"] = sum(bob.Marshal())
	return v
}

func TestV2ProtocolVectors(t *testing.T) {
	checkVectors(t, computeV2Vectors(t), func(k string) bool { return strings.HasPrefix(k, "v2_") })
}

// The vectors check one another as another implementation would use
// them: the first message opens with the first key of from-lo's
// bootstrap chain and the AD given, and the step's X25519 secret is the
// X25519 of the keys given.
func TestV2ProtocolVectorsOpen(t *testing.T) {
	v := readVectors(t, protocolDoc)
	mk := key32(mustHex(t, v["v2_chain_0_mk_0"]))
	plain, ok := v2OpenAEAD(&mk, mustHex(t, v["v2_msg_a0_sealed"]), mustHex(t, v["v2_msg_a0_ad"]))
	if !ok {
		t.Fatal("v2_msg_a0_sealed does not open with v2_chain_0_mk_0 and v2_msg_a0_ad")
	}
	m, err := parseV2Plaintext(1, plain)
	if err != nil || fmt.Sprintf("%q", m.Body) != v["v2_msg_a0_body"] || m.SentAt.UnixMilli() != v2VecSentAtMs {
		t.Errorf("v2_msg_a0 opens to %+v, %v", m, err)
	}
	dh, err := x25519(mustHex(t, v["v2_step_1_x"]), mustHex(t, v["v2_bob_X_0"]))
	if err != nil || hex.EncodeToString(dh) != v["v2_step_1_dh"] {
		t.Errorf("X25519(v2_step_1_x, v2_bob_X_0) = %x, %v, want v2_step_1_dh", dh, err)
	}
	ck := key32(mustHex(t, v["v2_boot_chain_0"]))
	if got, _ := chainStep(&ck); got != mk {
		t.Error("v2_chain_0_mk_0 is not the first key of v2_boot_chain_0")
	}
}

// The formulas of docs/PROTOCOL.md §11 and §13, computed here straight
// from their text with crypto/hkdf, XChaCha20-Poly1305 and Ed25519 (not
// through the package's functions), give the document's vectors: the
// text says what the code does.
func TestV2DocFormulas(t *testing.T) {
	v := readVectors(t, protocolDoc)
	h := func(ikm, salt []byte, info string, n int) []byte {
		out, err := hkdf.Key(sha256.New, ikm, salt, info, n)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	x := hex.EncodeToString
	chatID := mustHex(t, v["chat_id"])
	rk0 := h(mustHex(t, v["pair_key"]), chatID, "dhtchat/v2 root", 32)
	check := func(name string, got []byte) {
		t.Helper()
		if x(got) != v[name] {
			t.Errorf("%s from the formula = %x, the document says %s", name, got, v[name])
		}
	}
	check("v2_rk_0", rk0)
	check("v2_boot_chain_0", h(rk0, nil, "dhtchat/v2 boot chain\x00", 32))
	check("v2_boot_chain_1", h(rk0, nil, "dhtchat/v2 boot chain\x01", 32))
	check("v2_boot_seed_0_0", h(rk0, nil, "dhtchat/v2 boot name\x00\x00", 32))
	check("v2_boot_seed_1_0", h(rk0, nil, "dhtchat/v2 boot name\x01\x00", 32))
	pub15 := ed25519.NewKeyFromSeed(h(rk0, nil, "dhtchat/v2 boot name\x00\x0f", 32)).Public().(ed25519.PublicKey)
	check("v2_boot_public_0_15", pub15)
	check("v2_hk_0_0", h(rk0, nil, "dhtchat/v2 header\x00\x00\x00\x00\x00", 32))
	check("v2_hk_1_0", h(rk0, nil, "dhtchat/v2 header\x01\x00\x00\x00\x00", 32))
	check("v2_hk_0_1", h(rk0, nil, "dhtchat/v2 header\x00\x00\x00\x00\x01", 32))
	chain := h(mustHex(t, v["v2_boot_chain_0"]), nil, "dhtchat/v2 chain", 64)
	check("v2_chain_0_mk_0", chain[:32])
	check("v2_chain_0_ck_1", chain[32:])
	hk12 := h(mustHex(t, v["v2_rk_1"]), nil, "dhtchat/v2 header\x01\x00\x00\x00\x02", 32)
	check("v2_hk_1_2", hk12)
	// The message AD and AEAD.
	ad := append([]byte("dhtchat/v2 msg"), chatID...)
	ad = append(ad, 0, 0, 0, 0, 0)
	ad = binary.BigEndian.AppendUint64(ad, 1)
	check("v2_msg_a0_ad", ad)
	aead, err := chacha20poly1305.NewX(chain[:32])
	if err != nil {
		t.Fatal(err)
	}
	sealed := mustHex(t, v["v2_msg_a0_sealed"])
	plain, err := aead.Open(nil, sealed[:24], sealed[24:], ad)
	if err != nil {
		t.Fatalf("v2_msg_a0_sealed does not open by the formula: %v", err)
	}
	if len(plain) != 64 || binary.BigEndian.Uint64(plain) != v2VecSentAtMs || int(binary.BigEndian.Uint16(plain[8:])) != len(v2VecBodyA0) {
		t.Errorf("v2_msg_a0's plaintext is not the layout of §13: %x", plain)
	}
	// Step 1: the encapsulation to Bob's key with the m given, and the
	// root step.
	bdk, err := mlkem.NewDecapsulationKey768(mustHex(t, v["v2_bob_dk_0"]))
	if err != nil {
		t.Fatal(err)
	}
	ss, ct, err := mlkemtest.Encapsulate768(bdk.EncapsulationKey(), mustHex(t, v["v2_step_1_m"]))
	if err != nil {
		t.Fatal(err)
	}
	check("v2_step_1_ss", ss)
	check("v2_step_1_ct", ct)
	info := "dhtchat/v2 step\x00\x00\x00\x01" + string(mustHex(t, v["v2_step_1_X"])) + string(ct)
	step := h(append(mustHex(t, v["v2_step_1_dh"]), ss...), rk0, info, 64)
	check("v2_rk_1", step[:32])
	check("v2_ck_1", step[32:])
	// Bob's x_0 is the first 32 bytes of his stream: SHA-256(seed || u64(0)).
	first := sha256.Sum256(append([]byte(v2VecBobSeed), 0, 0, 0, 0, 0, 0, 0, 0))
	check("v2_bob_x_0", first[:])
}

// stepM is the m of Alice's step 1 in the vectors: her stream as she
// reads it up to the step (two 24-byte nonces, then x_1), then 32 bytes.
func stepM(t *testing.T) []byte {
	r := newDetRand(v2VecAliceSeed)
	skip := make([]byte, 24+24+32)
	r.Read(skip)
	m := make([]byte, 32)
	r.Read(m)
	return m
}
