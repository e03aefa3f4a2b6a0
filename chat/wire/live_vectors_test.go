package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The inputs of the live path's vectors (docs/PROTOCOL.md §17.6).
var (
	// vecAnnAddrs are /ip4/192.0.2.1/tcp/4001 and
	// /ip4/192.0.2.1/udp/4001/quic-v1 as binary multiaddrs (the live
	// package's tests parse them with go-multiaddr).
	vecAnnAddrs = []string{"04c000020106 0fa1", "04c00002019102 0fa1cd03"}
	vecAnnExp   = time.UnixMilli(1700003600000)
	vecAckN     = uint64(5)
)

func vecAddrs(t testing.TB) [][]byte {
	var out [][]byte
	for _, a := range vecAnnAddrs {
		out = append(out, mustHex(t, strings.ReplaceAll(a, " ", "")))
	}
	return out
}

// vecPeer returns the Ed25519 key of a live host in the vectors, from the
// seed start, start+1, …, start+31.
func vecPeer(start byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = start + byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// vecAnnouncement is Alice's announcement in the vectors.
func vecAnnouncement(t testing.TB) Announcement {
	return Announcement{Dir: FromLo, Expires: vecAnnExp, PeerKey: [32]byte(vecPeer(0xa0).Public().(ed25519.PublicKey)), Addrs: vecAddrs(t)}
}

// liveVectors computes the vectors of §17.6 for the chat keys k (Alice's).
func liveVectors(t *testing.T, k *Keys) map[string]string {
	x := hex.EncodeToString
	alicePeer, bobPeer := vecPeer(0xa0), vecPeer(0xc0)
	bobKey := [32]byte(bobPeer.Public().(ed25519.PublicKey))
	v := map[string]string{
		"live_ann_key_0":   x(k.liveAnn[0][:]),
		"live_ann_key_1":   x(k.liveAnn[1][:]),
		"live_hello_key_0": x(k.liveHello[0][:]),
		"live_hello_key_1": x(k.liveHello[1][:]),
		"ann_dir":          "0",
		"ann_expires_ms":   strconv.FormatInt(vecAnnExp.UnixMilli(), 10),
		"ann_peer_seed":    x(alicePeer.Seed()),
		"ann_peer_key":     x(alicePeer[32:]),
		"ann_peer_id":      ipnsName(alicePeer[32:]),
		"ann_addr_0":       x(vecAddrs(t)[0]),
		"ann_addr_1":       x(vecAddrs(t)[1]),
		"ann_nonce":        x(seqNonce(0x80)[:]),
		"bob_peer_seed":    x(bobPeer.Seed()),
		"bob_peer_key":     x(bobKey[:]),
	}
	sealed, err := k.sealAnnouncementWith(secretBox, FromLo, vecAnnouncement(t), seqNonce(0x80))
	if err != nil {
		t.Fatal(err)
	}
	v["ann_sealed"] = x(sealed)
	tag := k.HelloTag(FromLo, bobKey)
	v["hello_tag_0"] = x(tag[:])
	hello, err := AppendLiveFrame(nil, LiveFrame{Type: FrameHello, Tag: tag, Announcement: sealed})
	if err != nil {
		t.Fatal(err)
	}
	v["frame_hello_head"] = x(hello[:3])
	sum := sha256.Sum256(hello)
	v["frame_hello_sha256"] = x(sum[:])
	ack, err := AppendLiveFrame(nil, LiveFrame{Type: FrameAck, N: vecAckN})
	if err != nil {
		t.Fatal(err)
	}
	v["frame_ack_5"] = x(ack)
	maps.Copy(v, signalVectors(t, k))
	return v
}

// The live vectors open with the keys Bob derives.
func TestLiveVectorsOpen(t *testing.T) {
	v := readVectors(t, protocolDoc)
	k := bobsKeys(t, v)
	a, err := k.OpenAnnouncement(FromLo, mustHex(t, v["ann_sealed"]))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(a.PeerKey[:]) != v["ann_peer_key"] || a.Expires.UnixMilli() != vecAnnExp.UnixMilli() ||
		len(a.Addrs) != 2 || hex.EncodeToString(a.Addrs[1]) != v["ann_addr_1"] {
		t.Errorf("OpenAnnouncement(ann_sealed) = %+v, want the vector's", a)
	}
	var tag [HelloTagSize]byte
	copy(tag[:], mustHex(t, v["hello_tag_0"]))
	if !k.CheckHelloTag(FromLo, [32]byte(mustHex(t, v["bob_peer_key"])), tag) {
		t.Errorf("CheckHelloTag(hello_tag_0) = false")
	}
	f, err := DecodeLiveFrame(mustHex(t, v["frame_ack_5"])[LiveFramePrefixSize:])
	if err != nil || f.Type != FrameAck || f.N != vecAckN {
		t.Errorf("DecodeLiveFrame(frame_ack_5) = %+v, %v", f, err)
	}
}
