package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// countingReader counts what is read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzReadFrame feeds a stream's bytes to the frame reader: it never
// panics, never reads past the frame its prefix announces, refuses a
// prefix over the bound before reading on, and returns what wire decodes.
func FuzzReadFrame(f *testing.F) {
	k := newPair(f).keys
	ann, err := k.SealAnnouncement(wire.FromLo, wire.Announcement{Dir: wire.FromLo})
	if err != nil {
		f.Fatal(err)
	}
	for _, fr := range []wire.LiveFrame{
		{Type: wire.FrameHello, Announcement: ann},
		{Type: wire.FrameMessage, Sealed: seal(f, k, wire.FromLo, 1, "hello")},
		{Type: wire.FrameAck, N: 9},
		{Type: wire.FramePong, N: 1},
	} {
		f.Add(must(wire.AppendLiveFrame(nil, fr)))
	}
	f.Add([]byte{0xff, 0xff, 1, 2, 3})
	f.Add([]byte{0, 2, 0x7f, 0, 0, 9, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &countingReader{r: bytes.NewReader(b)}
		fr, err := readFrame(r, make([]byte, wire.MaxLiveFrameLen))
		if len(b) >= 2 {
			n := int(binary.BigEndian.Uint16(b))
			if n == 0 || n > wire.MaxLiveFrameLen {
				if !errors.Is(err, ErrProtocol) || r.n != 2 {
					t.Fatalf("prefix %d: read %d bytes, %v; want ErrProtocol after the prefix", n, r.n, err)
				}
				return
			}
			if r.n > 2+n {
				t.Fatalf("read %d bytes of a frame of %d", r.n, n)
			}
		}
		if err != nil {
			return
		}
		want, werr := wire.DecodeLiveFrame(b[2 : 2+int(binary.BigEndian.Uint16(b))])
		if werr != nil || want.Type != fr.Type || want.N != fr.N || !bytes.Equal(want.Sealed, fr.Sealed) {
			t.Fatalf("readFrame = %+v, DecodeLiveFrame = %+v, %v", fr, want, werr)
		}
	})
}
