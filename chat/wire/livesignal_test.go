package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// The signals of the vectors (docs/PROTOCOL.md §17.7): Alice is typing,
// and Bob has read Alice's messages 1…5.
var (
	vecTyping = Signal{Type: FrameTyping, Value: 1}
	vecRead   = Signal{Type: FrameRead, Value: 5}
)

// signalVectors computes the vectors of §17.7 for the chat keys k.
func signalVectors(t *testing.T, k *Keys) map[string]string {
	x := hex.EncodeToString
	v := map[string]string{
		"live_sig_key_0": x(k.liveSig[0][:]),
		"live_sig_key_1": x(k.liveSig[1][:]),
		"typing_nonce":   x(seqNonce(0xb0)[:]),
		"read_nonce":     x(seqNonce(0xd0)[:]),
	}
	for _, c := range []struct {
		name  string
		d     Direction
		s     Signal
		nonce byte
	}{{"frame_typing_1", FromLo, vecTyping, 0xb0}, {"frame_read_5", FromHi, vecRead, 0xd0}} {
		sealed, err := k.sealSignalWith(secretBox, c.d, c.s, seqNonce(c.nonce))
		if err != nil {
			t.Fatal(err)
		}
		f, err := AppendLiveFrame(nil, LiveFrame{Type: c.s.Type, Signal: sealed})
		if err != nil {
			t.Fatal(err)
		}
		v[c.name] = x(f)
	}
	return v
}

// The signal vectors decode and open with the keys Bob derives.
func TestLiveSignalVectorsOpen(t *testing.T) {
	v := readVectors(t, protocolDoc)
	k := bobsKeys(t, v)
	for _, c := range []struct {
		name string
		d    Direction
		want Signal
	}{{"frame_typing_1", FromLo, vecTyping}, {"frame_read_5", FromHi, vecRead}} {
		f, err := DecodeLiveFrame(mustHex(t, v[c.name])[LiveFramePrefixSize:])
		if err != nil || f.Type != c.want.Type {
			t.Fatalf("DecodeLiveFrame(%s) = %+v, %v", c.name, f, err)
		}
		s, err := k.OpenSignal(c.d, f.Type, f.Signal)
		if err != nil || s != c.want {
			t.Errorf("OpenSignal(%s) = %+v, %v; want %+v", c.name, s, err, c.want)
		}
		// The other direction's key does not open it.
		if _, err := k.OpenSignal(c.d.Other(), f.Type, f.Signal); !errors.Is(err, ErrDecrypt) {
			t.Errorf("OpenSignal(%s) for the other direction: %v, want ErrDecrypt", c.name, err)
		}
	}
}

func TestSignalRejects(t *testing.T) {
	k := testKeys(t)
	good, err := k.SealSignal(FromLo, vecTyping)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := k.OpenSignal(FromLo, FrameTyping, good); err != nil || s != vecTyping {
		t.Fatalf("OpenSignal(SealSignal) = %+v, %v", s, err)
	}
	plain := func(typ, dir byte, value uint64) []byte {
		var nonce [nonceSize]byte
		b := append(append([]byte(nil), nonce[:]...), make([]byte, overhead)...)
		b = append(b, typ, dir)
		for i := 7; i >= 0; i-- {
			b = append(b, byte(value>>(8*i)))
		}
		return b
	}
	for _, c := range []struct {
		name   string
		t      LiveFrameType
		sealed []byte
		want   error
	}{
		{"a read in a typing frame", FrameTyping, plain(byte(FrameRead), 0, 1), ErrMalformed},
		{"the other direction", FrameTyping, plain(byte(FrameTyping), 1, 1), ErrWrongDirection},
		{"typing 2", FrameTyping, plain(byte(FrameTyping), 0, 2), ErrMalformed},
		{"short", FrameRead, plain(byte(FrameRead), 0, 1)[:SealedSignalSize-1], ErrTruncated},
		{"long", FrameRead, append(plain(byte(FrameRead), 0, 1), 0), ErrTooLarge},
		{"not a signal frame", FrameAck, plain(byte(FrameAck), 0, 1), ErrMalformed},
	} {
		if s, err := k.openSignal(plainBox, FromLo, c.t, c.sealed); !errors.Is(err, c.want) || s != (Signal{}) {
			t.Errorf("%s: openSignal = %+v, %v; want %v", c.name, s, err, c.want)
		}
	}
	if _, err := k.OpenSignal(FromLo, FrameTyping, plain(byte(FrameTyping), 0, 1)); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenSignal of an unauthentic signal: %v, want ErrDecrypt", err)
	}
	if _, err := k.SealSignal(FromLo, Signal{Type: FrameTyping, Value: 2}); err == nil {
		t.Errorf("SealSignal(typing 2) = nil error")
	}
	if _, err := AppendLiveFrame(nil, LiveFrame{Type: FrameRead, Signal: good[1:]}); err == nil {
		t.Errorf("AppendLiveFrame(short signal) = nil error")
	}
	if _, err := DecodeLiveFrame(append([]byte{byte(FrameTyping)}, good[1:]...)); !errors.Is(err, ErrMalformed) {
		t.Errorf("DecodeLiveFrame(short signal): %v, want ErrMalformed", err)
	}
}

// FuzzOpenSignal reaches the signal parser behind the authenticator and
// checks that what it accepts is canonical.
func FuzzOpenSignal(f *testing.F) {
	k := testKeys(f)
	var nonce [nonceSize]byte
	for _, s := range []Signal{vecTyping, {Type: FrameTyping}, vecRead} {
		b, err := k.sealSignalWith(plainBox, FromLo, s, &nonce)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(s.Type), b)
	}
	f.Fuzz(func(t *testing.T, typ byte, b []byte) {
		ft := LiveFrameType(typ)
		if s, err := k.OpenSignal(FromLo, ft, b); err != nil && s != (Signal{}) {
			t.Fatalf("OpenSignal returned %+v with error %v", s, err)
		}
		s, err := k.openSignal(plainBox, FromLo, ft, b)
		if err != nil {
			if s != (Signal{}) {
				t.Fatalf("openSignal returned %+v with error %v", s, err)
			}
			return
		}
		again, err := k.sealSignalWith(plainBox, FromLo, s, (*[nonceSize]byte)(b))
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("openSignal accepted a non-canonical signal: %v", err)
		}
	})
}
