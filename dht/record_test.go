package dht_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// worstNow makes the longest EOL encoding: RFC 3339 with all nine digits
// of nanoseconds (trailing zeros are dropped).
var worstNow = time.Date(2026, 11, 21, 22, 33, 44, 123456789, time.UTC)

// MaxPayload is exact: at the largest sequence number and the longest EOL,
// MaxPayload bytes fit in ipns.MaxRecordSize and one more byte would not.
func TestMaxPayloadBoundary(t *testing.T) {
	_, priv := fixedKey(t)
	for _, seq := range []uint64{0, 1, 1 << 32, dht.MaxSeq} {
		data, _, err := dht.EncodeRecord(priv, seq, make([]byte, dht.MaxPayload), worstNow)
		if err != nil {
			t.Fatalf("EncodeRecord(seq %d, MaxPayload) = %v", seq, err)
		}
		if len(data) > ipns.MaxRecordSize {
			t.Fatalf("seq %d: record of MaxPayload is %d bytes, over %d", seq, len(data), ipns.MaxRecordSize)
		}
		if seq == dht.MaxSeq && len(data) != ipns.MaxRecordSize {
			t.Errorf("worst case record is %d bytes, want exactly %d: MaxPayload is not tight", len(data), ipns.MaxRecordSize)
		}
		_, _, err = dht.EncodeRecord(priv, seq, make([]byte, dht.MaxPayload+1), worstNow)
		if !errors.Is(err, dht.ErrTooLarge) {
			t.Errorf("EncodeRecord(seq %d, MaxPayload+1) = %v, want ErrTooLarge", seq, err)
		}
	}

	// One more byte, built with boxo directly as encodeRecord would, is
	// over the limit, and boxo itself refuses it.
	sk, err := crypto.UnmarshalEd25519PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	value, _ := path.NewPath(ipns.NoopValue)
	rec, err := ipns.NewRecord(sk, value, dht.MaxSeq, worstNow.Add(dht.RecordLifetime), dht.RecordTTL,
		ipns.WithV1Compatibility(true), ipns.WithMetadata(map[string]any{dht.MetadataKey: make([]byte, dht.MaxPayload+1)}))
	if err != nil {
		t.Fatal(err)
	}
	data, err := ipns.MarshalRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= ipns.MaxRecordSize {
		t.Errorf("record of MaxPayload+1 is %d bytes, fits in %d: MaxPayload could be larger", len(data), ipns.MaxRecordSize)
	}
	if _, err := ipns.UnmarshalRecord(data); !errors.Is(err, ipns.ErrRecordSize) {
		t.Errorf("boxo UnmarshalRecord of the oversized record = %v, want ErrRecordSize", err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	_, priv := fixedKey(t)
	pid := peerOf(t, priv)
	now := time.Now()
	for _, payload := range [][]byte{nil, {}, {0}, []byte("hello"), bytes.Repeat([]byte{0xff}, dht.MaxPayload)} {
		data, gotPid, err := dht.EncodeRecord(priv, 5, payload, now)
		if err != nil {
			t.Fatalf("EncodeRecord(%d bytes) = %v", len(payload), err)
		}
		if gotPid != pid {
			t.Fatalf("EncodeRecord named it %s, want %s", gotPid, pid)
		}
		rec, err := dht.DecodeRecord(data, pid)
		if err != nil {
			t.Fatalf("DecodeRecord = %v", err)
		}
		if rec.Seq != 5 || !bytes.Equal(rec.Payload, payload) || !rec.EOL.Equal(now.Add(dht.RecordLifetime).UTC().Truncate(0)) {
			t.Errorf("round trip = seq %d, %d bytes, EOL %v; want 5, %d bytes, %v",
				rec.Seq, len(rec.Payload), rec.EOL, len(payload), now.Add(dht.RecordLifetime))
		}
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	_, priv := fixedKey(t)
	pid := peerOf(t, priv)
	good, _, err := dht.EncodeRecord(priv, 1, []byte("payload"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv := newKey(t)
	other, _, err := dht.EncodeRecord(otherPriv, 1, []byte("payload"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := dht.EncodeRecord(priv, 1, []byte("payload"), time.Now().Add(-dht.RecordLifetime-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// A valid IPNS record of the right key, but without our metadata.
	sk, _ := crypto.UnmarshalEd25519PrivateKey(priv)
	value, _ := path.NewPath(ipns.NoopValue)
	plain, _ := ipns.NewRecord(sk, value, 1, time.Now().Add(time.Hour), time.Minute)
	plainData, _ := ipns.MarshalRecord(plain)
	wrongKind, _ := ipns.NewRecord(sk, value, 1, time.Now().Add(time.Hour), time.Minute,
		ipns.WithMetadata(map[string]any{dht.MetadataKey: "a string"}))
	wrongKindData, _ := ipns.MarshalRecord(wrongKind)

	for name, data := range map[string][]byte{
		"empty":           nil,
		"garbage":         []byte("not a record"),
		"other key":       other,
		"expired":         expired,
		"no payload":      plainData,
		"string payload":  wrongKindData,
		"truncated":       good[:len(good)-1],
		"too large":       make([]byte, ipns.MaxRecordSize+1),
		"flipped payload": flip(good, bytes.Index(good, []byte("payload"))),
	} {
		if _, err := dht.DecodeRecord(data, pid); !errors.Is(err, dht.ErrInvalidRecord) {
			t.Errorf("DecodeRecord(%s) = %v, want ErrInvalidRecord", name, err)
		}
	}
	// No single-byte change of a valid record changes what it decodes to.
	// Some are accepted: those in the legacy SignatureV1, which IPNS
	// validation no longer checks (SignatureV2 covers every field read).
	want, err := dht.DecodeRecord(good, pid)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for i := range good {
		rec, err := dht.DecodeRecord(flip(good, i), pid)
		if err != nil {
			continue
		}
		accepted++
		if rec.Seq != want.Seq || !rec.EOL.Equal(want.EOL) || !bytes.Equal(rec.Payload, want.Payload) {
			t.Fatalf("DecodeRecord with byte %d flipped = %+v, want %+v or an error", i, rec, want)
		}
	}
	if accepted > ed25519.SignatureSize {
		t.Errorf("%d single-byte changes accepted, more than the %d bytes of SignatureV1", accepted, ed25519.SignatureSize)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// fixedKey is a constant Ed25519 key, so that fuzz seeds stay meaningful.
func fixedKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

func peerOf(t testing.TB, priv ed25519.PrivateKey) peer.ID {
	t.Helper()
	pk, err := crypto.UnmarshalEd25519PublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := peer.IDFromPublicKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// FuzzDecodeRecord feeds the decoder of records received from the network
// arbitrary bytes: it must never panic, and must either return an error
// wrapping ErrInvalidRecord or a record that is valid now.
func FuzzDecodeRecord(f *testing.F) {
	_, priv := fixedKey(f)
	pid := peerOf(f, priv)
	now := time.Now()
	for _, p := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte{0xa5}, 300), make([]byte, dht.MaxPayload)} {
		for _, seq := range []uint64{0, 1, dht.MaxSeq} {
			data, _, err := dht.EncodeRecord(priv, seq, p, now)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	sk, _ := crypto.UnmarshalEd25519PrivateKey(priv)
	value, _ := path.NewPath(ipns.NoopValue)
	if plain, err := ipns.NewRecord(sk, value, 1, now.Add(time.Hour), time.Minute, ipns.WithV1Compatibility(false)); err == nil {
		data, _ := ipns.MarshalRecord(plain)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := dht.DecodeRecord(data, pid)
		if err != nil {
			if !errors.Is(err, dht.ErrInvalidRecord) {
				t.Fatalf("DecodeRecord error %v does not wrap ErrInvalidRecord", err)
			}
			return
		}
		if !rec.EOL.After(time.Now().Add(-time.Minute)) {
			t.Fatalf("DecodeRecord accepted a record that expired at %v", rec.EOL)
		}
		if len(rec.Payload) > ipns.MaxRecordSize {
			t.Fatalf("DecodeRecord returned a %d byte payload", len(rec.Payload))
		}
	})
}

// FuzzRecordRoundTrip checks that whatever Put accepts, Get decodes to the
// same sequence number and payload.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add(uint64(0), []byte(nil))
	f.Add(uint64(1), []byte("hello"))
	f.Add(uint64(dht.MaxSeq), make([]byte, dht.MaxPayload))
	_, priv := fixedKey(f)
	pid := peerOf(f, priv)
	f.Fuzz(func(t *testing.T, seq uint64, payload []byte) {
		data, _, err := dht.EncodeRecord(priv, seq, payload, time.Now())
		if err != nil {
			if seq <= dht.MaxSeq && len(payload) <= dht.MaxPayload {
				t.Fatalf("EncodeRecord(%d, %d bytes) = %v", seq, len(payload), err)
			}
			return
		}
		if seq > dht.MaxSeq || len(payload) > dht.MaxPayload {
			t.Fatalf("EncodeRecord(%d, %d bytes) accepted", seq, len(payload))
		}
		rec, err := dht.DecodeRecord(data, pid)
		if err != nil {
			t.Fatalf("DecodeRecord = %v", err)
		}
		if rec.Seq != seq || !bytes.Equal(rec.Payload, payload) {
			t.Fatalf("round trip = %d %x, want %d %x", rec.Seq, rec.Payload, seq, payload)
		}
	})
}
