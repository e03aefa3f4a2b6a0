package tui

import (
	"cmp"
	"slices"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// pageSize is how many entries one History call loads: opening a chat
// loads one page, whatever the length of the chat; older pages come as the
// user scrolls up.
const pageSize = 200

// loadMoreWithin: scrolling to within this many entries of the oldest
// loaded one fetches the page before it.
const loadMoreWithin = 50

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
	unreadTop bool   // toUnread waits for the terminal's size

	// The viewport: follow keeps it on the latest message. Otherwise it is
	// anchored on entries[bottom], of whose block the last below rows are
	// hidden under the viewport's bottom edge.
	follow   bool
	bottom   int
	below    int
	newBelow int // messages received while scrolled up

	// hl is the text of the search under way, highlighted in its hits,
	// and hlCur the Seq of the hit shown (see search.go).
	hl    string
	hlCur int64

	cache map[int64]rendered
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

// toUnread puts the unread marker at the top of a viewport of height
// rows if, at the bottom of the history, it would be above it: the user
// reads on from there, and the chat counts as read once they reach the
// latest message (see markSeen).
func (h *history) toUnread(c *common, height, width int) {
	if h.unreadSeq == 0 || !h.follow {
		return
	}
	if c.width == 0 || c.height == 0 {
		// The page came before the terminal's size: when it comes.
		h.unreadTop = true
		return
	}
	h.unreadTop = false
	i, found := slices.BinarySearchFunc(h.entries, h.unreadSeq, bySeq)
	if !found {
		return
	}
	rows := 0
	for j := i; j < len(h.entries) && rows <= height; j++ {
		rows += h.blockLen(c, j, width)
	}
	if rows <= height {
		return // it all fits: the view stays at the latest message
	}
	h.follow = false
	h.bottom, h.below = i, h.blockLen(c, i, width)
	// Now nothing of entry i shows; move down to show height rows from
	// the top of its block (the day separator, if any, and the marker).
	h.scrollDown(c, height, width)
}

// clearScreen empties the history shown (/clear): what comes from now on
// shows, what came before does not, even on scrolling up.
func (h *history) clearScreen() {
	h.entries, h.early = nil, nil
	h.hasOlder = false
	h.unreadSeq = 0
	h.follow, h.newBelow = true, 0
	clear(h.cache)
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
