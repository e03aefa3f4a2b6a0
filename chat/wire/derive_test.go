package wire

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDirectionOf(t *testing.T) {
	lo, hi := [32]byte{1}, [32]byte{2}
	tests := []struct {
		self, peer [32]byte
		want       Direction
	}{
		{lo, hi, FromLo},
		{hi, lo, FromHi},
		{[32]byte{0: 1, 31: 9}, [32]byte{0: 1, 31: 10}, FromLo},
	}
	for _, tt := range tests {
		if got := DirectionOf(tt.self, tt.peer); got != tt.want {
			t.Errorf("DirectionOf(%x…, %x…) = %v, want %v", tt.self[:2], tt.peer[:2], got, tt.want)
		}
	}
	if FromLo.Other() != FromHi || FromHi.Other() != FromLo {
		t.Errorf("Other is not the opposite direction")
	}
	for d, want := range map[Direction]string{FromLo: "from-lo", FromHi: "from-hi", 7: "Direction(7)"} {
		if got := d.String(); got != want {
			t.Errorf("Direction(%d).String() = %q, want %q", uint8(d), got, want)
		}
	}
}

func TestDerivePairKey(t *testing.T) {
	alice, bob := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	ab, ba := pairKey(t, alice, bob), pairKey(t, bob, alice)
	if !ab.Equal(ba) {
		t.Errorf("the two parties derive different pair keys")
	}
	carol := newParty(t, carolSecretHex)
	if ab.Equal(pairKey(t, alice, carol)) {
		t.Errorf("two pairs share a pair key")
	}

	shared := [32]byte{1}
	if _, err := DerivePairKey([32]byte{}, alice.pub, bob.pub); !errors.Is(err, ErrZeroSecret) {
		t.Errorf("DerivePairKey(zero secret) = %v, want ErrZeroSecret", err)
	}
	if _, err := DerivePairKey(shared, alice.pub, alice.pub); !errors.Is(err, ErrSameKey) {
		t.Errorf("DerivePairKey(own key) = %v, want ErrSameKey", err)
	}
}

func TestKeysDistinct(t *testing.T) {
	k := testKeys(t)
	seen := map[string]string{}
	add := func(what string, b []byte) {
		if prev, ok := seen[string(b)]; ok {
			t.Errorf("%s equals %s", what, prev)
		}
		seen[string(b)] = what
	}
	for d := range Direction(2) {
		add(fmt.Sprint("msg key ", d), k.msg[d][:])
		for i := range MaxSlots {
			priv, pub := k.SlotPrivateKey(d, i), k.SlotPublicKey(d, i)
			add(fmt.Sprintf("slot key %v/%d", d, i), pub)
			if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
				t.Errorf("SlotPublicKey(%v, %d) is not the public key of SlotPrivateKey", d, i)
			}
		}
	}
	other := testKeysFor(t, aliceSecretHex, bobSecretHex, ChatID{15: 1})
	if bytes.Equal(other.SlotPublicKey(FromLo, 0), k.SlotPublicKey(FromLo, 0)) || other.msg == k.msg {
		t.Errorf("two chats of one pair share keys")
	}
	// Both parties derive the same keys.
	bobs := testKeysFor(t, bobSecretHex, aliceSecretHex, testChatID)
	if bobs.msg != k.msg || !bytes.Equal(bobs.SlotPublicKey(FromHi, 3), k.SlotPublicKey(FromHi, 3)) {
		t.Errorf("Alice and Bob derive different keys")
	}
	// The returned keys are copies.
	k.SlotPrivateKey(FromLo, 0)[0] ^= 1
	if !bytes.Equal(k.SlotPrivateKey(FromLo, 0), bobs.SlotPrivateKey(FromLo, 0)) {
		t.Errorf("SlotPrivateKey returned the key itself, not a copy")
	}
}

func TestSlotKeyRange(t *testing.T) {
	k := testKeys(t)
	for _, c := range []struct {
		d Direction
		i int
	}{{2, 0}, {FromLo, -1}, {FromHi, MaxSlots}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SlotPublicKey(%d, %d) did not panic", c.d, c.i)
				}
			}()
			k.SlotPublicKey(c.d, c.i)
		}()
	}
}

func TestRedacted(t *testing.T) {
	k := testKeys(t)
	p := pairKey(t, newParty(t, aliceSecretHex), newParty(t, bobSecretHex))
	secrets := [][]byte{p.k[:], k.msg[0][:], k.msg[1][:], k.slots[0][0].Seed()}
	for _, v := range []any{p, &p, k, *k} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
			got := fmt.Sprintf(verb, v)
			if !strings.Contains(got, "REDACTED") {
				t.Errorf("Sprintf(%q, %T) = %q, want a redacted placeholder", verb, v, got)
			}
			for _, s := range secrets {
				if strings.Contains(strings.ToLower(got), fmt.Sprintf("%x", s[:4])) {
					t.Errorf("Sprintf(%q, %T) leaks key bytes", verb, v)
				}
			}
		}
	}
}
