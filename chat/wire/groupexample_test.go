package wire_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// A group of three: alice creates it, every member makes a sender key and
// hands its distribution (a control body, sent over the pairwise version
// 2 session) to the others, alice writes once, and bob reads her record.
// Then alice removes carol; the log converges, and the remaining members
// rotate, so that carol's chains open nothing sent from then on.
func ExampleSenderKey() {
	var alice, bob, carol wire.MemberID
	rand.Read(alice[:]) // in a client: the members' public keys
	rand.Read(bob[:])
	rand.Read(carol[:])
	var nonce [16]byte
	rand.Read(nonce[:])
	create, err := wire.NewCreateOp(alice, nonce, "friends", []wire.MemberID{bob, carol})
	if err != nil {
		log.Fatal(err)
	}
	st, _ := wire.Converge([]wire.GroupOp{create}) // bob and carol get it in a welcome

	key, dist, err := wire.NewSenderKey(nil, st, alice)
	if err != nil {
		log.Fatal(err)
	}
	// dist.Body() travels to bob as a pairwise message; he checks it
	// came from alice.
	d, err := wire.ParseSenderKeyDistribution(dist.Body(), alice)
	if err != nil {
		log.Fatal(err)
	}
	bobsChain := wire.NewReceiverChain(d)

	key, f, err := key.SealText(nil, time.Now(), "hello, group")
	if err != nil {
		log.Fatal(err)
	}
	// The record of slot 0, put by the client under key.SlotName(0),
	// signed with key.SlotSigningKey(0).
	rec, err := key.EncodeSlot(nil, wire.GroupSlotHeader{SlotsUsed: 1, Seq: 1, MaxN: f.N}, []wire.GroupFrame{f})
	if err != nil {
		log.Fatal(err)
	}
	_, slot, err := bobsChain.DecodeSlot(0, 1, rec) // bob stores the chain it returns
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(slot.Messages[0].Body)

	remove, err := st.NewOp(wire.OpRemove, alice, carol, "")
	if err != nil {
		log.Fatal(err)
	}
	key, _, err = key.SealOp(nil, time.Now(), remove) // published as any message
	if err != nil {
		log.Fatal(err)
	}
	st, _ = wire.Converge([]wire.GroupOp{create, remove})
	if key.NeedsRotation(st) {
		key, _, err = key.Rotate(nil, st) // the new distribution goes to bob only
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(st.Members()), "members; alice writes in sender epoch", key.Epoch())
	// Output:
	// hello, group
	// 2 members; alice writes in sender epoch 1
}
