package wire_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"log"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// An invite from Alice to Bob, with no other exchange: Bob parses the text,
// seals his acceptance into the rendezvous record, Alice opens it, and
// both find the same pair conversation.
func Example_invite() {
	alice, _ := ecdh.X25519().GenerateKey(rand.Reader)
	bob, _ := ecdh.X25519().GenerateKey(rand.Reader)
	now := time.Now()

	// `dhtchat invite`: Alice's client stores the invite and prints its text.
	inv, err := wire.NewInvite([32]byte(alice.PublicKey().Bytes()), now.Add(7*24*time.Hour), "Alice")
	if err != nil {
		log.Fatal(err)
	}
	text := inv.Text()

	// `dhtchat accept INVITE`: Bob's client parses it, refuses it if it
	// has expired, and writes the rendezvous record (named by
	// PublicKey, signed with PrivateKey) carrying his sealed acceptance.
	got, err := wire.ParseInvite(text)
	if err != nil || got.Expired(now) {
		log.Fatal("refused: ", err)
	}
	inviterKey := got.Inviter()
	inviter, err := ecdh.X25519().NewPublicKey(inviterKey[:])
	if err != nil {
		log.Fatal(err)
	}
	bobPair, _ := pairKey(bob, inviter)
	record, err := got.Rendezvous().SealAcceptance(wire.Acceptance{Acceptor: [32]byte(bob.PublicKey().Bytes()), Name: "Bob"}, bobPair)
	if err != nil {
		log.Fatal(err)
	}

	// Alice's client, polling the rendezvous name, opens the record: the
	// callback derives her pair key with the acceptor it names.
	a, err := inv.Rendezvous().OpenAcceptance(record, func(acceptor [32]byte) (wire.PairKey, error) {
		pub, err := ecdh.X25519().NewPublicKey(acceptor[:])
		if err != nil {
			return wire.PairKey{}, err
		}
		p, _ := pairKey(alice, pub)
		return p, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	alicePair, _ := pairKey(alice, bob.PublicKey())
	fmt.Println(len(text) <= wire.MaxInviteText, len(record), a.Name, a.Acceptor == [32]byte(bob.PublicKey().Bytes()))
	fmt.Println(wire.PairChatID(alicePair) == wire.PairChatID(bobPair))
	// Output:
	// true 200 Bob true
	// true
}
