package tui

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// Search in the open chat's history: /search TEXT (or Ctrl+F, which
// writes "/search " in the input, keeping the draft aside), served by the
// store's full-text index. The hits are highlighted; n or Up goes to the
// older hit, N or Down to the newer, Esc leaves (back to the latest
// message), and any other key leaves the search where it is and goes on
// to the draft.

// search is a search under way in the chat on screen.
type search struct {
	id    chat.ChatID
	query string
	hits  []int64 // their Seqs, oldest first
	cur   int     // index into hits of the one shown
}

type (
	// searchedMsg is the store's answer to a search.
	searchedMsg struct {
		id    chat.ChatID
		query string
		hits  []chat.Entry
	}
	// searchPageMsg is the history from a hit older than what was loaded
	// up to it: the pages in between, oldest first.
	searchPageMsg struct {
		id       chat.ChatID
		entries  []chat.Entry
		hasOlder bool
		seq      int64 // the hit to show
	}
)

func (m *model) runSearch(_ *slashCommand, _ []string) (tea.Cmd, bool) {
	text := strings.TrimSpace(restOf(m.line, 1))
	h := m.hist()
	if h == nil || m.open == (chat.ChatID{}) {
		m.status = status{text: "no chat is open to search in", isErr: true}
		return nil, false
	}
	ctx, client, id := m.ctx, m.client, m.open
	if client == nil {
		return nil, true
	}
	return func() tea.Msg {
		es, err := client.Search(ctx, id, text, 0)
		if err != nil {
			return errMsg{err}
		}
		return searchedMsg{id: id, query: text, hits: es}
	}, true
}

// startSearch is Ctrl+F: the input gets "/search ", and the draft, if any,
// is put aside until the search runs or Esc.
func (m *model) startSearch() tea.Cmd {
	if m.open == (chat.ChatID{}) {
		m.status = status{text: "no chat is open to search in", isErr: true}
		return nil
	}
	m.leaveSearch(false)
	d := m.in.draft(m.in.cur)
	if v := d.Value(); m.stashed != m.in.cur || !strings.HasPrefix(v, "/search") {
		m.restoreStash()
		m.stash, m.stashed = v, m.in.cur
	}
	d.SetValue("/search ")
	d.MoveToEnd()
	m.status = status{text: "search this chat: type the text, enter; esc: cancel"}
	return nil
}

// restoreStash gives the draft put aside by Ctrl+F back to the input.
func (m *model) restoreStash() {
	if m.stashed == (chat.ChatID{}) {
		return
	}
	d := m.in.draft(m.stashed)
	d.SetValue(m.stash)
	d.MoveToEnd()
	m.stash, m.stashed = "", chat.ChatID{}
}

func (m *model) onSearched(msg searchedMsg) tea.Cmd {
	h := m.c.chats.hist(msg.id)
	if msg.id != m.open || h == nil {
		return nil
	}
	if len(msg.hits) == 0 {
		m.leaveSearch(false)
		m.status = status{text: fmt.Sprintf("no message here contains %q", msg.query)}
		return nil
	}
	s := &search{id: msg.id, query: msg.query}
	for _, e := range msg.hits {
		s.hits = append(s.hits, e.Seq)
	}
	s.cur = len(s.hits) - 1
	m.search = s
	h.highlight(s.query, 0)
	return m.showHit()
}

// showHit brings the current hit into view, loading the history up to it
// if it is older than what is loaded.
func (m *model) showHit() tea.Cmd {
	s, h := m.search, m.hist()
	if s == nil || h == nil || s.id != m.open {
		return nil
	}
	seq := s.hits[s.cur]
	m.searchStatus()
	if len(h.entries) > 0 && seq < h.entries[0].Seq && h.hasOlder {
		if h.loading {
			return nil
		}
		h.loading = true
		return m.loadTo(h.id, h.entries[0].Seq, seq)
	}
	h.highlight(s.query, seq)
	l := m.layout()
	h.showSeq(m.c, seq, l.histH, l.convW)
	return nil
}

func (m *model) searchStatus() {
	s := m.search
	m.status = status{text: fmt.Sprintf("%q: %d of %d · n/↑ older · N/↓ newer · esc: leave", s.query, s.cur+1, len(s.hits))}
}

// loadTo loads the history before entry before back to entry seq.
func (m *model) loadTo(id chat.ChatID, before, seq int64) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		var all []chat.Entry
		for {
			es, err := client.History(ctx, id, before, pageSize)
			if err != nil {
				return errMsg{err}
			}
			all = append(es, all...)
			if len(es) < pageSize {
				return searchPageMsg{id: id, entries: all, seq: seq}
			}
			if before = es[0].Seq; before <= seq {
				return searchPageMsg{id: id, entries: all, hasOlder: true, seq: seq}
			}
		}
	}
}

func (m *model) onSearchPage(msg searchPageMsg) tea.Cmd {
	h := m.c.chats.hist(msg.id)
	if h == nil {
		return nil
	}
	h.prependPage(msg.entries)
	h.hasOlder = msg.hasOlder
	return m.showHit()
}

// onSearchKey handles a key while a search is under way; it reports
// whether the key was the search's.
func (m *model) onSearchKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	s := m.search
	if s == nil {
		return nil, false
	}
	if s.id != m.open {
		m.leaveSearch(false)
		return nil, false
	}
	switch k.String() {
	case "n", "up":
		s.cur = max(s.cur-1, 0)
		return m.showHit(), true
	case "N", "down":
		s.cur = min(s.cur+1, len(s.hits)-1)
		return m.showHit(), true
	case "esc":
		m.leaveSearch(true)
		return m.scroll(k), true
	}
	if key.Matches(k, m.c.keys.Search) {
		return nil, false
	}
	m.leaveSearch(false)
	return nil, false
}

// leaveSearch ends the search: the highlight goes; the view stays unless
// toBottom.
func (m *model) leaveSearch(toBottom bool) {
	if s := m.search; s != nil {
		if h := m.c.chats.hist(s.id); h != nil {
			h.highlight("", 0)
			if toBottom {
				h.follow, h.newBelow = true, 0
				h.toBottom()
			}
		}
	}
	m.search = nil
}

// highlight sets the text to highlight in the history and the Seq of the
// current hit (0: none).
func (h *history) highlight(query string, cur int64) {
	if h.hl != query || h.hlCur != cur {
		h.hl, h.hlCur = query, cur
	}
}

// showSeq puts entry seq in the middle of a viewport of height rows.
func (h *history) showSeq(c *common, seq int64, height, width int) {
	i, found := slices.BinarySearchFunc(h.entries, seq, bySeq)
	if !found {
		return
	}
	h.follow = false
	h.bottom, h.below = i, 0
	h.scrollDown(c, max(height/2-h.blockLen(c, i, width)/2, 0), width)
}

// hlRanges returns the byte ranges of line that match query, ignoring
// case, as [start, end) pairs.
func hlRanges(line, query string) [][2]int {
	if query == "" {
		return nil
	}
	var out [][2]int
	for i := 0; i < len(line); {
		if n := foldPrefix(line[i:], query); n > 0 {
			out = append(out, [2]int{i, i + n})
			i += n
			continue
		}
		_, w := utf8.DecodeRuneInString(line[i:])
		i += w
	}
	return out
}

// foldPrefix is the length in bytes of the prefix of s that equals query
// ignoring case, 0 if none.
func foldPrefix(s, query string) int {
	i := 0
	for _, q := range query {
		if i >= len(s) {
			return 0
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if unicode.ToLower(r) != unicode.ToLower(q) {
			return 0
		}
		i += w
	}
	return i
}
