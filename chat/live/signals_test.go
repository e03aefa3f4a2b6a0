package live

import (
	"errors"
	"testing"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// Typing indicators and read receipts cross the stream both ways; read
// receipts only grow.
func TestSignals(t *testing.T) {
	_, _, _, a, b := connected(t)
	ctx := testwait.Context(t)
	for _, typing := range []bool{true, false} {
		if err := a.SendTyping(ctx, typing); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-b.Typing():
			if got != typing {
				t.Fatalf("Bob saw typing %v, want %v", got, typing)
			}
		case <-b.Done():
			t.Fatalf("stream ended: %v", b.Err())
		case <-ctx.Done():
			t.Fatal("no typing signal")
		}
	}
	for _, n := range []uint64{3, 2, 3, 5} {
		if err := b.SendRead(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	var last uint64
	for last != 5 {
		select {
		case n := <-a.Reads():
			if n <= last {
				t.Fatalf("read %d after %d", n, last)
			}
			last = n
		case <-a.Done():
			t.Fatalf("stream ended: %v", a.Err())
		case <-ctx.Done():
			t.Fatalf("no read 5; last %d", last)
		}
	}
}

// A signal sealed for the other direction ends the stream.
func TestForeignSignalEndsStream(t *testing.T) {
	p, _, _, a, b := connected(t)
	sealed, err := p.keys.SealSignal(p.hi, wire.Signal{Type: wire.FrameTyping, Value: 1}) // Bob's direction, sent by Alice
	if err != nil {
		t.Fatal(err)
	}
	if err := a.write(testwait.Context(t), wire.LiveFrame{Type: wire.FrameTyping, Signal: sealed}); err != nil {
		t.Fatal(err)
	}
	waitDone(t, b)
	if !errors.Is(b.Err(), ErrProtocol) || !errors.Is(b.Err(), wire.ErrDecrypt) {
		t.Errorf("Bob's stream ended with %v, want a protocol error (cannot be opened)", b.Err())
	}
}
