package wire

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math/big"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test vectors of docs/PROTOCOL.md are read from the document itself,
// so that the document and the code cannot drift apart.
const protocolDoc = "../../docs/PROTOCOL.md"

// readVectors returns the `key: value` lines of the document's ```vector
// blocks.
func readVectors(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vs := map[string]string{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "```vector":
			in = true
		case strings.HasPrefix(text, "```"):
			in = false
		case !in || text == "" || strings.HasPrefix(text, "#"):
		default:
			k, v, ok := strings.Cut(text, ": ")
			if !ok {
				t.Fatalf("%s:%d: not a `key: value` line: %q", path, line, text)
			}
			if _, dup := vs[k]; dup {
				t.Fatalf("%s:%d: %s given twice", path, line, k)
			}
			vs[k] = strings.TrimSpace(v)
		}
	}
	return vs
}

// The inputs of the vectors.
var (
	vecMessage = Message{N: 1, SentAt: time.UnixMilli(1700000000000), Body: "Hello, Bob! ✓"}
	vecHeader  = SlotHeader{Dir: FromLo, Slot: 0, SlotsUsed: 1, Seq: 1, Ack: 0, MaxN: 1}
)

func seqNonce(start byte) *[nonceSize]byte {
	var n [nonceSize]byte
	for i := range n {
		n[i] = start + byte(i)
	}
	return &n
}

// ipnsName is the IPNS name (libp2p peer ID, base58btc) of an Ed25519 key:
// the identity multihash of the key's libp2p protobuf encoding. The dht
// package owns names; this is here only to print them in the vectors.
func ipnsName(pub []byte) string {
	pb := append([]byte{0x08, 0x01, 0x12, 0x20}, pub...)
	return base58(append([]byte{0x00, byte(len(pb))}, pb...))
}

// base58 is Bitcoin's base58 (base58btc), as libp2p shows peer IDs; a few
// lines here rather than a module dependency for one test vector.
func base58(b []byte) string {
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	n := new(big.Int).SetBytes(b)
	var out []byte
	for mod := new(big.Int); n.Sign() > 0; {
		n.DivMod(n, big.NewInt(58), mod)
		out = append(out, alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	slices.Reverse(out)
	return string(out)
}

// computeVectors computes every vector of docs/PROTOCOL.md.
func computeVectors(t *testing.T) map[string]string {
	alice, bob := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	shared, err := alice.priv.ECDH(bob.priv.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	p := pairKey(t, alice, bob)
	c := ChatKeyFor(p, testChatID)
	k, err := c.Keys(p)
	if err != nil {
		t.Fatal(err)
	}
	chatSecret := hkdf32(p.k[:], testChatID[:], labelChat)
	x := hex.EncodeToString
	v := map[string]string{
		"alice_secret":  aliceSecretHex,
		"bob_secret":    bobSecretHex,
		"alice_public":  x(alice.pub[:]),
		"bob_public":    x(bob.pub[:]),
		"shared_secret": x(shared),
		"alice_writes":  DirectionOf(alice.pub, bob.pub).String(),
		"bob_writes":    DirectionOf(bob.pub, alice.pub).String(),
		"pair_key":      x(p.k[:]),
		"chat_id":       x(testChatID[:]),
		"chat_key_tag":  x(c.tag[:]),
		"chat_key":      c.String(),
		"chat_secret":   x(chatSecret[:]),
		"msg_key_0":     x(k.msg[0][:]),
		"msg_key_1":     x(k.msg[1][:]),
	}
	for d := range Direction(2) {
		for _, i := range []int{0, 1, 15} {
			v[fmt.Sprintf("slot_seed_%d_%d", d, i)] = x(k.slots[d][i].Seed())
			v[fmt.Sprintf("slot_public_%d_%d", d, i)] = x(k.SlotPublicKey(d, i))
		}
		v[fmt.Sprintf("slot_name_%d_0", d)] = ipnsName(k.SlotPublicKey(d, 0))
	}

	v["msg_dir"] = "0"
	v["msg_n"] = strconv.FormatUint(vecMessage.N, 10)
	v["msg_sent_at_ms"] = strconv.FormatInt(vecMessage.SentAt.UnixMilli(), 10)
	v["msg_body"] = strconv.Quote(vecMessage.Body)
	v["msg_nonce"] = x(seqNonce(0x40)[:])
	sealed, err := sealBox(k, secretBox, FromLo, vecMessage, seqNonce(0x40))
	if err != nil {
		t.Fatal(err)
	}
	v["msg_sealed"] = x(sealed)

	h := vecHeader
	v["slot_dir"] = "0"
	v["slot_index"] = strconv.Itoa(h.Slot)
	v["slot_slots_used"] = strconv.Itoa(h.SlotsUsed)
	v["slot_seq"] = strconv.FormatUint(h.Seq, 10)
	v["slot_ack"] = strconv.FormatUint(h.Ack, 10)
	v["slot_max_n"] = strconv.FormatUint(h.MaxN, 10)
	v["slot_nonce"] = x(seqNonce(0x60)[:])
	payload, err := encodeSlotBox(k, secretBox, h, [][]byte{sealed}, seqNonce(0x60))
	if err != nil {
		t.Fatal(err)
	}
	end := len(bytes.TrimRight(payload, "\x00"))
	v["slot_payload_len"] = strconv.Itoa(len(payload))
	v["slot_payload_head"] = x(payload[:end])
	sum := sha256.Sum256(payload)
	v["slot_payload_sha256"] = x(sum[:])
	maps.Copy(v, liveVectors(t, k)) // §17, live_vectors_test.go
	maps.Copy(v, pairVectors(t, p)) // §18–22, invite_vectors_test.go
	return v
}

func TestProtocolVectors(t *testing.T) {
	want := computeVectors(t)
	// v2's are TestV2ProtocolVectors', groups' (g1_) TestGroupProtocolVectors'.
	checkVectors(t, want, func(k string) bool { return !strings.HasPrefix(k, "v2_") && !strings.HasPrefix(k, "g1_") })
}

// checkVectors compares the vectors computed, want, with those of the
// document, and fails for any vector of the document that ours says is
// its (the rest are another test's) and want does not hold. On failure it
// logs what was computed, to paste into the document.
func checkVectors(t *testing.T, want map[string]string, ours func(key string) bool) {
	t.Helper()
	got := readVectors(t, protocolDoc)
	keys := slices.Sorted(maps.Keys(want))
	var fix strings.Builder
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: %s = %q, want %q", protocolDoc, k, got[k], want[k])
		}
		fmt.Fprintf(&fix, "%s: %s\n", k, want[k])
	}
	for k := range got {
		if _, ok := want[k]; !ok && ours(k) {
			t.Errorf("%s: unknown vector %s", protocolDoc, k)
		}
	}
	if t.Failed() {
		t.Logf("computed vectors:\n%s", fix.String())
	}
}

// bobsKeys returns the vector chat's keys, as Bob, the reader, derives
// them from the document's vectors v.
func bobsKeys(t *testing.T, v map[string]string) *Keys {
	t.Helper()
	alice, bob := newParty(t, v["alice_secret"]), newParty(t, v["bob_secret"])
	c, err := ParseChatKey(v["chat_key"])
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.Keys(pairKey(t, bob, alice))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The vectors are independently checkable: the shared secret is RFC 7748's,
// and the vector message and slot open with the vector keys.
func TestProtocolVectorsOpen(t *testing.T) {
	v := readVectors(t, protocolDoc)
	if got, want := v["shared_secret"], "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"; got != want {
		t.Errorf("shared_secret = %s, want RFC 7748's %s", got, want)
	}
	alice, bob := newParty(t, v["alice_secret"]), newParty(t, v["bob_secret"])
	p := pairKey(t, bob, alice) // as Bob, the reader, derives it
	c, err := ParseChatKey(v["chat_key"])
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.Keys(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := k.Open(FromLo, mustHex(t, v["msg_sealed"]))
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := strconv.Unquote(v["msg_body"]); m.Body != body || m.N != 1 {
		t.Errorf("Open(msg_sealed) = %+v, want body %s", m, v["msg_body"])
	}
	n, _ := strconv.Atoi(v["slot_payload_len"])
	payload := make([]byte, n)
	copy(payload, mustHex(t, v["slot_payload_head"]))
	s, err := k.DecodeSlot(FromLo, 0, 1, payload)
	if err != nil {
		t.Fatal(err)
	}
	if s.Header != vecHeader || len(s.Messages) != 1 || s.Messages[0].Body != m.Body {
		t.Errorf("DecodeSlot(vector) = %+v, want header %+v and the vector message", s, vecHeader)
	}
}
