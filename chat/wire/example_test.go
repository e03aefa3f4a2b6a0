package wire_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"log"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/bech32"
)

// pairKey is what each client does with its own secret key and its
// friend's public key: X25519 through crypto/ecdh, which rejects
// low-order points, then DerivePairKey.
func pairKey(self *ecdh.PrivateKey, peer *ecdh.PublicKey) (wire.PairKey, wire.Direction) {
	shared, err := self.ECDH(peer)
	if err != nil {
		log.Fatal(err)
	}
	me, them := [32]byte(self.PublicKey().Bytes()), [32]byte(peer.Bytes())
	p, err := wire.DerivePairKey([32]byte(shared), me, them)
	if err != nil {
		log.Fatal(err)
	}
	return p, wire.DirectionOf(me, them)
}

// The whole flow: Alice starts a chat and writes two messages; Bob takes
// the chat key, reads her slot record and delivers the messages in order.
func Example() {
	alice, _ := ecdh.X25519().GenerateKey(rand.Reader)
	bob, _ := ecdh.X25519().GenerateKey(rand.Reader)

	// `dhtchat start`: Alice makes the chat key and gives it to Bob.
	alicePair, aliceDir := pairKey(alice, bob.PublicKey())
	chatKey := wire.NewChatKey(alicePair)
	text := chatKey.String()
	aliceKeys, err := chatKey.Keys(alicePair)
	if err != nil {
		log.Fatal(err)
	}

	// Alice seals her messages, packs them into slots and encodes slot 0.
	var sealed [][]byte
	for n, body := range []string{"hi Bob", "are you there?"} {
		s, err := aliceKeys.Seal(aliceDir, wire.Message{N: uint64(n + 1), SentAt: time.Now(), Body: body})
		if err != nil {
			log.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	slots, err := wire.Pack(sealed)
	if err != nil {
		log.Fatal(err)
	}
	const seq = 1 // the IPNS record's sequence number, persisted per slot
	payload, err := aliceKeys.EncodeSlot(wire.SlotHeader{
		Dir: aliceDir, Slot: 0, SlotsUsed: len(slots), Seq: seq, Ack: 0, MaxN: 2,
	}, slots[0])
	if err != nil {
		log.Fatal(err)
	}
	// … the dht package publishes payload under aliceKeys.SlotPrivateKey(aliceDir, 0).

	// `dhtchat respond`: Bob parses the chat key and derives the same keys.
	bobPair, bobDir := pairKey(bob, alice.PublicKey())
	parsed, err := wire.ParseChatKey(text)
	if err != nil {
		log.Fatal(err)
	}
	bobKeys, err := parsed.Keys(bobPair)
	if err != nil {
		log.Fatal(err)
	}

	// Bob fetches slot 0 of Alice's direction and delivers what is new.
	var received, lastSeq uint64
	slot, err := bobKeys.DecodeSlot(bobDir.Other(), 0, seq, payload)
	if err != nil {
		log.Fatal(err)
	}
	if err := slot.Header.CheckSeq(lastSeq); err != nil {
		log.Fatal(err)
	}
	for _, m := range slot.Messages { // in increasing order: deliver each once
		if m.N == received+1 {
			fmt.Printf("%d: %s\n", m.N, m.Body)
			received = m.N
		}
	}
	fmt.Println("more slots needed:", slot.Header.WantsSlot(1, received))
	// Output:
	// 1: hi Bob
	// 2: are you there?
	// more slots needed: false
}

func ExampleParseChatKey() {
	pub, _ := bech32.Encode("dhtchat", make([]byte, 32)) // a public key pasted by mistake
	_, err := wire.ParseChatKey(pub)
	fmt.Println(err)
	// Output:
	// wire: not a chat key: this is a public key; a chat key starts with "dhtchat-chat1"
}
