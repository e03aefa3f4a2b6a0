// Package textsafe makes text from the network safe to show on a terminal.
//
// A friend's message is untrusted input that ends up on your screen. A
// terminal obeys escape sequences: CSI moves the cursor and erases lines,
// OSC sets the window title or, with OSC 52, writes your clipboard; C1
// controls are 8-bit forms of the same. Clean removes all of them, so that
// what a friend sends is only ever text.
package textsafe

import (
	"strings"
	"unicode/utf8"
)

// Clean returns s with every terminal control removed: escape sequences
// (CSI, OSC, DCS, SOS, PM, APC and two-byte ESC sequences) as a whole, C0
// controls except newline and tab, DEL, C1 controls, and the Unicode
// bidirectional overrides and isolates that can make text display in
// another order than it reads. Carriage returns become newlines; invalid
// UTF-8 becomes U+FFFD. Text without controls is returned unchanged.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
			i += max(size, 1)
			continue
		case r == 0x1b: // ESC
			i = skipEscape(s, i+1)
			continue
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i = skipString(s, i+size)
			continue
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++ // CRLF: keep the LF only
				continue
			}
			b.WriteByte('\n')
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unsafeRune(r):
			// dropped
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// OneLine is Clean, with newlines and tabs shown as spaces: for places that
// have room for one line only.
func OneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\t", " ").Replace(Clean(s))
}

func isClean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || r == '\r' || r == 0x1b || (r != '\n' && r != '\t' && unsafeRune(r)) {
			return false
		}
		i += size
	}
	return true
}

// IsControl reports whether Clean removes r: a control character (other
// than newline and tab) or a bidirectional formatting character.
func IsControl(r rune) bool {
	return r != '\n' && r != '\t' && unsafeRune(r)
}

// unsafeRune reports whether r is a control character or a bidirectional
// formatting character.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// skipEscape returns the index after the escape sequence whose ESC ended at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// ESC followed by intermediate bytes (0x20–0x2f) then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI returns the index after a control sequence whose introducer ended
// at i: parameter and intermediate bytes, then a final byte.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString returns the index after a control string (OSC, DCS, …) whose
// introducer ended at i: up to BEL, ST (ESC \) or C1 ST, or the end.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == 0x1b:
			return i // a new escape starts; let the caller handle it
		}
		if r, size := utf8.DecodeRuneInString(s[i:]); r == 0x9c {
			return i + size
		} else {
			i += size
		}
	}
	return i
}
