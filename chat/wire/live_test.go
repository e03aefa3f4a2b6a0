package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestAnnouncementRoundTrip(t *testing.T) {
	k := testKeys(t)
	for _, a := range []Announcement{
		vecAnnouncement(t),
		{Dir: FromLo}, // none
		{Dir: FromLo, Expires: time.UnixMilli(1), PeerKey: [32]byte{1}}, // no addresses (relay-only with no relay yet)
		{Dir: FromLo, Expires: vecAnnExp, Flags: 0x80, PeerKey: [32]byte{9}, Addrs: fullAddrs()},
	} {
		s, err := k.SealAnnouncement(FromLo, a)
		if err != nil {
			t.Fatalf("SealAnnouncement(%+v): %v", a, err)
		}
		if len(s) != SealedAnnouncementSize {
			t.Errorf("SealAnnouncement: %d bytes, want %d", len(s), SealedAnnouncementSize)
		}
		got, err := k.OpenAnnouncement(FromLo, s)
		if err != nil {
			t.Fatalf("OpenAnnouncement(SealAnnouncement(%+v)): %v", a, err)
		}
		if !announcementEqual(got, a) {
			t.Errorf("OpenAnnouncement(SealAnnouncement(%+v)) = %+v", a, got)
		}
		if got.None() != a.None() {
			t.Errorf("None() = %v for %+v", got.None(), a)
		}
	}
}

// fullAddrs fills the address room exactly.
func fullAddrs() [][]byte {
	var out [][]byte
	room := annAddrRoom
	for range MaxAnnouncedAddrs - 1 {
		out = append(out, bytes.Repeat([]byte{7}, 50))
		room -= 51
	}
	return append(out, bytes.Repeat([]byte{8}, room-1))
}

func announcementEqual(a, b Announcement) bool {
	return a.Dir == b.Dir && a.Expires.Equal(b.Expires) && a.Flags == b.Flags && a.PeerKey == b.PeerKey &&
		slices.EqualFunc(a.Addrs, b.Addrs, bytes.Equal)
}

func TestSealAnnouncementRefuses(t *testing.T) {
	k := testKeys(t)
	ok := vecAnnouncement(t)
	for name, a := range map[string]Announcement{
		"wrong direction": {Dir: FromHi, Expires: vecAnnExp, PeerKey: ok.PeerKey},
		"none with key":   {Dir: FromLo, PeerKey: ok.PeerKey},
		"none with flags": {Dir: FromLo, Flags: 1},
		"no peer key":     {Dir: FromLo, Expires: vecAnnExp},
		"before 1970":     {Dir: FromLo, Expires: time.UnixMilli(-5), PeerKey: ok.PeerKey},
		"too many addrs":  {Dir: FromLo, Expires: vecAnnExp, PeerKey: ok.PeerKey, Addrs: slices.Repeat([][]byte{{4}}, MaxAnnouncedAddrs+1)},
		"empty addr":      {Dir: FromLo, Expires: vecAnnExp, PeerKey: ok.PeerKey, Addrs: [][]byte{{}}},
		"long addr":       {Dir: FromLo, Expires: vecAnnExp, PeerKey: ok.PeerKey, Addrs: [][]byte{make([]byte, 256)}},
		"addrs overflow":  {Dir: FromLo, Expires: vecAnnExp, PeerKey: ok.PeerKey, Addrs: append(fullAddrs()[1:], make([]byte, 52))},
	} {
		if _, err := k.SealAnnouncement(FromLo, a); err == nil {
			t.Errorf("SealAnnouncement(%s) = nil error", name)
		}
	}
}

// An announcement opens only under its own chat and direction, and any
// flipped byte makes it fail: nobody without the chat's keys can make or
// alter one.
func TestOpenAnnouncementRejects(t *testing.T) {
	k := testKeys(t)
	s, err := k.SealAnnouncement(FromLo, vecAnnouncement(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.OpenAnnouncement(FromHi, s); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenAnnouncement(other direction) = %v, want ErrDecrypt", err)
	}
	other := testKeysFor(t, aliceSecretHex, carolSecretHex, testChatID)
	if _, err := other.OpenAnnouncement(FromLo, s); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenAnnouncement(another pair) = %v, want ErrDecrypt", err)
	}
	// A message key does not open it either (separate keys per purpose).
	if _, err := k.Open(FromLo, s); err == nil {
		t.Errorf("Open(announcement) = nil error")
	}
	for i := range s {
		b := bytes.Clone(s)
		b[i] ^= 0x20
		if a, err := k.OpenAnnouncement(FromLo, b); err == nil || !announcementEqual(a, Announcement{}) {
			t.Fatalf("OpenAnnouncement with byte %d flipped = %+v, %v", i, a, err)
		}
	}
	for _, n := range []int{0, 1, SealedAnnouncementSize - 1} {
		if _, err := k.OpenAnnouncement(FromLo, s[:n]); !errors.Is(err, ErrTruncated) {
			t.Errorf("OpenAnnouncement(%d bytes) = %v, want ErrTruncated", n, err)
		}
	}
	if _, err := k.OpenAnnouncement(FromLo, append(bytes.Clone(s), 0)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("OpenAnnouncement(one byte more) = %v, want ErrTooLarge", err)
	}
}

// The parser behind the authenticator rejects every layout rule.
func TestOpenAnnouncementLayout(t *testing.T) {
	k := testKeys(t)
	var nonce [nonceSize]byte
	good := announcementPlaintext(vecAnnouncement(t))
	open := func(p []byte) error {
		_, err := k.openAnnouncement(plainBox, FromLo, append(append(nonce[:0:0], nonce[:]...), append(make([]byte, overhead), p...)...))
		return err
	}
	if err := open(good); err != nil {
		t.Fatalf("open(good) = %v", err)
	}
	var uv *UnknownVersionError
	for name, c := range map[string]struct {
		mut  func(p []byte)
		want error
	}{
		"type":            {func(p []byte) { p[0] = 0x83 }, nil},
		"dir":             {func(p []byte) { p[1] = 1 }, ErrWrongDirection},
		"negative expiry": {func(p []byte) { p[2] = 0x80 }, ErrMalformed},
		"none with key":   {func(p []byte) { binary.BigEndian.PutUint64(p[2:], 0) }, ErrMalformed},
		"no key":          {func(p []byte) { clear(p[11:43]) }, ErrMalformed},
		"count":           {func(p []byte) { p[43] = MaxAnnouncedAddrs + 1 }, ErrMalformed},
		"count too high":  {func(p []byte) { p[43] = 3 }, ErrMalformed},
		"zero addr len":   {func(p []byte) { p[44] = 0 }, ErrMalformed},
		"addr past end":   {func(p []byte) { p[43] = 2; p[44] = 255; p[annFixed+256] = 255 }, ErrMalformed},
		"padding":         {func(p []byte) { p[AnnouncementPlainSize-1] = 1 }, ErrMalformed},
	} {
		p := bytes.Clone(good)
		c.mut(p)
		err := open(p)
		if c.want == nil {
			if !errors.As(err, &uv) {
				t.Errorf("%s: %v, want UnknownVersionError", name, err)
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestAnnouncementExpiry(t *testing.T) {
	a := vecAnnouncement(t)
	if a.ExpiredAt(vecAnnExp.Add(-time.Millisecond)) {
		t.Errorf("expired a millisecond early")
	}
	if !a.ExpiredAt(vecAnnExp) {
		t.Errorf("not expired at its expiry")
	}
	if !(Announcement{}).ExpiredAt(time.UnixMilli(0)) {
		t.Errorf("none is not expired")
	}
}

// Hello tags differ per direction, per chat and per receiving host, and
// only the right one checks.
func TestHelloTag(t *testing.T) {
	k := testKeys(t)
	other := testKeysFor(t, aliceSecretHex, bobSecretHex, ChatID{1})
	r1, r2 := [32]byte{1}, [32]byte{2}
	tag := k.HelloTag(FromLo, r1)
	if !k.CheckHelloTag(FromLo, r1, tag) {
		t.Fatal("CheckHelloTag(own tag) = false")
	}
	for name, ok := range map[string]bool{
		"other direction": k.CheckHelloTag(FromHi, r1, tag),
		"other receiver":  k.CheckHelloTag(FromLo, r2, tag),
		"other chat":      other.CheckHelloTag(FromLo, r1, tag),
	} {
		if ok {
			t.Errorf("CheckHelloTag(%s) = true", name)
		}
	}
}

func TestFrameRoundTrip(t *testing.T) {
	k := testKeys(t)
	ann, err := k.SealAnnouncement(FromLo, vecAnnouncement(t))
	if err != nil {
		t.Fatal(err)
	}
	small := sealN(t, k, FromLo, 1, 1, 0)[0]
	big := sealN(t, k, FromLo, 1, 1, MaxBody)[0]
	for _, f := range []LiveFrame{
		{Type: FrameHello, Tag: [32]byte{3}, Announcement: ann},
		{Type: FrameMessage, Sealed: small},
		{Type: FrameMessage, Sealed: big},
		{Type: FrameAck},
		{Type: FrameAck, N: 1<<64 - 1},
		{Type: FramePing, N: 42},
		{Type: FramePong, N: 42},
	} {
		b, err := AppendLiveFrame([]byte("x"), f)
		if err != nil {
			t.Fatalf("AppendLiveFrame(%v): %v", f.Type, err)
		}
		b = b[1:]
		n, err := LiveFrameLen([2]byte(b))
		if err != nil || n != len(b)-LiveFramePrefixSize {
			t.Fatalf("LiveFrameLen(%v) = %d, %v; frame is %d bytes", f.Type, n, err, len(b))
		}
		got, err := DecodeLiveFrame(b[LiveFramePrefixSize:])
		if err != nil {
			t.Fatalf("DecodeLiveFrame(%v): %v", f.Type, err)
		}
		if got.Type != f.Type || got.Tag != f.Tag || got.N != f.N || !bytes.Equal(got.Sealed, f.Sealed) || !bytes.Equal(got.Announcement, f.Announcement) {
			t.Errorf("DecodeLiveFrame(AppendLiveFrame(%+v)) = %+v", f, got)
		}
	}
	if n, _ := LiveFrameLen([2]byte{0x20, 0x29}); n != MaxLiveFrameLen {
		t.Errorf("LiveFrameLen(8233) = %d", n)
	}
}

func TestFrameBounds(t *testing.T) {
	if _, err := LiveFrameLen([2]byte{0x20, 0x2a}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("LiveFrameLen(8234) = %v, want ErrTooLarge", err)
	}
	if _, err := LiveFrameLen([2]byte{0xff, 0xff}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("LiveFrameLen(65535) = %v, want ErrTooLarge", err)
	}
	if _, err := LiveFrameLen([2]byte{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("LiveFrameLen(0) = %v, want ErrMalformed", err)
	}
	for name, p := range map[string][]byte{
		"short hello":  append([]byte{byte(FrameHello)}, make([]byte, helloBodySize-1)...),
		"long hello":   append([]byte{byte(FrameHello)}, make([]byte, helloBodySize+1)...),
		"tiny message": append([]byte{byte(FrameMessage)}, make([]byte, minSealedSize-1)...),
		"short ack":    {byte(FrameAck), 0, 0, 0},
		"long ping":    append([]byte{byte(FramePing)}, make([]byte, 9)...),
	} {
		if _, err := DecodeLiveFrame(p); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeLiveFrame(%s) = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := DecodeLiveFrame(make([]byte, MaxLiveFrameLen+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("DecodeLiveFrame(too large) = %v", err)
	}
	if f, err := DecodeLiveFrame([]byte{0x7f, 1, 2, 3}); err != nil || f.Type != 0x7f {
		t.Errorf("DecodeLiveFrame(unknown type) = %+v, %v; want it skipped", f, err)
	}
	if _, err := AppendLiveFrame(nil, LiveFrame{Type: FrameMessage, Sealed: make([]byte, MaxSealedSize+1)}); err == nil {
		t.Errorf("AppendLiveFrame(oversized message) = nil error")
	}
	if _, err := AppendLiveFrame(nil, LiveFrame{Type: 0x7f}); err == nil {
		t.Errorf("AppendLiveFrame(unknown type) = nil error")
	}
}

// FuzzOpenAnnouncement reaches the announcement parser behind the
// authenticator and checks that what it accepts is canonical.
func FuzzOpenAnnouncement(f *testing.F) {
	k := testKeys(f)
	var nonce [nonceSize]byte
	for _, a := range []Announcement{vecAnnouncement(f), {Dir: FromLo}, {Dir: FromLo, Expires: vecAnnExp, PeerKey: [32]byte{1}, Addrs: fullAddrs()}} {
		s, err := k.sealAnnouncementWith(plainBox, FromLo, a, &nonce)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
	}
	real, err := k.SealAnnouncement(FromLo, vecAnnouncement(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Fuzz(func(t *testing.T, s []byte) {
		if a, err := k.OpenAnnouncement(FromLo, s); err != nil && !announcementEqual(a, Announcement{}) {
			t.Fatalf("OpenAnnouncement returned %+v with error %v", a, err)
		}
		a, err := k.openAnnouncement(plainBox, FromLo, s)
		if err != nil {
			if !announcementEqual(a, Announcement{}) {
				t.Fatalf("openAnnouncement returned %+v with error %v", a, err)
			}
			return
		}
		again, err := k.sealAnnouncementWith(plainBox, FromLo, a, (*[nonceSize]byte)(s))
		if err != nil || !bytes.Equal(again, s) {
			t.Fatalf("openAnnouncement accepted a non-canonical announcement: %v", err)
		}
	})
}

// FuzzDecodeLiveFrame checks the live frame parser: never a panic, a result that
// re-encodes to the input for every known type, bounded sizes.
func FuzzDecodeLiveFrame(f *testing.F) {
	k := testKeys(f)
	ann, err := k.SealAnnouncement(FromLo, vecAnnouncement(f))
	if err != nil {
		f.Fatal(err)
	}
	for _, fr := range []LiveFrame{
		{Type: FrameHello, Announcement: ann},
		{Type: FrameMessage, Sealed: sealN(f, k, FromLo, 1, 1, 10)[0]},
		{Type: FrameAck, N: 7},
		{Type: FramePing, N: 1},
		{Type: FrameTyping, Signal: make([]byte, SealedSignalSize)},
		{Type: FrameRead, Signal: make([]byte, SealedSignalSize)},
	} {
		b, err := AppendLiveFrame(nil, fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 2, 0x7f, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < LiveFramePrefixSize {
			return
		}
		n, err := LiveFrameLen([2]byte(b))
		if err != nil {
			return
		}
		if n < 1 || n > MaxLiveFrameLen {
			t.Fatalf("LiveFrameLen = %d", n)
		}
		p := b[LiveFramePrefixSize:]
		if len(p) > n {
			p = p[:n]
		}
		fr, err := DecodeLiveFrame(p)
		if err != nil {
			return
		}
		switch fr.Type {
		case FrameHello, FrameMessage, FrameAck, FramePing, FramePong, FrameTyping, FrameRead:
			again, err := AppendLiveFrame(nil, fr)
			if err != nil || !bytes.Equal(again[LiveFramePrefixSize:], p) {
				t.Fatalf("DecodeLiveFrame(%x) = %+v, which encodes to %x, %v", p, fr, again, err)
			}
		}
	})
}
