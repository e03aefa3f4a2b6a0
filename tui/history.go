package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/textsafe"
)

// pageSize is how many entries one History call loads: opening a chat
// loads one page, whatever the length of the chat; older pages come as the
// user scrolls up.
const pageSize = 200

// loadMoreWithin: scrolling to within this many entries of the oldest
// loaded one fetches the page before it.
const loadMoreWithin = 50

// maxCached bounds the render cache; past it, the cache starts afresh.
const maxCached = 4096

// history is the conversation of one chat, as far as it is loaded (the
// latest page, and older pages as the user scrolls up), and where the user
// is looking in it.
//
// Rendering is virtualized: the viewport is anchored on the entry at its
// bottom edge, and View walks from there up, one screen's worth of rows, so
// its cost does not depend on the length of the chat. Each message's rows
// are cached by width and status.
type history struct {
	id       chat.ChatID
	entries  []chat.Entry // by Seq, ascending
	loaded   bool         // the first page arrived
	loading  bool         // a page request is in flight
	hasOlder bool         // the store may hold entries before entries[0]
	early    []chat.Entry // events that came before the first page
	// syncedSeq is the Seq up to which entries holds everything the store
	// held when it was last read (a page or a refresh): a refresh reads
	// what is newer. Events and sends do not move it, since another
	// process may have stored entries between theirs and it.
	syncedSeq int64

	// unreadSeq is the Seq of the first message the user had not seen when
	// they opened the chat: the unread marker goes above it. 0: none.
	unreadSeq int64
	readUpTo  uint64 // last received N known to be seen

	// The viewport: follow keeps it on the latest message. Otherwise it is
	// anchored on entries[bottom], of whose block the last below rows are
	// hidden under the viewport's bottom edge.
	follow   bool
	bottom   int
	below    int
	newBelow int // messages received while scrolled up

	cache map[int64]rendered
}

// rendered is one message's rows, for one width and status.
type rendered struct {
	width    int
	status   chat.Status
	imported bool
	name     string
	rows     []string
}

func newHistory(id chat.ChatID) *history {
	return &history{id: id, follow: true, loading: true, cache: make(map[int64]rendered)}
}

// setPage installs the latest page of the chat.
func (h *history) setPage(entries []chat.Entry, readUpTo uint64) {
	h.entries = entries
	h.loaded, h.loading = true, false
	h.hasOlder = len(entries) == pageSize
	h.readUpTo = readUpTo
	for _, e := range h.early {
		h.add(e)
	}
	h.early = nil
	h.syncedSeq = 0
	if n := len(entries); n > 0 {
		h.syncedSeq = entries[n-1].Seq
	}
	h.unreadSeq = 0
	for _, e := range h.entries {
		if !e.Outgoing && e.N > readUpTo {
			h.unreadSeq = e.Seq
			break
		}
	}
	h.follow, h.newBelow = true, 0
	h.toBottom()
}

// prependPage adds a page of older entries.
func (h *history) prependPage(entries []chat.Entry) {
	h.loading = false
	h.hasOlder = len(entries) == pageSize
	if len(h.entries) > 0 {
		// Only what is older than what we have: a page may overlap.
		first := h.entries[0].Seq
		i := len(entries)
		for i > 0 && entries[i-1].Seq >= first {
			i--
		}
		entries = entries[:i]
	}
	h.entries = append(slices.Clip(entries), h.entries...)
	h.bottom += len(entries)
}

// add puts an entry that arrived (an event, a send or a refresh from the
// store) in its place by Seq, or updates it if it is already there, so
// that the same message from two sources is shown once. The viewport
// stays where it is unless it follows the latest message. It reports
// whether the entry was new.
func (h *history) add(e chat.Entry) bool {
	if !h.loaded {
		for i := range h.early {
			if h.early[i].Seq == e.Seq {
				h.early[i] = newer(h.early[i], e)
				return false
			}
		}
		h.early = append(h.early, e)
		return false
	}
	i, found := slices.BinarySearchFunc(h.entries, e.Seq, bySeq)
	if found {
		h.entries[i] = newer(h.entries[i], e)
		return false
	}
	if i == 0 && len(h.entries) > 0 && h.hasOlder {
		return false // older than what is loaded: its page will bring it
	}
	h.entries = slices.Insert(h.entries, i, e)
	switch {
	case h.follow:
		h.toBottom()
	case i <= h.bottom:
		h.bottom++ // above the anchor: the anchor stays the same entry
	case !e.Outgoing:
		h.newBelow++
	}
	return true
}

// newer is e, which replaces old (the same message): a sent message's
// status only moves forward (Pending, Published, Delivered), so a late
// answer of the store does not undo a newer event.
func newer(old, e chat.Entry) chat.Entry {
	if old.Outgoing && e.Status < old.Status {
		e.Status = old.Status
	}
	return e
}

// applyOutbox moves our messages forward to the statuses the store's
// outbox counters imply.
func (h *history) applyOutbox(o chat.Outbox) {
	for i := range h.entries {
		e := &h.entries[i]
		if !e.Outgoing {
			continue
		}
		st := chat.Pending
		switch {
		case e.N <= o.Delivered:
			st = chat.Delivered
		case e.N <= o.Published:
			st = chat.Published
		}
		e.Status = max(e.Status, st)
	}
}

// oldestUnacked is the Seq of the oldest loaded message of ours that is
// not shown as delivered, 0 if none.
func (h *history) oldestUnacked() int64 {
	for _, e := range h.entries {
		if e.Outgoing && e.Status < chat.Delivered {
			return e.Seq
		}
	}
	return 0
}

func bySeq(x chat.Entry, seq int64) int { return cmp.Compare(x.Seq, seq) }

// lastReceived is the number of the latest received message loaded.
func (h *history) lastReceived() uint64 {
	for i := len(h.entries) - 1; i >= 0; i-- {
		if !h.entries[i].Outgoing {
			return h.entries[i].N
		}
	}
	return 0
}

func (h *history) toBottom() {
	h.bottom, h.below = max(len(h.entries)-1, 0), 0
}

// scrollUp moves the view n rows towards older messages, no further than
// the first row of the oldest loaded entry at the top of a viewport of
// height rows.
func (h *history) scrollUp(c *common, n, height, width int) {
	if len(h.entries) == 0 {
		return
	}
	h.follow = false
	h.below += n
	for h.below >= h.blockLen(c, h.bottom, width) && h.bottom > 0 {
		h.below -= h.blockLen(c, h.bottom, width)
		h.bottom--
	}
	// Clamp: at least height rows must remain from the top of the content
	// to the bottom of the viewport.
	total := 0
	for i := h.bottom; i >= 0 && total < height; i-- {
		l := h.blockLen(c, i, width)
		if i == h.bottom {
			l -= h.below
		}
		total += l
	}
	if total < height {
		h.scrollDown(c, height-total, width)
	}
}

// scrollDown moves the view n rows towards the latest message; reaching it
// follows new messages again.
func (h *history) scrollDown(c *common, n, width int) {
	h.below -= n
	for h.below < 0 && h.bottom < len(h.entries)-1 {
		h.bottom++
		h.below += h.blockLen(c, h.bottom, width)
	}
	if h.bottom >= len(h.entries)-1 && h.below <= 0 {
		h.follow, h.newBelow = true, 0
		h.toBottom()
	}
}

// topIndex is the index of the oldest entry (partly) in a viewport of
// height rows.
func (h *history) topIndex(c *common, height, width int) int {
	rows := 0
	i := h.bottom
	for ; i >= 0; i-- {
		l := h.blockLen(c, i, width)
		if i == h.bottom {
			l -= h.below
		}
		rows += l
		if rows >= height {
			return i
		}
	}
	return 0
}

// wantsOlder reports whether the view is close enough to the oldest loaded
// entry to load the page before it.
func (h *history) wantsOlder(c *common, height, width int) bool {
	return h.loaded && h.hasOlder && !h.loading && h.topIndex(c, height, width) < loadMoreWithin
}

// update handles the keys and mouse events routed to the history:
// scrolling. It returns whether older entries should be loaded.
func (h *history) handle(c *common, msg tea.Msg, height, width int) (wantOlder bool) {
	page := max(height-2, 1)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch msg.String() {
		case "pgup":
			h.scrollUp(c, page, height, width)
		case "pgdown":
			h.scrollDown(c, page, width)
		case "esc":
			h.follow, h.newBelow = true, 0
			h.toBottom()
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			h.scrollUp(c, 3, height, width)
		case tea.MouseWheelDown:
			h.scrollDown(c, 3, width)
		}
	}
	return h.wantsOlder(c, height, width)
}

// The rows of entry i's block: a day separator if the day changes above
// it, the unread marker if it is the first unread message, then the
// message's own rows.

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
	if r, ok := h.cache[e.Seq]; ok && r.width == width && r.status == e.Status && r.imported == e.Imported && r.name == name {
		return r.rows
	}
	if len(h.cache) >= maxCached {
		clear(h.cache)
	}
	rows := renderMessage(c, e, name, width)
	h.cache[e.Seq] = rendered{width: width, status: e.Status, imported: e.Imported, name: name, rows: rows}
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
func renderMessage(c *common, e chat.Entry, name string, width int) []string {
	mark := ""
	if e.Outgoing {
		mark = c.styles.statusMark[min(int(e.Status), 3)].Render(statusMark(e.Status))
		if e.Imported {
			// Found in our own records: another copy of the identity
			// sent it, not this one.
			mark = c.styles.dim.Render("(from another device)") + " " + mark
		}
	}
	return renderRows(c, e.SentAt, name, e.Outgoing, e.Body, mark, width)
}

// renderQueued lays out a message sent that the store does not hold yet.
func renderQueued(c *common, body string, failed bool, width int) []string {
	mark := c.styles.dim.Render("sending…")
	if failed {
		mark = c.styles.err.Render("not stored yet")
	}
	return renderRows(c, c.now(), "you", true, body, mark, width)
}

// renderRows lays out one message with mark (styled) after its text.
func renderRows(c *common, at time.Time, name string, outgoing bool, text, mark string, width int) []string {
	st := c.styles
	body := strings.ReplaceAll(textsafe.Clean(text), "\t", "    ")
	stamp := at.In(c.loc).Format("15:04")
	nameStyle := st.friend
	if outgoing {
		nameStyle = st.me
	}
	shown := ansi.Truncate(name, nameWidth, "…")
	head := st.dim.Render(stamp) + " " + nameStyle.Render(shown) + strings.Repeat(" ", nameWidth-ansi.StringWidth(shown)+1)
	indent := 6 + nameWidth + 1
	avail := width - indent
	var rows []string
	if avail < 12 {
		// Too narrow for a column: the body goes under the header.
		rows = append(rows, strings.TrimRight(head, " "))
		indent, avail = 2, max(width-2, 1)
	}
	pad := strings.Repeat(" ", indent)
	lines := strings.Split(ansi.Wrap(body, avail, ""), "\n")
	markW := ansi.StringWidth(mark)
	for j, l := range lines {
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
