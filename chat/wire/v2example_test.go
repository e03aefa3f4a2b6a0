package wire_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"log"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// Version 2: each party keeps a RatchetState per chat and replaces it
// with the one every operation returns (a client stores it in the same
// transaction as what the operation produced). Alice writes, Bob reads
// and answers, and the epochs advance with the round trip.
func ExampleRatchetState() {
	alice, _ := ecdh.X25519().GenerateKey(rand.Reader)
	bob, _ := ecdh.X25519().GenerateKey(rand.Reader)
	alicePair, aliceDir := pairKey(alice, bob.PublicKey())
	bobPair, bobDir := pairKey(bob, alice.PublicKey())
	id := wire.NewChatKey(alicePair).ID()

	// nil: crypto/rand. Tests pass a deterministic reader instead.
	a, err := wire.NewRatchetState(nil, alicePair, id, aliceDir)
	if err != nil {
		log.Fatal(err)
	}
	b, err := wire.NewRatchetState(nil, bobPair, id, bobDir)
	if err != nil {
		log.Fatal(err)
	}

	// write seals one message and returns the record of slot 0 that
	// carries it, signed (by the client) with SlotSigningKey(0).
	seq := uint64(0)
	write := func(s *wire.RatchetState, body string) (*wire.RatchetState, []byte, uint32) {
		s, f, err := s.Seal(nil, time.Now(), body)
		if err != nil {
			log.Fatal(err)
		}
		seq++
		h := wire.V2Header{Slot: 0, SlotsUsed: 1, Seq: seq, MaxN: f.N}
		payload, err := s.EncodeSlot(nil, h, []wire.Frame{f})
		if err != nil {
			log.Fatal(err)
		}
		return s, payload, s.SendEpoch()
	}
	// read decodes a record fetched from the names of one of the epochs
	// that the reader watches.
	read := func(s *wire.RatchetState, epoch uint32, payload []byte) *wire.RatchetState {
		for _, w := range s.Watches() {
			if w.Epoch != epoch {
				continue
			}
			s2, slot, err := s.DecodeSlot(nil, w.Epoch, 0, seq, payload)
			if err != nil {
				log.Fatal(err)
			}
			for _, m := range slot.Messages {
				fmt.Printf("%v reads message %d: %s\n", s.Direction(), m.N, m.Body)
			}
			return s2
		}
		log.Fatal("not watched")
		return nil
	}

	lo, hi := a, b
	if aliceDir != wire.FromLo {
		lo, hi = b, a
	}
	hi, rec, e := write(hi, "hello from from-hi")
	lo = read(lo, e, rec) // from-lo makes step 1
	lo, rec, e = write(lo, "hello from from-lo")
	hi = read(hi, e, rec) // from-hi makes step 2
	fmt.Println("epochs:", lo.SendEpoch(), hi.SendEpoch())
	// Output:
	// from-lo reads message 1: hello from from-hi
	// from-hi reads message 1: hello from from-lo
	// epochs: 1 2
}
