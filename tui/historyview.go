package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/textsafe"
)

// Drawing a history: each message's block of rows (a day separator, the
// unread marker, the message wrapped under its sender), cached by width
// and status, and the view walked up from the entry at its bottom edge
// (see history).

// maxCached bounds the render cache; past it, the cache starts afresh.
const maxCached = 4096

// rendered is one message's rows, for one width and status.
type rendered struct {
	width    int
	status   chat.Status
	read     bool // the friend read it
	imported bool
	name     string
	hl       string // the search text highlighted in it ("": none)
	hlCur    bool   // it is the current hit
	rows     []string
}

func (h *history) hasDaySep(c *common, i int) bool {
	if i == 0 {
		return !h.hasOlder
	}
	y1, m1, d1 := h.entries[i-1].SentAt.In(c.loc).Date()
	y2, m2, d2 := h.entries[i].SentAt.In(c.loc).Date()
	return y1 != y2 || m1 != m2 || d1 != d2
}

func (h *history) marks(c *common, i int) int {
	n := 0
	if h.hasDaySep(c, i) {
		n++
	}
	if h.unreadSeq != 0 && h.entries[i].Seq == h.unreadSeq {
		n++
	}
	return n
}

func (h *history) blockLen(c *common, i, width int) int {
	return h.marks(c, i) + len(h.msgRows(c, i, width))
}

// blockRows appends the rows of entry i's block to rows.
func (h *history) blockRows(c *common, rows []string, i, width int) []string {
	if h.hasDaySep(c, i) {
		rows = append(rows, centerRule(c.styles.separator, dayLabel(h.entries[i].SentAt.In(c.loc), c.now().In(c.loc)), width))
	}
	if h.unreadSeq != 0 && h.entries[i].Seq == h.unreadSeq {
		rows = append(rows, centerRule(c.styles.newMark, "unread", width))
	}
	return append(rows, h.msgRows(c, i, width)...)
}

// msgRows returns entry i rendered at width, from the cache if it can.
func (h *history) msgRows(c *common, i, width int) []string {
	e := h.entries[i]
	name := "you"
	if !e.Outgoing {
		name = h.peer(c)
	}
	hl, cur := h.hl, e.Seq == h.hlCur
	if hl != "" && len(hlRanges(e.Body, hl)) == 0 {
		hl, cur = "", false
	}
	read := h.isRead(c, e)
	if r, ok := h.cache[e.Seq]; ok && r.width == width && r.status == e.Status && r.read == read && r.imported == e.Imported && r.name == name &&
		r.hl == hl && r.hlCur == cur {
		return r.rows
	}
	if len(h.cache) >= maxCached {
		clear(h.cache)
	}
	rows := renderMessage(c, e, name, width, hlSpec{query: hl, cur: cur}, read)
	h.cache[e.Seq] = rendered{width: width, status: e.Status, read: read, imported: e.Imported, name: name, hl: hl, hlCur: cur, rows: rows}
	return rows
}

// peer is the name shown for the friend's messages.
func (h *history) peer(c *common) string {
	if n := c.chats.name(h.id); n != "" {
		return n
	}
	return "them"
}

// nameWidth is the width of the sender column.
const nameWidth = 8

// renderMessage lays out one message:
//
//	15:04 alice    hello, this is a long line that
//	               wraps under itself
//	15:05 you      fine ✓✓
//	15:06 you      sent elsewhere (from another device) ✓✓
//	15:07 you      seen ✔✔
//
// read: the friend read it (a read receipt), which outranks its status.
func renderMessage(c *common, e chat.Entry, name string, width int, hl hlSpec, read bool) []string {
	mark := ""
	if e.Outgoing {
		mark = c.styles.statusMark[min(int(e.Status), 3)].Render(statusMark(e.Status))
		if read {
			mark = c.styles.read.Render(readMark)
		}
		if e.Imported {
			// Found in our own records: another copy of the identity
			// sent it, not this one.
			mark = c.styles.dim.Render("(from another device)") + " " + mark
		}
	}
	return renderRows(c, e.SentAt, name, e.Outgoing, e.Body, mark, width, hl)
}

// hlSpec is what renderRows highlights: the matches of a search's text,
// more loudly in the current hit.
type hlSpec struct {
	query string
	cur   bool
}

// highlightLine styles the matches of hl in one wrapped line. A line that
// carries escapes already (a link) is left as it is.
func highlightLine(c *common, line string, hl hlSpec) string {
	if hl.query == "" || strings.Contains(line, "\x1b") {
		return line
	}
	rs := hlRanges(line, hl.query)
	if len(rs) == 0 {
		return line
	}
	st := c.styles.hit
	if hl.cur {
		st = c.styles.hitCur
	}
	var b strings.Builder
	at := 0
	for _, r := range rs {
		b.WriteString(line[at:r[0]])
		b.WriteString(st.Render(line[r[0]:r[1]]))
		at = r[1]
	}
	b.WriteString(line[at:])
	return b.String()
}

// renderQueued lays out a message sent that the store does not hold yet.
func renderQueued(c *common, body string, failed bool, width int) []string {
	mark := c.styles.dim.Render("sending…")
	if failed {
		mark = c.styles.err.Render("not stored yet")
	}
	return renderRows(c, c.now(), "you", true, body, mark, width, hlSpec{})
}

// renderRows lays out one message with mark (styled) after its text.
func renderRows(c *common, at time.Time, name string, outgoing bool, text, mark string, width int, hl hlSpec) []string {
	st := c.styles
	if a, ok := actionText(text); ok {
		// "/me waves": "*  alice waves", as IRC clients show an action.
		text, name = name+" "+a, "*"
	}
	body := strings.ReplaceAll(textsafe.Clean(text), "\t", "    ")
	stamp := at.In(c.loc).Format(c.stamp)
	stamp += strings.Repeat(" ", max(c.stampWidth-ansi.StringWidth(stamp), 0))
	nameStyle := st.friend
	if outgoing {
		nameStyle = st.me
	}
	shown := ansi.Truncate(name, nameWidth, "…")
	head := st.dim.Render(stamp) + " " + nameStyle.Render(shown) + strings.Repeat(" ", nameWidth-ansi.StringWidth(shown)+1)
	indent := c.stampWidth + 1 + nameWidth + 1
	avail := width - indent
	var rows []string
	if avail < 12 {
		// Too narrow for a column: the body goes under the header.
		rows = append(rows, strings.TrimRight(head, " "))
		indent, avail = 2, max(width-2, 1)
	}
	pad := strings.Repeat(" ", indent)
	lines := wrapBody(body, avail)
	markW := ansi.StringWidth(mark)
	for j, l := range lines {
		l = highlightLine(c, l, hl)
		prefix := pad
		if j == 0 && len(rows) == 0 {
			prefix = head
		}
		if j == len(lines)-1 && mark != "" && ansi.StringWidth(l)+1+markW <= avail {
			l += " " + mark
			mark = ""
		}
		rows = append(rows, prefix+l)
	}
	if mark != "" {
		rows = append(rows, pad+mark)
	}
	return rows
}

// wrapBody wraps a message's text to width cells. A line with a URL is
// wrapped by wrapLine, which keeps the URL whole and makes it a link.
func wrapBody(body string, width int) []string {
	if !hasURL(body) {
		return strings.Split(ansi.Wrap(body, width, ""), "\n")
	}
	var rows []string
	for _, line := range strings.Split(body, "\n") {
		if hasURL(line) {
			rows = append(rows, wrapLine(line, width)...)
		} else {
			rows = append(rows, strings.Split(ansi.Wrap(line, width, ""), "\n")...)
		}
	}
	return rows
}

// readMark is the mark of a sent message the friend has read: heavy
// checks, distinct from delivered's ✓✓ without colour too (NO_COLOR).
const readMark = "✔✔"

// statusMark is the compact mark of a sent message's status.
func statusMark(s chat.Status) string {
	switch s {
	case chat.Pending:
		return "○"
	case chat.Published:
		return "✓"
	case chat.Delivered:
		return "✓✓"
	}
	return ""
}

// dayLabel names the day of t as seen on day now.
func dayLabel(t, now time.Time) string {
	y, m, d := t.Date()
	ny, nm, nd := now.Date()
	switch {
	case y == ny && m == nm && d == nd:
		return "Today"
	case now.AddDate(0, 0, -1).Format("20060102") == t.Format("20060102"):
		return "Yesterday"
	case y == ny:
		return t.Format("Mon 2 Jan")
	}
	return t.Format("Mon 2 Jan 2006")
}

// centerRule is "──── label ────" across width.
func centerRule(st interface{ Render(...string) string }, label string, width int) string {
	label = " " + label + " "
	lw := ansi.StringWidth(label)
	if lw >= width {
		return st.Render(ansi.Truncate(label, width, ""))
	}
	left := (width - lw) / 2
	return st.Render(strings.Repeat("─", left) + label + strings.Repeat("─", width-lw-left))
}

// view renders the viewport: height rows of at most width cells each,
// the latest at the bottom. queued are the messages sent that the store
// does not hold yet (failed: the last try to store them failed), shown
// under the latest while the view follows it.
func (h *history) view(c *common, height, width int, queued []string, failed bool) []string {
	out := make([]string, 0, height)
	if !h.loaded {
		return append(out, c.styles.dim.Render("loading…"))
	}
	var tail []string
	if h.follow {
		for i := len(queued) - 1; i >= 0 && len(tail) < height; i-- {
			tail = append(renderQueued(c, queued[i], failed, width), tail...)
		}
		tail = tail[max(len(tail)-height, 0):]
	}
	return append(h.entryRows(c, out, height-len(tail), width), tail...)
}

// entryRows appends to out the rows of the entries in a viewport of
// height rows.
func (h *history) entryRows(c *common, out []string, height, width int) []string {
	if len(h.entries) == 0 || height == 0 {
		return out
	}
	// Walk up from the anchor, collecting blocks (each in order) until the
	// viewport is full; then put them top to bottom.
	var blocks [][]string
	rows := 0
	var buf []string
	for i := h.bottom; i >= 0 && rows < height; i-- {
		buf = h.blockRows(c, buf[:0:0], i, width)
		if i == h.bottom {
			buf = buf[:max(len(buf)-h.below, 0)]
		}
		blocks = append(blocks, buf)
		rows += len(buf)
	}
	if h.loading && rows < height+1 {
		blocks = append(blocks, []string{c.styles.dim.Render("loading older messages…")})
	}
	for k := len(blocks) - 1; k >= 0; k-- {
		out = append(out, blocks[k]...)
	}
	if len(out) > height {
		out = out[len(out)-height:]
	}
	if !h.follow && h.newBelow > 0 && len(out) > 0 {
		s := "s"
		if h.newBelow == 1 {
			s = ""
		}
		out[len(out)-1] = c.styles.unread.Render(ansi.Truncate(fmt.Sprintf("↓ %d new message%s below — esc to jump", h.newBelow, s), width, "…"))
	}
	return out
}
