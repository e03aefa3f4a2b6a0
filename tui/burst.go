package tui

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Bursts. A terminal that does not bracket pastes (tmux paste-buffer
// without -p, many terminals over SSH, older ones) sends a multi-line
// paste as plain bytes, each line break a CR, exactly as if it were typed
// with Enter. Bubble Tea then delivers one key at a time, and the model
// would send a message per line without asking. So the terminal's input
// goes through an inputFilter first, which sees what arrived in one read:
// text of two or more lines there (a line break followed by more text,
// up to the first escape sequence or control key, if any) arrived faster
// than anyone types. The filter rewrites it into a bracketed paste,
// marked as a burst, and the model asks what it is (see paste.go):
// messages, one line each as if typed, or one message, or text for the
// draft. The pieces of one burst that arrive at once (a pty or a network
// cuts a paste in pieces) are read together, and one that does not fit in
// a read says that it continues, so that the model asks once. One line
// and its Enter in one read (fast typing over a slow link) is left alone:
// it just sends. Nothing read before the program is ready is a burst
// (see startGate): it is what the user typed while it started.
//
// WeeChat decides the same way (gui_key_get_paste_lines: the lines of one
// read of the terminal, asked about from two on).

const (
	pasteStart = "\x1b[200~"
	pasteEnd   = "\x1b[201~"
	// burstMark begins the content of a paste the filter made of a burst,
	// and burstMore that of a burst continuing the one just before (a
	// burst larger than one read). U+FDD0 and U+FDD1 are Unicode
	// noncharacters, reserved for a program's internal use: no text a
	// terminal sends holds them.
	burstMark = "\ufdd0"
	burstMore = "\ufdd1"
)

// filterOverhead is the most bytes the filter adds to what it read.
const filterOverhead = len(pasteStart) + len(burstMark) + len(pasteEnd)

// escState is where the input stands in the grammar of escape sequences:
// a burst can only begin between two sequences.
type escState uint8

const (
	escGround    escState = iota
	escEsc                // after ESC
	escCSI                // in a CSI sequence (ESC [)
	escSS3                // after ESC O
	escString             // in an OSC, DCS, APC, PM or SOS string
	escStringEsc          // an ESC in a string: the end (ST) if a backslash follows
)

// inputFilter rewrites the terminal's input, one read at a time: it makes
// bursts bracketed pastes, and turns back into CRs the LFs that the
// terminal, still in cooked mode, made of the Enters typed before the UI
// started. It keeps track of escape sequences and of the terminal's own
// bracketed pastes across reads, so that it never rewrites the inside of
// either, even when one is split between two reads.
type inputFilter struct {
	// early is the number of bytes still to come that the terminal
	// queued while it was cooked (see Terminal): ICRNL turned their CRs
	// into LFs.
	early int

	esc   escState
	csi   []byte // the parameter bytes of the CSI sequence being read
	paste bool   // inside a bracketed paste of the terminal
	ended int    // in a paste: how much of pasteEnd the bytes so far end with

	// continuing: the previous read ended in a burst that may go on in
	// the next (it filled the room it had).
	continuing bool
	// lastRead is when the previous read was filtered. now is the clock
	// (nil: time.Now).
	lastRead time.Time
	now      func() time.Time
	// carry is the start of a character that the end of the room cut in
	// two, held back from a burst to be read with its end.
	carry []byte
	out   []byte
}

// translateEarly rewrites, in b, the LFs of the bytes that were queued
// while the terminal was cooked into the CRs the user typed. It reports
// whether b held any such byte.
func (f *inputFilter) translateEarly(b []byte) bool {
	n := min(f.early, len(b))
	for i := range n {
		if b[i] == '\n' {
			b[i] = '\r'
		}
	}
	f.early -= n
	return n > 0
}

// isText reports whether b may be part of a burst: printable ASCII, a
// tab, a line break, or a byte of a multi-byte UTF-8 character.
func isText(b byte) bool {
	return b >= 0x20 && b != 0x7f || b == '\t' || b == '\r' || b == '\n'
}

// textPrefix returns the length of the text that data begins with (see
// isText; C1 controls and invalid UTF-8 end it), and whether what follows
// it is the start of a character cut off by the end of data.
func textPrefix(data []byte) (n int, cut bool) {
	for n < len(data) {
		b := data[n]
		if b < utf8.RuneSelf {
			if !isText(b) {
				return n, false
			}
			n++
			continue
		}
		r, size := utf8.DecodeRune(data[n:])
		if r == utf8.RuneError && size <= 1 {
			return n, !utf8.FullRune(data[n:])
		}
		if r >= 0x80 && r <= 0x9f {
			return n, false // a C1 control
		}
		n += size
	}
	return n, false
}

// hasLines reports whether text holds a line break followed by more text:
// two lines or more.
func hasLines(text []byte) bool {
	i := bytes.IndexAny(text, "\r\n")
	return i >= 0 && len(bytes.TrimLeft(text[i:], "\r\n")) > 0
}

// atBoundary reports whether the input stands between two events, outside
// any paste of the terminal: where a burst may begin.
func (f *inputFilter) atBoundary() bool { return f.esc == escGround && !f.paste }

// wantsMore reports whether data, all that was read so far, is a burst
// that more input arriving at once would continue: then the reader reads
// that too before it hands the burst on, so that a paste that the
// terminal, a pty or the network cut in pieces is asked about once.
// typing: data holds bytes typed before the program was ready, which are
// typing, never a burst.
func (f *inputFilter) wantsMore(data []byte, typing bool) bool {
	if typing || !f.atBoundary() {
		return false
	}
	n, _ := textPrefix(data)
	return n == len(data) && (f.continuing || hasLines(data))
}

// filter rewrites one read, data, for Bubble Tea. full: the read filled
// the room it had, so that the input may go on in the next one. typing:
// data holds bytes typed before the program was ready, never a burst. The
// result, valid until the next call, is at most filterOverhead bytes
// longer than data.
func (f *inputFilter) filter(data []byte, full, typing bool) []byte {
	f.expire()
	continuing := f.continuing
	f.continuing = false
	mark := ""
	n, cut := textPrefix(data)
	if !typing && f.atBoundary() {
		switch {
		case continuing && n > 0:
			mark = burstMore
		case hasLines(data[:n]):
			mark = burstMark
		}
	}
	if mark == "" {
		f.scan(data)
		return data
	}
	rest := data[n:]
	if cut && full {
		// The end of the room cut a character in two: keep its start for
		// the next read, where the rest of it is (the room was full, so
		// more is queued).
		f.carry = append(f.carry[:0], rest...)
		rest = nil
	}
	f.continuing = full && len(rest) == 0
	f.out = append(f.out[:0], pasteStart...)
	f.out = append(f.out, mark...)
	f.out = append(f.out, data[:n]...)
	f.out = append(f.out, pasteEnd...)
	f.out = append(f.out, rest...)
	f.scan(rest)
	return f.out
}

// escTimeout is how long Bubble Tea waits for the rest of an escape
// sequence before it takes what it has (uv.DefaultEscTimeout): a lone Esc
// key, typically.
const escTimeout = 50 * time.Millisecond

// expire does what Bubble Tea did meanwhile with a sequence that the
// previous read left unfinished: after escTimeout it took it as it was
// (the Esc key pressed alone), and the input is between events again.
// Without this, a paste after Esc would never be a burst.
func (f *inputFilter) expire() {
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	t := now()
	if f.esc != escGround && !f.lastRead.IsZero() && t.Sub(f.lastRead) >= escTimeout {
		f.esc = escGround
	}
	f.lastRead = t
}

// scan follows data through the grammar of escape sequences and the
// terminal's bracketed pastes.
func (f *inputFilter) scan(data []byte) {
	for _, b := range data {
		if f.paste {
			// Only the end marker ends a paste; it may be split.
			switch {
			case b == pasteEnd[f.ended]:
				f.ended++
				if f.ended == len(pasteEnd) {
					f.paste, f.ended = false, 0
				}
			case b == 0x1b:
				f.ended = 1
			default:
				f.ended = 0
			}
			continue
		}
		f.step(b)
	}
}

// step moves the escape-sequence state by one byte.
func (f *inputFilter) step(b byte) {
	switch f.esc {
	case escGround:
		if b == 0x1b {
			f.esc = escEsc
		}
	case escEsc:
		switch b {
		case '[':
			f.esc, f.csi = escCSI, f.csi[:0]
		case 'O':
			f.esc = escSS3
		case ']', 'P', '_', '^', 'X':
			f.esc = escString
		case 0x1b:
			// ESC ESC: Alt+Esc, or an Esc then a sequence.
		default:
			f.esc = escGround // Alt+key
		}
	case escCSI:
		switch {
		case b >= 0x40 && b <= 0x7e:
			if b == '~' && string(f.csi) == "200" {
				f.paste, f.ended = true, 0
			}
			f.esc = escGround
		case b == 0x1b:
			f.esc = escEsc
		case b == 0x18 || b == 0x1a: // CAN, SUB abort it
			f.esc = escGround
		case b >= 0x20 && b <= 0x3f:
			if len(f.csi) < 8 {
				f.csi = append(f.csi, b)
			}
		}
	case escSS3:
		f.esc = escGround
		if b == 0x1b {
			f.esc = escEsc
		}
	case escString:
		switch b {
		case 0x07, 0x18, 0x1a: // BEL ends it (xterm), CAN and SUB abort it
			f.esc = escGround
		case 0x1b:
			f.esc = escStringEsc
		}
	case escStringEsc:
		if b == '\\' {
			f.esc = escGround
			return
		}
		f.esc = escEsc
		f.step(b)
	}
}

// burstLinger is how long a reader waits for more of a burst after a
// read: the pieces of one paste come microseconds apart from a pty, a few
// milliseconds apart over a network; a person's next key comes later.
const burstLinger = 15 * time.Millisecond

// minRewrite is the least room a read must have for the filter to rewrite
// bursts in it.
const minRewrite = 64

// startGate tells the terminal's reader when the program is ready (its
// chat list is loaded, the chat the keys are for is open). Until then
// everything read is typing, Enter included, never a burst: keys typed
// while the program starts (the keyring decrypted, the database opened,
// the network joined) pile up in the terminal and arrive in one read, and
// are still each a key the user pressed in order, to be kept exactly. The
// bytes still queued when it becomes ready were typed before too.
type startGate struct {
	// queued, if not nil, returns the number of bytes the input holds
	// unread (nil: not a terminal, where a read takes what was written).
	queued func() int

	mu    sync.Mutex
	ready bool
	left  int // bytes queued when it became ready, not yet read: typing
	// settled: ready, and every byte queued then was read; from now on
	// nothing is typing by the gate's say.
	settled atomic.Bool
}

// open says that the program is ready: the bytes still queued are read
// as typing, and what comes after them may be a burst. Nil-safe; only the
// first call counts.
func (g *startGate) open() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ready {
		return
	}
	g.ready = true
	if g.queued != nil {
		g.left = g.queued()
	}
	g.settled.Store(g.left == 0)
}

// took accounts for n bytes just read, and reports whether they are
// typing. The caller holds g.mu.
func (g *startGate) took(n int) bool {
	switch {
	case !g.ready:
		return true
	case g.left > 0:
		g.left -= min(n, g.left)
		g.settled.Store(g.left == 0)
		return true
	}
	return false
}

// filteredReader is the terminal's input through an inputFilter.
type filteredReader struct {
	read func([]byte) (int, error)
	// readable reports whether input arrives within d; nil: never waits
	// (a reader that is not a terminal).
	readable func(d time.Duration) bool
	// gate, if not nil, says when the program is ready for bursts; until
	// then all is typing. Nil: bursts from the first byte (tests).
	gate *startGate
	f    inputFilter
	buf  []byte
}

// readOnce reads once into b, and reports whether what it read is typing
// that may not be a burst: typed while the terminal was cooked (its LFs
// made CRs again) or before the program was ready (see startGate).
func (r *filteredReader) readOnce(b []byte) (n int, typing bool, err error) {
	g := r.gate
	switch {
	case g == nil || g.settled.Load():
		n, err = r.read(b)
	case g.queued != nil && r.readable != nil && r.readable(0):
		// Input is waiting, so this read does not block: under the
		// lock, open counts exactly the bytes that this read leaves.
		g.mu.Lock()
		n, err = r.read(b)
		typing = g.took(n)
		g.mu.Unlock()
	default:
		// The read may wait for input: what it gets came after it
		// began, typed before open or after it as the gate says then.
		n, err = r.read(b)
		g.mu.Lock()
		typing = g.took(n)
		g.mu.Unlock()
	}
	typing = r.f.translateEarly(b[:n]) || typing
	return n, typing, err
}

// Read reads what the terminal has, and more while it is a burst that
// goes on arriving, and returns it rewritten. It returns nothing held
// back unless more input is already queued (a character cut in two by a
// full read), so a caller that waits for the terminal to be readable
// before it reads (Bubble Tea's cancel reader) never waits on bytes held
// here.
func (r *filteredReader) Read(p []byte) (int, error) {
	room := len(p) - filterOverhead
	if room < minRewrite {
		n, _, err := r.readOnce(p)
		r.f.expire()
		r.f.scan(p[:n])
		return n, err
	}
	if cap(r.buf) < room {
		r.buf = make([]byte, room)
	}
	buf := r.buf[:room]
	n := copy(buf, r.f.carry)
	r.f.carry = r.f.carry[:0]
	typing := r.f.early > 0
	var err error
	if n == 0 || r.readable != nil && r.readable(0) {
		var m int
		var t bool
		m, t, err = r.readOnce(buf[n:])
		typing = typing || t
		n += m
	}
	for err == nil && n < room && r.readable != nil && r.f.wantsMore(buf[:n], typing) && r.readable(burstLinger) {
		var m int
		var t bool
		m, t, err = r.readOnce(buf[n:])
		typing = typing || t
		n += m
	}
	if n == 0 {
		return 0, err
	}
	// Bytes first: Bubble Tea drops what comes with an error, and the
	// next read returns the error again.
	return copy(p, r.f.filter(buf[:n], n == room, typing)), nil
}
