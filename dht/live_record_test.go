package dht_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// slotPayloadMax is the protocol's largest slot payload (chat/wire's
// MaxSlotPayload, docs/PROTOCOL.md 6.4); dht cannot import wire.
const slotPayloadMax = 9216

// A live announcement fits beside the largest slot payload, and
// MaxPayloadLive is exact: at the worst-case sequence number and EOL it
// fills ipns.MaxRecordSize, and one more byte does not fit.
func TestMaxPayloadLive(t *testing.T) {
	if dht.MaxPayloadLive < slotPayloadMax {
		t.Fatalf("MaxPayloadLive = %d, below the %d-byte slot payload", dht.MaxPayloadLive, slotPayloadMax)
	}
	_, priv := fixedKey(t)
	live := bytes.Repeat([]byte{0x5a}, dht.LiveSize)
	for _, seq := range []uint64{0, 1, 1 << 32, dht.MaxSeq} {
		for _, n := range []int{slotPayloadMax, dht.MaxPayloadLive} {
			data, _, err := dht.EncodeRecordLive(priv, seq, make([]byte, n), live, worstNow)
			if err != nil {
				t.Fatalf("EncodeRecordLive(seq %d, %d bytes + live) = %v", seq, n, err)
			}
			if len(data) > ipns.MaxRecordSize {
				t.Fatalf("seq %d: record of %d bytes + live is %d bytes, over %d", seq, n, len(data), ipns.MaxRecordSize)
			}
			if seq == dht.MaxSeq && n == dht.MaxPayloadLive && len(data) != ipns.MaxRecordSize {
				t.Errorf("worst case record is %d bytes, want exactly %d: MaxPayloadLive is not tight", len(data), ipns.MaxRecordSize)
			}
		}
		_, _, err := dht.EncodeRecordLive(priv, seq, make([]byte, dht.MaxPayloadLive+1), live, worstNow)
		if !errors.Is(err, dht.ErrTooLarge) {
			t.Errorf("EncodeRecordLive(seq %d, MaxPayloadLive+1) = %v, want ErrTooLarge", seq, err)
		}
	}
	for _, n := range []int{0, 1, dht.LiveSize - 1, dht.LiveSize + 1} {
		if _, _, err := dht.EncodeRecordLive(priv, 1, []byte("x"), make([]byte, n), worstNow); err == nil {
			t.Errorf("EncodeRecordLive with a %d-byte announcement worked, want an error", n)
		}
	}
}

func TestRecordLiveRoundTrip(t *testing.T) {
	_, priv := fixedKey(t)
	pid := peerOf(t, priv)
	live := bytes.Repeat([]byte{0xa5}, dht.LiveSize)
	payload := bytes.Repeat([]byte{1}, slotPayloadMax)
	data, _, err := dht.EncodeRecordLive(priv, 9, payload, live, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := dht.DecodeRecord(data, pid)
	if err != nil {
		t.Fatalf("DecodeRecord = %v", err)
	}
	if rec.Seq != 9 || !bytes.Equal(rec.Payload, payload) || !bytes.Equal(rec.Live, live) {
		t.Errorf("round trip = seq %d, %d bytes, live %d bytes; want 9, %d, %d", rec.Seq, len(rec.Payload), len(rec.Live), len(payload), len(live))
	}
	// Without one, Live is nil.
	data, _, err = dht.EncodeRecord(priv, 10, payload, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := dht.DecodeRecord(data, pid); err != nil || rec.Live != nil {
		t.Errorf("record without _l: Live = %d bytes, err %v; want nil, nil", len(rec.Live), err)
	}
}

// A malformed _l (wrong size, wrong CBOR kind) never fails the record: its
// payload reads as before and Live is nil.
func TestDecodeRecordIgnoresBadLive(t *testing.T) {
	_, priv := fixedKey(t)
	pid := peerOf(t, priv)
	sk, err := crypto.UnmarshalEd25519PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	value, _ := path.NewPath(ipns.NoopValue)
	for _, bad := range []any{[]byte{}, make([]byte, dht.LiveSize-1), make([]byte, dht.LiveSize+1), "a string", int64(7), true} {
		rec, err := ipns.NewRecord(sk, value, 3, time.Now().Add(time.Hour), dht.RecordTTL, ipns.WithV1Compatibility(true),
			ipns.WithMetadata(map[string]any{dht.MetadataKey: []byte("payload"), dht.LiveKey: bad}))
		if err != nil {
			t.Fatal(err)
		}
		data, err := ipns.MarshalRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dht.DecodeRecord(data, pid)
		if err != nil || string(got.Payload) != "payload" || got.Live != nil {
			t.Errorf("_l = %T of %v: DecodeRecord = %q, live %d bytes, %v; want the payload, no live, no error", bad, bad, got.Payload, len(got.Live), err)
		}
	}
}

// decodeRecordV1 is decodeRecord as it was before the live path (it read
// only _d), as every deployed reader runs it.
func decodeRecordV1(data []byte, pid peer.ID) (seq uint64, payload []byte, err error) {
	rec, err := ipns.UnmarshalRecord(data)
	if err != nil {
		return 0, nil, err
	}
	if err := ipns.ValidateWithName(rec, ipns.NameFromPeer(pid)); err != nil {
		return 0, nil, err
	}
	if seq, err = rec.Sequence(); err != nil {
		return 0, nil, err
	}
	if _, err := rec.Validity(); err != nil {
		return 0, nil, err
	}
	md, err := rec.Metadata(dht.MetadataKey)
	if err != nil {
		return 0, nil, err
	}
	payload, err = md.AsBytes()
	return seq, payload, err
}

// A record with _l reads the same through the decoder of clients that
// predate it, and passes boxo's standard IPNS checks.
func TestLiveRecordOldReaders(t *testing.T) {
	pub, priv := fixedKey(t)
	pid := peerOf(t, priv)
	payload := bytes.Repeat([]byte{7}, slotPayloadMax)
	data, _, err := dht.EncodeRecordLive(priv, 77, payload, bytes.Repeat([]byte{3}, dht.LiveSize), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	seq, got, err := decodeRecordV1(data, pid)
	if err != nil || seq != 77 || !bytes.Equal(got, payload) {
		t.Errorf("old decoder = seq %d, %d bytes, %v; want 77, %d bytes", seq, len(got), err, len(payload))
	}
	key, err := dht.RoutingKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	checkStandardRecord(t, "record with _l", data, key, pid, 77, payload)
}
