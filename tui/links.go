package tui

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Wrapping that keeps words whole, and links. ansi.Wrap breaks at every
// hyphen, which cuts URLs and keys ("dhtchat-chat1…") in two where they
// would fit on the next row. wrapLine breaks only at spaces: a word goes
// to the next row whole, and only a word wider than a whole row is cut,
// from the start of a row. A URL is an OSC 8 hyperlink, so terminals make
// it clickable; one cut over rows is a link on each of them, to the whole
// URL, with one id, so the terminal shows them as one link.

// urlRe matches a URL in text (textsafe cleaned: no controls).
var urlRe = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"\x00-\x1f\x7f]+`)

// trimURL takes off a URL's end what is more likely the sentence's:
// closing punctuation, and a ")" the URL did not open.
func trimURL(u string) string {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"]}", c) >= 0:
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

// seg is a piece of a row: text, linked to url if that is not "".
type seg struct{ text, url string }

// linkSegs splits a word into its pieces of text and of URL.
func linkSegs(w string) []seg {
	var out []seg
	for w != "" {
		loc := urlRe.FindStringIndex(w)
		if loc == nil {
			break
		}
		u := trimURL(w[loc[0]:loc[1]])
		if loc[0] > 0 {
			out = append(out, seg{text: w[:loc[0]]})
		}
		out = append(out, seg{text: u, url: u})
		w = w[loc[0]+len(u):]
	}
	if w != "" {
		out = append(out, seg{text: w})
	}
	return out
}

// hasURL reports whether s holds a URL.
func hasURL(s string) bool { return urlRe.MatchString(s) }

// wrapLine wraps one line (no line breaks) of plain text to width cells,
// breaking at spaces only, and makes its URLs links.
func wrapLine(line string, width int) []string {
	width = max(width, 1)
	var rows [][]seg
	var cur []seg
	curW := 0
	rest := line
	first := true
	for rest != "" {
		// A run of spaces, then a word.
		n := len(rest) - len(strings.TrimLeft(rest, " "))
		sep := rest[:n]
		rest = rest[n:]
		n = strings.IndexByte(rest, ' ')
		if n < 0 {
			n = len(rest)
		}
		word := rest[:n]
		rest = rest[n:]
		if word == "" {
			// Spaces at the end: kept, if they fit.
			if curW+len(sep) <= width {
				cur = append(cur, seg{text: sep})
				curW += len(sep)
			}
			break
		}
		ww := ansi.StringWidth(word)
		if (curW > 0 || first) && curW+len(sep)+ww <= width {
			cur = append(cur, seg{text: sep})
			cur = append(cur, linkSegs(word)...)
			curW += len(sep) + ww
			first = false
			continue
		}
		first = false
		if curW > 0 {
			rows = append(rows, cur)
			cur, curW = nil, 0
		}
		segs := linkSegs(word)
		for ww > width {
			var head []seg
			var hw int
			head, segs, hw = cutSegs(segs, width)
			rows = append(rows, head)
			ww -= hw
		}
		cur, curW = segs, ww
	}
	rows = append(rows, cur)
	out := make([]string, len(rows))
	for i, r := range rows {
		var b strings.Builder
		for _, s := range r {
			if s.url == "" {
				b.WriteString(s.text)
				continue
			}
			b.WriteString(ansi.SetHyperlink(s.url, "id="+linkID(s.url)))
			b.WriteString(s.text)
			b.WriteString(ansi.ResetHyperlink())
		}
		out[i] = b.String()
	}
	return out
}

// cutSegs cuts the first width cells (at least one grapheme) off segs:
// the head, the rest, and the head's width.
func cutSegs(segs []seg, width int) (head, rest []seg, w int) {
	for i, s := range segs {
		sw := ansi.StringWidth(s.text)
		if w+sw <= width {
			head = append(head, s)
			w += sw
			continue
		}
		t := ansi.Truncate(s.text, width-w, "")
		if t == "" && w == 0 {
			// Not even one character fits (a wide one in a row of one
			// cell): take one anyway.
			_, n := utf8.DecodeRuneInString(s.text)
			t = s.text[:n]
		}
		if t != "" {
			head = append(head, seg{text: t, url: s.url})
			w += ansi.StringWidth(t)
		}
		rest = append([]seg{{text: s.text[len(t):], url: s.url}}, segs[i+1:]...)
		return head, rest, w
	}
	return head, nil, w
}

// linkID is the OSC 8 id of a URL: the same for each of its pieces.
func linkID(u string) string {
	h := fnv.New32a()
	h.Write([]byte(u))
	return fmt.Sprintf("%08x", h.Sum32())
}
