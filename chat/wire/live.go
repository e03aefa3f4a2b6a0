package wire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// The live path (docs/PROTOCOL.md §17): when both parties run, their
// clients talk over a direct libp2p stream. Each party tells the other
// where its live host can be reached in a sealed announcement, carried
// beside the slot payload in its slot 0 record and again in the first
// frame of every live stream. On the stream flow the same sealed messages
// as in the slot records, and acks.

// LiveProtocolID is the libp2p protocol of the live stream.
const LiveProtocolID = "/dhtchat/live/1"

const (
	annType = 0x82 // live announcement, version 1 (0x81 is the slot header)
	// AnnouncementPlainSize is the fixed size of an announcement's
	// plaintext: every announcement, even "none", has it, so that its
	// length reveals nothing.
	AnnouncementPlainSize = 512
	// SealedAnnouncementSize is the size of a sealed announcement: what a
	// slot 0 record carries under the metadata key "_l" and a hello frame
	// after its tag.
	SealedAnnouncementSize = nonceSize + overhead + AnnouncementPlainSize // 552
	// MaxAnnouncedAddrs is the most addresses one announcement holds.
	MaxAnnouncedAddrs = 8
	// annFixed is the part of the plaintext before the addresses: type,
	// dir, expires_at, flags, peer_key, addr_count.
	annFixed = 1 + 1 + 8 + 1 + 32 + 1
	// AnnouncementAddrRoom is the room for an announcement's address list:
	// the addresses and a length byte before each.
	AnnouncementAddrRoom = AnnouncementPlainSize - annFixed // 468
	annAddrRoom          = AnnouncementAddrRoom
)

// Announcement is where a party's live host can be reached: what its
// friend needs to open a live stream to it, and what the friend checks
// the stream's remote peer against. It is sealed under the chat's keys,
// so only the friend can read it.
type Announcement struct {
	// Dir is the announcing party's direction (the one it writes).
	Dir Direction
	// Expires is when the announcement stops being valid, with
	// millisecond precision. The zero time means "no announcement": the
	// party is not on the live path (then PeerKey is zero and Addrs
	// empty).
	Expires time.Time
	// Flags are reserved for optional features; a writer of this version
	// sets 0 and a reader ignores the bits it does not know.
	Flags uint8
	// PeerKey is the Ed25519 public key of the live host's libp2p
	// identity: its peer ID is the identity multihash of the key's
	// protobuf encoding (the same construction as a slot's IPNS name).
	PeerKey [32]byte
	// Addrs are the host's dialable addresses as binary multiaddrs
	// (without the /p2p/<peer id> suffix; relay circuit addresses keep
	// the relay's), at most MaxAnnouncedAddrs of 1 to 255 bytes each,
	// 468 bytes in all with their length bytes.
	Addrs [][]byte
}

// None reports whether a is the "no announcement" value: not on the live
// path.
func (a Announcement) None() bool { return a.Expires.IsZero() }

// ExpiredAt reports whether a is no longer valid at now (the reader's
// clock). A "none" announcement is always expired.
func (a Announcement) ExpiredAt(now time.Time) bool {
	return a.None() || !now.Before(a.Expires)
}

// check returns an error unless a can be encoded for direction d.
func (a Announcement) check(d Direction) error {
	if !d.valid() {
		return errDirection(d)
	}
	if a.Dir != d {
		return fmt.Errorf("wire: announcement of direction %v sealed for %v", a.Dir, d)
	}
	if a.None() {
		if a.PeerKey != ([32]byte{}) || len(a.Addrs) > 0 || a.Flags != 0 {
			return fmt.Errorf("wire: a \"none\" announcement (zero expiry) carries a peer key, addresses or flags")
		}
		return nil
	}
	if a.Expires.UnixMilli() <= 0 {
		return fmt.Errorf("wire: announcement expiry %v is not after 1970", a.Expires)
	}
	if a.PeerKey == ([32]byte{}) {
		return fmt.Errorf("wire: announcement without a peer key")
	}
	if len(a.Addrs) > MaxAnnouncedAddrs {
		return fmt.Errorf("wire: announcement of %d addresses, at most %d", len(a.Addrs), MaxAnnouncedAddrs)
	}
	room := annAddrRoom
	for i, addr := range a.Addrs {
		if len(addr) < 1 || len(addr) > 255 {
			return fmt.Errorf("wire: announced address %d is %d bytes, want 1 to 255", i, len(addr))
		}
		room -= 1 + len(addr)
	}
	if room < 0 {
		return fmt.Errorf("wire: announced addresses take %d bytes, at most %d fit", annAddrRoom-room, annAddrRoom)
	}
	return nil
}

// announcementPlaintext lays out a's plaintext, unchecked.
//
//	plain = type 0x82 | dir | expires_at i64 ms | flags | peer_key(32) | addr_count | (u8 len | addr)* | zeros to 512
func announcementPlaintext(a Announcement) []byte {
	p := make([]byte, 0, AnnouncementPlainSize)
	p = append(p, annType, byte(a.Dir))
	var ms int64
	if !a.None() {
		ms = a.Expires.UnixMilli()
	}
	p = binary.BigEndian.AppendUint64(p, uint64(ms))
	p = append(p, a.Flags)
	p = append(p, a.PeerKey[:]...)
	p = append(p, byte(len(a.Addrs)))
	for _, addr := range a.Addrs {
		p = append(p, byte(len(addr)))
		p = append(p, addr...)
	}
	return append(p, make([]byte, AnnouncementPlainSize-len(p))...)
}

// SealAnnouncement seals announcement a of direction d under d's live
// announcement key with a fresh random nonce:
//
//	sealed = nonce(24) || secretbox(plain(512), nonce, live_ann_key[d])
//
// The result is always SealedAnnouncementSize bytes.
func (k *Keys) SealAnnouncement(d Direction, a Announcement) ([]byte, error) {
	var nonce [nonceSize]byte
	rand.Read(nonce[:]) // never fails (crypto/rand, Go 1.24+)
	return k.sealAnnouncementWith(secretBox, d, a, &nonce)
}

func (k *Keys) sealAnnouncementWith(b box, d Direction, a Announcement, nonce *[nonceSize]byte) ([]byte, error) {
	if err := a.check(d); err != nil {
		return nil, err
	}
	out := make([]byte, 0, SealedAnnouncementSize)
	out = append(out, nonce[:]...)
	return b.seal(out, announcementPlaintext(a), nonce, &k.liveAnn[d]), nil
}

// OpenAnnouncement opens an announcement sealed for direction d (the
// direction the caller reads) and checks its layout. It does not look at
// the clock: the caller decides with [Announcement.ExpiredAt] whether it
// is still valid. It returns a typed error and a zero Announcement for
// anything SealAnnouncement would not produce.
func (k *Keys) OpenAnnouncement(d Direction, sealed []byte) (Announcement, error) {
	return k.openAnnouncement(secretBox, d, sealed)
}

func (k *Keys) openAnnouncement(b box, d Direction, sealed []byte) (Announcement, error) {
	if !d.valid() {
		return Announcement{}, errDirection(d)
	}
	switch {
	case len(sealed) < SealedAnnouncementSize:
		return Announcement{}, fmt.Errorf("%w: announcement of %d bytes, want %d", ErrTruncated, len(sealed), SealedAnnouncementSize)
	case len(sealed) > SealedAnnouncementSize:
		return Announcement{}, fmt.Errorf("%w: announcement of %d bytes, want %d", ErrTooLarge, len(sealed), SealedAnnouncementSize)
	}
	nonce := [nonceSize]byte(sealed[:nonceSize])
	p, ok := b.open(nil, sealed[nonceSize:], &nonce, &k.liveAnn[d])
	if !ok {
		return Announcement{}, fmt.Errorf("%w: announcement", ErrDecrypt)
	}
	if len(p) != AnnouncementPlainSize {
		return Announcement{}, fmt.Errorf("%w: announcement plaintext of %d bytes", ErrMalformed, len(p))
	}
	if p[0] != annType {
		return Announcement{}, &UnknownVersionError{What: "live announcement", Version: p[0]}
	}
	if Direction(p[1]) != d {
		return Announcement{}, fmt.Errorf("%w: announcement of direction %d, expected %v", ErrWrongDirection, p[1], d)
	}
	ms := int64(binary.BigEndian.Uint64(p[2:]))
	a := Announcement{Dir: d, Flags: p[10], PeerKey: [32]byte(p[11:43])}
	count := int(p[43])
	switch {
	case ms < 0:
		return Announcement{}, fmt.Errorf("%w: announcement expiry %d", ErrMalformed, ms)
	case ms == 0 && (a.PeerKey != [32]byte{} || count != 0 || a.Flags != 0):
		return Announcement{}, fmt.Errorf("%w: a \"none\" announcement with content", ErrMalformed)
	case ms > 0 && a.PeerKey == [32]byte{}:
		return Announcement{}, fmt.Errorf("%w: announcement without a peer key", ErrMalformed)
	case count > MaxAnnouncedAddrs:
		return Announcement{}, fmt.Errorf("%w: announcement of %d addresses, at most %d", ErrMalformed, count, MaxAnnouncedAddrs)
	}
	if ms > 0 {
		a.Expires = time.UnixMilli(ms)
	}
	rest := p[annFixed:]
	for i := range count {
		if len(rest) < 1 || rest[0] == 0 || int(rest[0]) > len(rest)-1 {
			return Announcement{}, fmt.Errorf("%w: announced address %d", ErrMalformed, i)
		}
		n := int(rest[0])
		a.Addrs = append(a.Addrs, append([]byte(nil), rest[1:1+n]...))
		rest = rest[1+n:]
	}
	if !allZero(rest) {
		return Announcement{}, fmt.Errorf("%w: non-zero padding after %d addresses", ErrMalformed, count)
	}
	return a, nil
}

// HelloTagSize is the size of a hello's tag.
const HelloTagSize = sha256.Size

// HelloTag returns the tag that the party writing direction d puts in the
// hello it sends to the live host with Ed25519 key receiver:
//
//	tag = HMAC-SHA256(live_hello_key[d], receiver_peer_key)
//
// It tells the receiver which of its chats the stream is for without
// naming the chat: only the two parties can compute it, and it differs
// for every receiving host, so a receiver cannot replay it to another.
func (k *Keys) HelloTag(d Direction, receiver [32]byte) [HelloTagSize]byte {
	if !d.valid() {
		panic(fmt.Sprintf("wire: hello tag: invalid direction %d", uint8(d)))
	}
	m := hmac.New(sha256.New, k.liveHello[d][:])
	m.Write(receiver[:])
	return [HelloTagSize]byte(m.Sum(nil))
}

// CheckHelloTag reports, in constant time, whether tag is the hello tag of
// direction d for receiver.
func (k *Keys) CheckHelloTag(d Direction, receiver [32]byte, tag [HelloTagSize]byte) bool {
	want := k.HelloTag(d, receiver)
	return hmac.Equal(want[:], tag[:])
}

// LiveFrameType is the type byte of a live stream frame.
type LiveFrameType uint8

// The frame types of /dhtchat/live/1. A reader skips a frame of any other
// type (optional features that a newer client may send).
const (
	FrameHello   LiveFrameType = 0x01 // tag(32) || sealed announcement(552), first frame of each side
	FrameMessage LiveFrameType = 0x02 // one sealed message, exactly as a slot carries it
	FrameAck     LiveFrameType = 0x03 // u64: every message 1…n of the other direction received
	FramePing    LiveFrameType = 0x04 // u64 nonce, answered by a pong with the same nonce
	FramePong    LiveFrameType = 0x05 // u64: the nonce of the ping it answers
)

const (
	// LiveFramePrefixSize is the size of a frame's length prefix.
	LiveFramePrefixSize = 2
	// MaxLiveFrameLen is the largest value of a frame's length prefix (its
	// type byte and body): a frame carrying the largest sealed message.
	MaxLiveFrameLen = 1 + MaxSealedSize                     // 8233
	helloBodySize   = HelloTagSize + SealedAnnouncementSize // 584
)

// LiveFrame is one decoded frame of a live stream.
//
//	frame = u16 len | type(1) | body(len-1),   1 ≤ len ≤ MaxLiveFrameLen
type LiveFrame struct {
	Type LiveFrameType
	// Tag and Announcement are a FrameHello's body: the hello tag and the
	// sender's sealed announcement (not yet opened).
	Tag          [HelloTagSize]byte
	Announcement []byte
	// Sealed is a FrameMessage's sealed message (not yet opened: open it
	// with [Keys.Open] for the direction the caller reads).
	Sealed []byte
	// N is a FrameAck's ack, or a ping's or pong's nonce.
	N uint64
	// Signal is a FrameTyping's or FrameRead's sealed signal (not yet
	// opened: open it with [Keys.OpenSignal]).
	Signal []byte
}

// LiveFrameLen checks the length prefix of a frame and returns the number of
// bytes that follow it (type and body). A reader checks it before it
// reads or allocates anything more.
func LiveFrameLen(prefix [LiveFramePrefixSize]byte) (int, error) {
	n := int(binary.BigEndian.Uint16(prefix[:]))
	switch {
	case n == 0:
		return 0, fmt.Errorf("%w: frame of length 0", ErrMalformed)
	case n > MaxLiveFrameLen:
		return 0, fmt.Errorf("%w: frame of %d bytes, at most %d", ErrTooLarge, n, MaxLiveFrameLen)
	}
	return n, nil
}

// AppendLiveFrame appends f, length prefix first, to out. It checks the body
// sizes as DecodeLiveFrame does (not that a hello's announcement or a sealed
// message opens).
func AppendLiveFrame(out []byte, f LiveFrame) ([]byte, error) {
	var body []byte
	switch f.Type {
	case FrameHello:
		if len(f.Announcement) != SealedAnnouncementSize {
			return nil, fmt.Errorf("wire: hello with an announcement of %d bytes, want %d", len(f.Announcement), SealedAnnouncementSize)
		}
		body = append(append(make([]byte, 0, helloBodySize), f.Tag[:]...), f.Announcement...)
	case FrameMessage:
		if len(f.Sealed) < minSealedSize || len(f.Sealed) > MaxSealedSize {
			return nil, fmt.Errorf("wire: frame with a sealed message of %d bytes, not a sealed message", len(f.Sealed))
		}
		body = f.Sealed
	case FrameAck, FramePing, FramePong:
		body = binary.BigEndian.AppendUint64(nil, f.N)
	case FrameTyping, FrameRead:
		if len(f.Signal) != SealedSignalSize {
			return nil, fmt.Errorf("wire: frame with a sealed signal of %d bytes, want %d", len(f.Signal), SealedSignalSize)
		}
		body = f.Signal
	default:
		return nil, fmt.Errorf("wire: unknown frame type %#02x", uint8(f.Type))
	}
	out = binary.BigEndian.AppendUint16(out, uint16(1+len(body)))
	out = append(out, byte(f.Type))
	return append(out, body...), nil
}

// DecodeLiveFrame decodes the type and body of one frame, p: the LiveFrameLen
// bytes after its prefix. A frame of an unknown type decodes to a LiveFrame
// with only Type set, which the reader skips. A known type with a body of
// the wrong size is an error (ErrMalformed), after which the reader closes
// the stream. The result does not alias p.
func DecodeLiveFrame(p []byte) (LiveFrame, error) {
	switch {
	case len(p) == 0:
		return LiveFrame{}, fmt.Errorf("%w: empty frame", ErrTruncated)
	case len(p) > MaxLiveFrameLen:
		return LiveFrame{}, fmt.Errorf("%w: frame of %d bytes, at most %d", ErrTooLarge, len(p), MaxLiveFrameLen)
	}
	f := LiveFrame{Type: LiveFrameType(p[0])}
	body := p[1:]
	switch f.Type {
	case FrameHello:
		if len(body) != helloBodySize {
			return LiveFrame{}, fmt.Errorf("%w: hello of %d bytes, want %d", ErrMalformed, len(body), helloBodySize)
		}
		f.Tag = [HelloTagSize]byte(body)
		f.Announcement = append([]byte(nil), body[HelloTagSize:]...)
	case FrameMessage:
		if len(body) < minSealedSize || len(body) > MaxSealedSize {
			return LiveFrame{}, fmt.Errorf("%w: message frame of %d bytes", ErrMalformed, len(body))
		}
		f.Sealed = append([]byte(nil), body...)
	case FrameAck, FramePing, FramePong:
		if len(body) != 8 {
			return LiveFrame{}, fmt.Errorf("%w: frame %#02x of %d bytes, want 8", ErrMalformed, uint8(f.Type), len(body))
		}
		f.N = binary.BigEndian.Uint64(body)
	case FrameTyping, FrameRead:
		if len(body) != SealedSignalSize {
			return LiveFrame{}, fmt.Errorf("%w: signal frame %#02x of %d bytes, want %d", ErrMalformed, uint8(f.Type), len(body), SealedSignalSize)
		}
		f.Signal = append([]byte(nil), body...)
	}
	return f, nil
}
