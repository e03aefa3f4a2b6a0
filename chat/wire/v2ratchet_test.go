package wire

import (
	"fmt"
	"testing"
)

// Two parties talk for several round trips; every message arrives once,
// and the epochs advance with every round trip.
func TestV2Conversation(t *testing.T) {
	alice, bob := newV2Pair(t, "conversation")
	var all []v2record
	for i := range 6 {
		roundTrip(t, alice, bob, &all, fmt.Sprint("round ", i))
		roundTrip(t, bob, alice, &all, fmt.Sprint("back ", i))
	}
	for _, p := range []*v2party{alice, bob} {
		if p.received != 12 {
			t.Errorf("%v received %d messages without a gap, want 12 (%v)", p.st.Direction(), p.received, p.got)
		}
	}
	if e := alice.st.SendEpoch(); e < 9 {
		t.Errorf("after 12 round trips alice writes epoch %d", e)
	}
	t.Logf("epochs: alice sends %d reads %d; bob sends %d reads %d", alice.st.SendEpoch(), alice.st.RecvEpoch(), bob.st.SendEpoch(), bob.st.RecvEpoch())
}
