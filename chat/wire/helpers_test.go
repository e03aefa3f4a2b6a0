package wire

import (
	"crypto/ecdh"
	"encoding/hex"
	"testing"
)

// The X25519 key pairs of RFC 7748, section 6.1, so that the shared
// secret can be checked against the RFC too.
const (
	aliceSecretHex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
	bobSecretHex   = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
	// a third party, for cross-pair tests
	carolSecretHex = "c8a9d5a91091ad851c668b0736c1c9a02936c0d3ad62670858088047ba057475"
)

type party struct {
	priv *ecdh.PrivateKey
	pub  [32]byte
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newParty(t testing.TB, secretHex string) party {
	t.Helper()
	k, err := ecdh.X25519().NewPrivateKey(mustHex(t, secretHex))
	if err != nil {
		t.Fatal(err)
	}
	return party{priv: k, pub: [32]byte(k.PublicKey().Bytes())}
}

// pairKey computes the pair key of self and peer as a client does: the
// X25519 shared secret through crypto/ecdh, then DerivePairKey.
func pairKey(t testing.TB, self, peer party) PairKey {
	t.Helper()
	shared, err := self.priv.ECDH(peer.priv.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	p, err := DerivePairKey([32]byte(shared), self.pub, peer.pub)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var testChatID = ChatID{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// testKeys returns the keys of the chat testChatID between Alice and Bob,
// as Alice derives them.
func testKeys(t testing.TB) *Keys {
	t.Helper()
	return testKeysFor(t, aliceSecretHex, bobSecretHex, testChatID)
}

func testKeysFor(t testing.TB, self, peer string, id ChatID) *Keys {
	t.Helper()
	a, b := newParty(t, self), newParty(t, peer)
	p := pairKey(t, a, b)
	k, err := ChatKeyFor(p, id).Keys(p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// plainBox stands in for secretbox in the fuzz tests: a zero "tag" and the
// plaintext in the clear, so that the fuzzer can write authentic-looking
// plaintexts and reach every check behind the authenticator.
var plainBox = box{
	seal: func(out, msg []byte, _ *[24]byte, _ *[32]byte) []byte {
		out = append(out, make([]byte, overhead)...)
		return append(out, msg...)
	},
	open: func(out, b []byte, _ *[24]byte, _ *[32]byte) ([]byte, bool) {
		// A zero tag is required so that an accepted input is the one
		// that seal would produce: the fuzz tests check re-encoding.
		if len(b) < overhead || !allZero(b[:overhead]) {
			return nil, false
		}
		return append(out, b[overhead:]...), true
	},
}

// sealBox is Seal with box b and a chosen nonce, for the test vectors and
// the fuzz tests.
func sealBox(k *Keys, b box, d Direction, m Message, nonce *[nonceSize]byte) ([]byte, error) {
	if err := m.check(d); err != nil {
		return nil, err
	}
	return k.sealWith(b, nil, d, MessagePlaintext(d, m.N, m.SentAt.UnixMilli(), m.Body), nonce), nil
}

// encodeSlotBox is EncodeSlot with box b and a chosen nonce, for the test
// vectors and the fuzz tests.
func encodeSlotBox(k *Keys, b box, h SlotHeader, sealed [][]byte, nonce *[nonceSize]byte) ([]byte, error) {
	if err := k.checkRecord(b, h, sealed); err != nil {
		return nil, err
	}
	return k.encodeSlotWith(b, h, sealed, nonce), nil
}

// pairWithParty returns the callback of OpenAcceptance for the inviter
// self: X25519 through crypto/ecdh, then DerivePairKey, as a client does.
func pairWithParty(t testing.TB, self party) func([32]byte) (PairKey, error) {
	return func(peer [32]byte) (PairKey, error) {
		pub, err := ecdh.X25519().NewPublicKey(peer[:])
		if err != nil {
			return PairKey{}, err
		}
		shared, err := self.priv.ECDH(pub)
		if err != nil {
			return PairKey{}, err
		}
		return DerivePairKey([32]byte(shared), self.pub, peer)
	}
}
