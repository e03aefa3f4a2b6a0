package tui

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// wrapped is what the filter makes of a burst.
func wrapped(mark, s string) string { return pasteStart + mark + s + pasteEnd }

func TestInputFilterChunks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		early int
		in    []string // the reads, in order
		full  []bool   // which filled their room (default: none)
		want  []string // what each becomes
	}{
		{name: "one line and its enter: typing", in: []string{"one\r"}, want: []string{"one\r"}},
		{name: "keys", in: []string{"a", "b", "\r"}, want: []string{"a", "b", "\r"}},
		{name: "lines in one read: a burst", in: []string{"one\rtwo\rthree\r"}, want: []string{wrapped(burstMark, "one\rtwo\rthree\r")}},
		{name: "a line and the start of the next", in: []string{"one\rtw"}, want: []string{wrapped(burstMark, "one\rtw")}},
		{name: "LF and CRLF line breaks", in: []string{"a\nb", "a\r\nb"}, want: []string{wrapped(burstMark, "a\nb"), wrapped(burstMark, "a\r\nb")}},
		{name: "only line breaks after the text", in: []string{"one\r\r\r"}, want: []string{"one\r\r\r"}},
		{name: "unicode and tabs", in: []string{"ünï\tcode\r日本\r"}, want: []string{wrapped(burstMark, "ünï\tcode\r日本\r")}},
		{name: "a key after the text ends the burst", in: []string{"one\rtwo\r\x1b[A"}, want: []string{wrapped(burstMark, "one\rtwo\r") + "\x1b[A"}},
		{name: "ctrl+c after it", in: []string{"one\rtwo\x03"}, want: []string{wrapped(burstMark, "one\rtwo") + "\x03"}},
		{name: "a control key before the lines: typing", in: []string{"a\x7f\rb\rc"}, want: []string{"a\x7f\rb\rc"}},
		{name: "C1 control", in: []string{"a\u009b\rb\rc"}, want: []string{"a\u009b\rb\rc"}},
		{name: "invalid UTF-8", in: []string{"a\xff\rb\rc"}, want: []string{"a\xff\rb\rc"}},
		{name: "the terminal's bracketed paste is left alone",
			in:   []string{"\x1b[200~a\rb\rc\x1b[201~", "x\ry"},
			want: []string{"\x1b[200~a\rb\rc\x1b[201~", wrapped(burstMark, "x\ry")}},
		{name: "a bracketed paste split at its start marker",
			in:   []string{"\x1b[20", "0~a\rb\r", "c\rd\x1b[201~", "x\ry"},
			want: []string{"\x1b[20", "0~a\rb\r", "c\rd\x1b[201~", wrapped(burstMark, "x\ry")}},
		{name: "a bracketed paste split at its end marker",
			in:   []string{"\x1b[200~a\rb", "\r\x1b[20", "1~", "x\ry"},
			want: []string{"\x1b[200~a\rb", "\r\x1b[20", "1~", wrapped(burstMark, "x\ry")}},
		{name: "paste markers inside lines",
			in:   []string{"a\rb\x1b[200~p\rq\x1b[201~", "c\rd"},
			want: []string{wrapped(burstMark, "a\rb") + "\x1b[200~p\rq\x1b[201~", wrapped(burstMark, "c\rd")}},
		{name: "an escape sequence split before the lines",
			in:   []string{"\x1b[", "Aone\rtwo\r", "x\ry"},
			want: []string{"\x1b[", "Aone\rtwo\r", wrapped(burstMark, "x\ry")}},
		{name: "a terminal's answer (OSC) split in two",
			in:   []string{"\x1b]11;rgb:0000/", "0000/0000\x1b", "\\", "x\ry"},
			want: []string{"\x1b]11;rgb:0000/", "0000/0000\x1b", "\\", wrapped(burstMark, "x\ry")}},
		{name: "SS3 and alt keys", in: []string{"\x1bOP", "\x1ba", "x\ry"}, want: []string{"\x1bOP", "\x1ba", wrapped(burstMark, "x\ry")}},
		{name: "a burst larger than one read",
			in:   []string{"l1\rl2\rl", "3\rl4", "\r", "x"},
			full: []bool{true, true, false, false},
			want: []string{wrapped(burstMark, "l1\rl2\rl"), wrapped(burstMore, "3\rl4"), wrapped(burstMore, "\r"), "x"}},
		{name: "typed before the UI: enters back, never a burst",
			early: 10, in: []string{"abc\ndef\n", "g\nh\n"},
			want: []string{"abc\rdef\r", "g\rh\n"}},
		{name: "the end of what was typed before the UI, in a read",
			early: 4, in: []string{"ab\ncd\nef", "x\ry"},
			want: []string{"ab\rcd\nef", wrapped(burstMark, "x\ry")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One instant: no sequence times out between the reads.
			at := time.Unix(1000, 0)
			f := inputFilter{early: tc.early, now: func() time.Time { return at }}
			for i, in := range tc.in {
				b := []byte(in)
				early := f.translateEarly(b)
				full := i < len(tc.full) && tc.full[i]
				if got := string(f.filter(b, full, early)); got != tc.want[i] {
					t.Errorf("read %d: filter(%q) = %q, want %q", i, in, got, tc.want[i])
				}
			}
		})
	}
}

// TestInputFilterAfterEsc: Esc pressed alone leaves the input in the
// middle of what could be a sequence; Bubble Tea takes it as the Esc key
// after escTimeout, and so does the filter: lines that come later are a
// burst, lines that come at once are not (ESC a is Alt+a).
func TestInputFilterAfterEsc(t *testing.T) {
	now := time.Unix(1000, 0)
	f := inputFilter{now: func() time.Time { return now }}
	for _, step := range []struct {
		after    time.Duration
		in, want string
	}{
		{0, "\x1b", "\x1b"},
		{escTimeout, "a\rb", wrapped(burstMark, "a\rb")},
		{time.Second, "\x1b", "\x1b"},
		{time.Millisecond, "a\rb", "a\rb"},
		{time.Second, "\x1b[", "\x1b["},
		{time.Second, "c\rd", wrapped(burstMark, "c\rd")},
	} {
		now = now.Add(step.after)
		if got := string(f.filter([]byte(step.in), false, false)); got != step.want {
			t.Errorf("%v later: filter(%q) = %q, want %q", step.after, step.in, got, step.want)
		}
	}
	// Inside the terminal's own paste, no timeout ends it.
	f.filter([]byte("\x1b[200~a"), false, false)
	now = now.Add(time.Minute)
	if got := string(f.filter([]byte("\rb\rc"), false, false)); got != "\rb\rc" {
		t.Errorf("in a paste, a minute later: %q", got)
	}
}

// chunkReader reads its chunks one per Read; readable reports whether a
// chunk is left.
type chunkReader struct {
	chunks []string
	err    error
	waits  int
}

func (c *chunkReader) read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; c.chunks[0] == "" {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *chunkReader) readable(time.Duration) bool {
	c.waits++
	return len(c.chunks) > 0
}

func readAll(t *testing.T, r *filteredReader, size int) []string {
	t.Helper()
	var out []string
	p := make([]byte, size)
	for range 100 {
		n, err := r.Read(p)
		if n > 0 {
			out = append(out, string(p[:n]))
		}
		if err != nil {
			return out
		}
	}
	t.Fatal("the reader does not end")
	return nil
}

// TestFilteredReaderGathersABurst: the pieces of a burst that arrive at
// once are read into one paste; a key that follows later is not.
func TestFilteredReaderGathersABurst(t *testing.T) {
	c := &chunkReader{chunks: []string{"one\rtwo\r", "three\r", "four\rfi", "ve\r"}}
	r := &filteredReader{read: c.read, readable: c.readable}
	got := readAll(t, r, 4096)
	want := []string{wrapped(burstMark, "one\rtwo\rthree\rfour\rfive\r")}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("reads = %q, want %q", got, want)
	}
	// Not a burst: no waiting for more.
	c = &chunkReader{chunks: []string{"one\r", "two\rthree\r"}}
	r = &filteredReader{read: c.read, readable: c.readable}
	if got := readAll(t, r, 4096); len(got) != 2 || got[0] != "one\r" || got[1] != wrapped(burstMark, "two\rthree\r") {
		t.Errorf("reads = %q", got)
	}
}

// TestFilteredReaderSmallRoom: a burst larger than the room of one read
// goes in pieces that say they continue it, and a character cut by the end
// of the room is kept whole.
func TestFilteredReaderSmallRoom(t *testing.T) {
	text := strings.Repeat("ab\r", 30) + "日本語\r" + strings.Repeat("cd\r", 30)
	c := &chunkReader{chunks: []string{text}}
	r := &filteredReader{read: c.read, readable: c.readable}
	got := readAll(t, r, minRewrite+filterOverhead)
	if len(got) < 3 {
		t.Fatalf("reads = %q, want several", got)
	}
	var back strings.Builder
	for i, g := range got {
		mark := burstMore
		if i == 0 {
			mark = burstMark
		}
		inner, ok := strings.CutPrefix(g, pasteStart+mark)
		if inner, ok2 := strings.CutSuffix(inner, pasteEnd); ok && ok2 {
			back.WriteString(inner)
			continue
		}
		t.Fatalf("read %d = %q, not a piece of the burst", i, g)
	}
	if back.String() != text {
		t.Errorf("the pieces make %q, want %q", back.String(), text)
	}
	// Too small to rewrite: as it is.
	c = &chunkReader{chunks: []string{"a\rb\rc"}}
	r = &filteredReader{read: c.read, readable: c.readable, f: inputFilter{early: 2}}
	if got := readAll(t, r, 16); strings.Join(got, "") != "a\rb\rc" {
		t.Errorf("a small read gives %q", got)
	}
}

// TestFilteredReaderErrors: bytes that come with an error are returned
// first, and the error at the next read (Bubble Tea drops the bytes of a
// read that fails).
func TestFilteredReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	r := &filteredReader{read: func(p []byte) (int, error) { return copy(p, "x\ry"), boom }}
	p := make([]byte, 4096)
	n, err := r.Read(p)
	if err != nil || string(p[:n]) != wrapped(burstMark, "x\ry") {
		t.Errorf("Read = %q, %v; want the burst and no error", p[:n], err)
	}
	r.read = func([]byte) (int, error) { return 0, boom }
	if _, err := r.Read(p); !errors.Is(err, boom) {
		t.Errorf("the next Read = %v, want boom", err)
	}
}

// FuzzInputFilter: whatever the input and however it is cut into reads,
// the filter never panics, never grows a read by more than
// filterOverhead, and only ever adds its own markers: without them, the
// output is the input.
func FuzzInputFilter(f *testing.F) {
	f.Add([]byte("one\rtwo\rthree\r"), []byte{3, 9}, 4)
	f.Add([]byte("\x1b[200~a\rb\x1b[201~c\rd"), []byte{4, 12}, 0)
	f.Add([]byte("\x1b]11;rgb:0/0/0\x1b\\x\ry\xe6\x97\xa5"), []byte{2, 15, 16}, 2)
	f.Fuzz(func(t *testing.T, in, cuts []byte, early int) {
		if bytes.Contains(in, []byte(burstMark)) || bytes.Contains(in, []byte(burstMore)) {
			t.Skip() // the input holds the filter's own marks
		}
		early = max(early, 0) % 64
		// As filteredReader does: each read is the carry, then new bytes.
		fl := inputFilter{early: early}
		var out []byte
		pending := in
		for i := 0; len(pending) > 0 || len(fl.carry) > 0; i++ {
			n := len(pending)
			if i < len(cuts) {
				n = min(int(cuts[i])%8+1, n)
			}
			fresh := bytes.Clone(pending[:n])
			pending = pending[n:]
			e := fl.early > 0
			e = fl.translateEarly(fresh) || e
			b := append(bytes.Clone(fl.carry), fresh...)
			fl.carry = fl.carry[:0]
			o := fl.filter(b, i%3 == 0, e)
			if len(o) > len(b)+filterOverhead {
				t.Fatalf("a read of %d bytes became %d", len(b), len(o))
			}
			out = append(out, o...)
		}
		for _, m := range []string{pasteStart + burstMark, pasteStart + burstMore} {
			for {
				i := bytes.Index(out, []byte(m))
				if i < 0 {
					break
				}
				j := bytes.Index(out[i:], []byte(pasteEnd))
				out = append(out[:i+j], out[i+j+len(pasteEnd):]...)
				out = append(out[:i], out[i+len(m):]...)
			}
		}
		want := bytes.Clone(in)
		for i := range min(early, len(want)) {
			if want[i] == '\n' {
				want[i] = '\r'
			}
		}
		if !bytes.Equal(out, want) {
			t.Errorf("without the markers, the output is %q, want %q", out, want)
		}
	})
}
