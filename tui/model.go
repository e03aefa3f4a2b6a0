package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// state is what the keyboard is doing: writing, or answering a question.
type state int

const (
	stateChat         state = iota
	stateConfirmPaste       // a paste waits for an answer (see paste.go)
)

// status is the message in the status bar, until the next key press, or
// until its cause is gone (see statusWhy).
type status struct {
	text  string
	isErr bool
	chat  chat.ChatID // the chat it is about, if why says
	why   statusWhy
}

// panel is a block of text shown over the history (/help, /friends, ?),
// until Esc; the input stays usable under it. The info view is a panel
// whose lines are made as it is drawn (see infoView).
type panel struct {
	title   string
	lines   []string
	info    bool              // the info view of peer
	friends bool              // the friends (/friends), made as drawn
	peer    keyring.PublicKey // for info
	top     int               // first line shown, when it is taller than the room
}

// model is the top model.
type model struct {
	// ctx is the program's lifetime: the commands' I/O is cancelled with it
	// when the UI exits. It is not a bag of dependencies; those are below.
	ctx     context.Context
	client  *chat.Client
	book    FriendBook
	events  <-chan chat.Event // nil: not listening (tests feed eventsMsg)
	c       *common
	state   state
	list    chatList
	hists   map[chat.ChatID]*history
	in      input
	open    chat.ChatID // the chat on screen; zero: none
	friends []keyring.Friend
	keys    map[chat.ChatID]wire.ChatKey
	safety  map[keyring.PublicKey]string // safety numbers computed, by peer

	wantOpen chat.ChatID // Options.Open, until the chat list arrives
	// newChat is a chat the user just started, and newChatWith the friend's
	// name: when it opens, it opens with the panel of its chat key.
	newChat     chat.ChatID
	newChatWith string
	listed      bool // the chat list has arrived once
	net         chat.NetState
	netErr      bool
	banner      string
	status      status
	panel       *panel
	paste       *pendingPaste // the paste waiting for an answer
	quitting    bool

	// queues are the bodies sent, by chat, that the store does not hold
	// yet (see sendq.go); batches numbers the Sends; ledger tells Run
	// which of them ran (nil without Run).
	queues  map[chat.ChatID]*sendQueue
	batches uint64
	ledger  *sendLedger
	// quitWhenStored: the user quit while bodies were being stored; the
	// program ends when the last is.
	quitWhenStored bool

	// ready: the first chat list arrived (or could not be read), so the
	// chat the keys are for is open. Keys and pastes before that wait in
	// typeahead, to be handled then in order: what is typed while the
	// program starts goes where it would have gone a moment later.
	ready     bool
	typeahead []tea.Msg
	// gate is the input's (see startGate), opened when the program is
	// ready; nil without Run.
	gate *startGate

	// The store is the truth, the events hints: other processes write the
	// same database. Every refreshEvery (0: never; Run sets it) and after
	// each batch of events, a refresh reads it (see refresh).
	refreshEvery time.Duration
	refreshing   bool // a refresh is in flight
	refreshAgain bool // and another was asked for meanwhile

	retrying bool // a command runs again after the friends were read again
	// quitArmed: Ctrl+C was pressed once with a draft unsent; the next
	// key, if Ctrl+C again, quits.
	quitArmed bool

	// alerts are the alerts read of each chat, alertsSeen how many of
	// them the user looked at in the info view (see alerts.go).
	alerts        map[chat.ChatID][]chat.Alert
	alertsSeen    map[chat.ChatID]int
	alertsLoading map[chat.ChatID]bool
}

func newModel(ctx context.Context, client *chat.Client, book FriendBook, events <-chan chat.Event) *model {
	return &model{
		ctx: ctx, client: client, book: book, events: events,
		c: newCommon(), hists: make(map[chat.ChatID]*history), in: newInput(),
		keys: make(map[chat.ChatID]wire.ChatKey), safety: make(map[keyring.PublicKey]string), queues: make(map[chat.ChatID]*sendQueue),
		alerts: make(map[chat.ChatID][]chat.Alert), alertsSeen: make(map[chat.ChatID]int), alertsLoading: make(map[chat.ChatID]bool),
		net: chat.Connecting,
		// Without an engine (tests) nothing is loaded first.
		ready: client == nil,
	}
}

func (m *model) Init() tea.Cmd {
	m.in.switchTo(chat.ChatID{})
	return tea.Batch(listen(m.events), m.loadChats(), m.loadFriends(), m.tick())
}

// layout is where everything goes at the current size.
type layout struct {
	collapsed bool
	listW     int // 0 when collapsed
	convX     int // first column of the conversation
	convW     int
	banner    bool // a key-change warning over the history
	notices   int  // rows of notices under it (see model.notices)
	histY     int  // first row of the history
	histH     int
	inputY    int
	inputH    int
	statusH   int // rows of the status bar: a long message wraps
}

func (m *model) layout() layout {
	w, h := m.c.width, m.c.height
	var l layout
	l.collapsed = w < collapseBelow
	if !l.collapsed {
		l.listW = listWidth
		l.convX = listWidth + 1
	}
	l.convW = max(w-l.convX, 1)
	l.inputH = m.in.height()
	l.histY = 1
	if m.open != (chat.ChatID{}) && m.c.keyChanged(m.open) {
		l.banner = true
		l.histY = 2
	}
	l.notices = len(m.notices(l.convW))
	l.histY += l.notices
	l.statusH = len(m.statusLeft(l.collapsed))
	l.histH = max(h-l.histY-l.statusH-l.inputH-1, 1)
	l.inputY = l.histY + l.histH + 1
	return l
}

// resize applies a new terminal size.
func (m *model) resize(w, h int) {
	m.c.width, m.c.height = w, h
	l := m.layout()
	m.in.setSize(l.convW, max(min(maxInputRows, (h-6)/3), 1))
}

func (m *model) hist() *history { return m.hists[m.open] }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case eventsMsg:
		for _, ev := range msg {
			cmds = append(cmds, m.onEvent(ev))
		}
		cmds = append(cmds, listen(m.events), m.refresh())
	case refreshTickMsg:
		cmds = append(cmds, m.refresh(), m.tick())
	case refreshedMsg:
		cmds = append(cmds, m.onRefreshed(msg))
	case eventsClosedMsg:
		// The worker stopped: the program is ending, or there is no network.
		m.net, m.netErr = chat.Offline, true
	case chatsMsg:
		cmds = append(cmds, m.onChats(msg), m.becomeReady())
	case chatsGoneMsg:
		cmds = append(cmds, m.onChatsGone(msg))
	case alertsMsg:
		m.onAlerts(msg)
	case friendsMsg:
		m.friends = msg
		m.refreshNames()
	case retryMsg:
		if msg.friendsOK {
			m.friends = msg.friends
			m.refreshNames()
		}
		m.retrying = true
		cmd, _ := m.command(msg.line)
		cmds = append(cmds, cmd)
		m.retrying = false
	case pageMsg:
		cmds = append(cmds, m.onPage(msg))
	case sentMsg:
		cmds = append(cmds, m.onSent(msg))
	case sendFailedMsg:
		cmds = append(cmds, m.onSendFailed(msg))
	case retrySendMsg:
		cmds = append(cmds, m.dispatch(msg.id))
	case chatReadyMsg:
		cmds = append(cmds, m.onChatReady(msg))
	case safetyMsg:
		m.safety[msg.peer] = msg.number
	case verifiedMsg:
		cmds = append(cmds, m.onVerified(msg))
	case friendAddedMsg:
		m.status = status{text: fmt.Sprintf("added %s (fingerprint %s); /start %s to chat", msg.Name, msg.Key.Fingerprint(), msg.Name)}
		cmds = append(cmds, m.loadFriends())
	case errMsg:
		m.fail(msg.err)
	case chatsFailedMsg:
		m.fail(msg.err)
		// The keys waiting go to the draft of no chat, which says so
		// at Enter.
		cmds = append(cmds, m.becomeReady())
	case noteMsg:
		m.status = status{text: string(msg)}
	case panelMsg:
		m.panel = &panel{title: msg.title, lines: msg.lines}
	case tea.InterruptMsg:
		m.quitting = true
		return m, tea.Quit
	case tea.PasteMsg:
		if !m.ready {
			m.typeahead = append(m.typeahead, msg)
			break
		}
		cmds = append(cmds, m.onPaste(msg))
	case tea.MouseWheelMsg:
		cmds = append(cmds, m.scroll(msg))
	case tea.MouseClickMsg:
		cmds = append(cmds, m.onClick(msg))
	case tea.KeyPressMsg:
		if !m.ready {
			cmds = append(cmds, m.keyBeforeReady(msg))
			break
		}
		cmds = append(cmds, m.onKey(msg))
	default:
		// The textarea's own messages (cursor blink and the like).
		var cmd tea.Cmd
		m.in, cmd = m.in.update(m.c, msg)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// onKey routes a key: to a question if one is asked, to the program's own
// bindings, to the history for scrolling, or else to the draft. Typing
// never scrolls, and nothing but typing edits the draft.
func (m *model) onKey(k tea.KeyPressMsg) tea.Cmd {
	keys := m.c.keys
	m.status = status{}
	armed := m.quitArmed
	m.quitArmed = false
	if m.state == stateConfirmPaste {
		return m.onPasteAnswer(k)
	}
	switch {
	case key.Matches(k, keys.Quit):
		if !armed && m.in.unsent() {
			m.quitArmed = true
			m.status = status{text: "draft not sent; ctrl+c again to quit", isErr: true}
			return nil
		}
		return m.quit(armed)
	case key.Matches(k, keys.Help):
		m.panel = helpPanel(keys)
		return nil
	case key.Matches(k, keys.Info):
		return m.toggleInfo()
	case key.Matches(k, keys.Bottom):
		if m.panel != nil {
			m.panel = nil
			return m.markSeen()
		}
		return m.scroll(k)
	case key.Matches(k, keys.NextChat):
		return m.cycle(1)
	case key.Matches(k, keys.PrevChat):
		return m.cycle(-1)
	case key.Matches(k, keys.PageUp, keys.PageDown):
		return m.scroll(k)
	case key.Matches(k, keys.Send):
		cmd, _ := m.submit()
		return cmd
	}
	var cmd tea.Cmd
	m.in, cmd = m.in.update(m.c, k)
	return cmd
}

// scroll passes a scrolling key or wheel event to the history, and loads
// older messages or marks messages read as the view moves.
func (m *model) scroll(msg tea.Msg) tea.Cmd {
	h := m.hist()
	l := m.layout()
	if m.panel != nil {
		m.scrollPanel(msg, l)
		return nil
	}
	if h == nil {
		return nil
	}
	var cmds []tea.Cmd
	if h.handle(m.c, msg, l.histH, l.convW) {
		h.loading = true
		cmds = append(cmds, m.loadOlder(h.id, h.entries[0].Seq))
	}
	cmds = append(cmds, m.markSeen())
	return tea.Batch(cmds...)
}

// markSeen marks the open chat read up to its latest message if the user
// is looking at it: it is at the bottom of the history, and no panel
// hides the history.
func (m *model) markSeen() tea.Cmd {
	h := m.hist()
	if h == nil || !h.loaded || !h.follow || m.panel != nil {
		return nil
	}
	n := h.lastReceived()
	m.list = m.list.markRead(h.id)
	if n <= h.readUpTo {
		return nil
	}
	h.readUpTo = n
	return m.markRead(h.id, n)
}

// cycle opens the chat delta places away in the list.
func (m *model) cycle(delta int) tea.Cmd {
	id, ok := m.list.next(m.open, delta)
	if !ok {
		m.status = status{text: "no chats yet: /start NAME starts one", isErr: true}
		return nil
	}
	return m.openChat(id)
}

// openChat puts chat id on screen, with its own draft, loading its latest
// page unless it is loaded and has nothing unread.
func (m *model) openChat(id chat.ChatID) tea.Cmd {
	if id == m.open && m.hists[id] != nil {
		return nil
	}
	m.open = id
	m.in.switchTo(id)
	m.panel = nil
	if id == m.newChat && m.newChatWith != "" {
		if k, ok := m.keys[id]; ok {
			m.panel = newChatPanel(m.newChatWith, k)
			m.newChat, m.newChatWith = chat.ChatID{}, ""
		}
	}
	cmds := []tea.Cmd{m.focus(id), m.wantAlerts()}
	h := m.hists[id]
	unread := 0
	if i := m.list.index(id); i >= 0 {
		unread = m.list.items[i].Unread
	}
	if h == nil || unread > 0 {
		if h == nil {
			h = newHistory(id)
			m.hists[id] = h
		}
		h.loading = true
		cmds = append(cmds, m.loadPage(id))
	} else {
		// Loaded earlier: catch up with what was stored since.
		cmds = append(cmds, m.refresh())
	}
	return tea.Batch(cmds...)
}

// submit handles Enter: a slash command, or a message to send. The
// draft is taken as it is now and emptied at once; a message goes to the
// chat's send queue. ok is false if the draft stays because it cannot be
// sent or run (the status bar says why); an empty draft does nothing, and
// is ok.
//
// A command is one line. A draft of several lines that begins with "/"
// is never run, since the rest would be lost, and it is most likely text
// pasted into the draft: the user says which by adding a "/".
func (m *model) submit() (cmd tea.Cmd, ok bool) {
	raw := m.in.value()
	text := strings.TrimRight(strings.TrimLeft(raw, "\n"), " \t\n")
	if strings.TrimSpace(text) == "" {
		return nil, true
	}
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		if strings.Contains(text, "\n") {
			m.status = status{text: "a command is one line: to send this as a message, start it with //", isErr: true}
			return nil, false
		}
		cur := m.in.cur
		cmd, ok := m.command(text)
		if ok {
			m.in.remember(text)
			m.in.clear(cur)
		}
		return cmd, ok
	}
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	if m.open == (chat.ChatID{}) {
		m.status = status{text: "no chat is open: /start NAME starts one, /respond NAME CHATKEY joins one", isErr: true}
		return nil, false
	}
	if m.refusePaused(m.open) {
		return nil, false
	}
	if err := chat.ValidBody(text); err != nil {
		m.fail(err)
		return nil, false
	}
	m.in.remember(text)
	m.in.clear(m.in.cur)
	return m.enqueue(m.open, text), true
}

// keyBeforeReady keeps a key that came before the first chat list, to be
// handled when it arrives. A second Ctrl+C among them quits at once: the
// list may never come (a database that hangs).
func (m *model) keyBeforeReady(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.c.keys.Quit) {
		for _, msg := range m.typeahead {
			if q, ok := msg.(tea.KeyPressMsg); ok && key.Matches(q, m.c.keys.Quit) {
				m.quitting = true
				return tea.Quit
			}
		}
	}
	m.typeahead = append(m.typeahead, k)
	return nil
}

// becomeReady handles, in order, the keys and pastes that came before the
// first chat list, once it is there.
func (m *model) becomeReady() tea.Cmd {
	if m.ready {
		return nil
	}
	m.ready = true
	// Here in Update, not in a command: the gate must be open before the
	// first frame of the ready program is drawn, or what the user pastes
	// on seeing it could be read as typed. It costs a lock and an ioctl.
	m.gate.open()
	msgs := m.typeahead
	m.typeahead = nil
	var cmds []tea.Cmd
	for _, msg := range msgs {
		switch msg := msg.(type) {
		case tea.KeyPressMsg:
			cmds = append(cmds, m.onKey(msg))
		case tea.PasteMsg:
			cmds = append(cmds, m.onPaste(msg))
		}
	}
	return tea.Batch(cmds...)
}

// quit ends the program, once the store holds all that was sent (Enter
// only queued it): that takes milliseconds, unless the store fails, when
// it says so and a second Ctrl+C (force) quits anyway.
func (m *model) quit(force bool) tea.Cmd {
	if n := m.unstored(); n > 0 && !force {
		m.quitWhenStored, m.quitArmed = true, true
		m.status = status{text: fmt.Sprintf("storing %s before quitting…", plural(n, "message"))}
		for _, q := range m.queues {
			if q.err != nil {
				m.quitWhenStored = false
				m.status = status{text: fmt.Sprintf("%s not stored: %s; ctrl+c again quits anyway", plural(n, "message"), userr.Line(q.err)), isErr: true}
				break
			}
		}
		return nil
	}
	m.quitting = true
	return tea.Quit
}

// onClick opens the chat clicked in the list.
func (m *model) onClick(c tea.MouseClickMsg) tea.Cmd {
	l := m.layout()
	if l.collapsed || c.X >= l.listW || c.Y < 1 {
		return nil
	}
	shown := max((m.c.height-l.statusH-3)/2, 1)
	top := max(max(m.list.index(m.open), 0)-shown+1, 0)
	i := top + (c.Y-1)/2
	if i < len(m.list.items) {
		return m.openChat(m.list.items[i].ID)
	}
	return nil
}

// onEvent applies one event of the chat worker.
func (m *model) onEvent(ev chat.Event) tea.Cmd {
	switch ev := ev.(type) {
	case chat.MessageEvent:
		e := ev.Entry
		if m.list.index(e.Chat) < 0 {
			return m.loadChats()
		}
		m.list = m.list.touch(e, m.open)
		if h := m.hists[e.Chat]; h != nil {
			h.add(e)
			if e.Chat == m.open {
				return m.markSeen()
			}
		}
	case chat.StatusEvent:
		if h := m.hists[ev.Entry.Chat]; h != nil {
			h.add(ev.Entry)
		}
	case chat.NetworkEvent:
		m.net, m.netErr = ev.State, ev.Err != nil
	case chat.ChatEvent, chat.LagEvent:
		// A LagEvent stands for events missed: the refresh after the
		// batch reads the open chat, and these the rest.
		return tea.Batch(m.loadChats(), m.loadFriends())
	case chat.AlertEvent:
		name := "?"
		if i := m.list.index(ev.Alert.Chat); i >= 0 {
			name = m.nameOf(m.list.items[i].Peer)
		}
		m.status = status{text: "with " + name + ": " + ev.Alert.String(), isErr: true}
		m.addAlert(ev.Alert)
		m.alertsLoading[ev.Alert.Chat] = true
		return m.loadAlerts(ev.Alert.Chat)
	}
	return nil
}

// onRefreshed applies what a refresh read in the store: the chat list,
// and the entries and statuses of the chat that was open, merged by Seq
// with what events brought, so that nothing shows twice. The draft, the
// cursor and the viewport stay as they are.
func (m *model) onRefreshed(msg refreshedMsg) tea.Cmd {
	m.refreshing = false
	cmd := m.applyRefresh(msg)
	if m.refreshAgain {
		m.refreshAgain = false
		cmd = tea.Batch(cmd, m.refresh())
	}
	return cmd
}

func (m *model) applyRefresh(msg refreshedMsg) tea.Cmd {
	if msg.friendsOK {
		m.friends = msg.friends
		m.refreshNames()
	}
	if msg.err != nil {
		if m.ctx.Err() == nil {
			m.fail(msg.err)
		}
		return nil
	}
	var cmds []tea.Cmd
	// Before the first list, the explicit load decides which chat opens.
	if m.listed {
		known := make(map[chat.ChatID]bool, len(m.list.items))
		for _, in := range m.list.items {
			known[in.ID] = true
		}
		cmds = append(cmds, m.onChats(chatsMsg(msg.chats)))
		for _, in := range msg.chats {
			if !known[in.ID] {
				// A chat from another process, perhaps with a friend
				// added there too.
				cmds = append(cmds, m.loadFriends())
				break
			}
		}
	}
	h := m.hists[msg.id]
	// A page installed since the refresh began may end before since: the
	// entries read would leave a gap. The next refresh reads from the page.
	if h == nil || !h.loaded || msg.since > h.syncedSeq {
		return tea.Batch(cmds...)
	}
	for _, e := range msg.entries {
		h.add(e)
	}
	if n := len(msg.entries); n > 0 {
		h.syncedSeq = max(h.syncedSeq, msg.entries[n-1].Seq)
	}
	if msg.outbox != nil {
		h.applyOutbox(*msg.outbox)
	}
	if msg.id == m.open && !h.loading {
		cmds = append(cmds, m.markSeen())
	}
	return tea.Batch(cmds...)
}

func (m *model) onChats(msg chatsMsg) tea.Cmd {
	before := m.list.items
	m.list = m.list.set(msg, m.open)
	m.refreshNames()
	for _, in := range msg {
		m.keys[in.ID] = in.Key
	}
	first := !m.listed
	m.listed = true
	changed := tea.Batch(m.chatsChanged(before), m.wantAlerts())
	// A chat opens by itself at the start, or when the first one comes;
	// not after the one open was deleted: what is typed then must not go
	// to someone else.
	if m.open != (chat.ChatID{}) || len(m.list.items) == 0 || !first && len(before) > 0 {
		return changed
	}
	want := m.wantOpen
	if !first || m.list.index(want) < 0 {
		want = m.list.items[0].ID
	}
	return tea.Batch(changed, m.openChat(want))
}

// refreshNames recomputes the name shown for each chat's friend, and the
// friend (for the trust state).
func (m *model) refreshNames() {
	per := make(map[keyring.PublicKey]int, len(m.list.items))
	for _, in := range m.list.items {
		per[in.Peer]++
	}
	for _, in := range m.list.items {
		delete(m.c.tags, in.ID)
		if k, ok := m.keys[in.ID]; ok && per[in.Peer] > 1 {
			m.c.tags[in.ID] = chatTag(k)
		}
		m.c.names[in.ID] = m.nameOf(in.Peer)
		if f, ok := m.friendByKey(in.Peer); ok {
			m.c.peers[in.ID] = f
		} else {
			delete(m.c.peers, in.ID)
		}
	}
}

// chatTag is the end of a chat key, to tell chats with one friend apart.
func chatTag(k wire.ChatKey) string {
	s := k.String()
	return "…" + s[max(len(s)-4, 0):]
}

// nameOf is the friend name of a key, or a stand-in for a stranger.
func (m *model) nameOf(pk keyring.PublicKey) string {
	if f, ok := m.friendByKey(pk); ok {
		return f.Name
	}
	fp := pk.Fingerprint()
	return "? " + fp[:4]
}

func (m *model) onPage(msg pageMsg) tea.Cmd {
	h := m.hists[msg.id]
	if h == nil {
		return nil
	}
	if msg.older {
		h.prependPage(msg.entries)
		return nil
	}
	h.setPage(msg.entries, msg.readUpTo)
	if msg.id == m.open {
		return m.markSeen()
	}
	return nil
}

// onChatReady opens the chat just started or joined at once, without
// waiting for the chat list (which a load in flight may deliver without
// it): a started chat with the panel of its key, which the user must give
// their friend.
func (m *model) onChatReady(msg chatReadyMsg) tea.Cmd {
	m.keys[msg.id] = msg.key
	if _, ok := m.c.names[msg.id]; !ok {
		m.c.names[msg.id] = msg.name
	}
	if msg.started {
		m.newChat, m.newChatWith = msg.id, msg.name
	} else {
		m.status = status{text: "joined the chat with " + msg.name}
	}
	if msg.note != "" {
		m.status = status{text: msg.note}
	}
	var open tea.Cmd
	if msg.id == m.open {
		m.panel = nil
		if msg.started {
			m.panel = newChatPanel(msg.name, msg.key)
			m.newChat, m.newChatWith = chat.ChatID{}, ""
		}
	} else {
		open = m.openChat(msg.id)
	}
	return tea.Batch(open, m.loadChats(), m.loadFriends())
}

// newChatPanel shows the key of a chat the user started with name.
func newChatPanel(name string, key wire.ChatKey) *panel {
	return &panel{title: "New chat with " + name, lines: []string{
		"Give " + name + " this chat key:",
		"",
		key.String(),
		"",
		"They join with: dhtchat respond YOURNAME <chat key>",
		"/copy chat copies it (OSC 52); f2 shows it again. Esc closes this.",
	}}
}

// fail shows err in the status bar, in plain words.
func (m *model) fail(err error) {
	m.status = status{text: userr.Line(err), isErr: true}
}

// netLabel is the network state, for the list or the status bar.
func (m *model) netLabel() string {
	st := m.c.styles
	switch m.net {
	case chat.Online:
		return st.info.Render("● online")
	case chat.Offline:
		return st.err.Render("✗ offline, retrying")
	}
	return st.warn.Render("○ connecting…")
}

func (m *model) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	if m.quitting {
		return v
	}
	w, h := m.c.width, m.c.height
	if w == 0 || h == 0 {
		return v
	}
	if w < 20 || h < 8 {
		v.SetContent(ansi.Truncate("dhtchat: the terminal is too small", w, "…"))
		return v
	}
	l := m.layout()
	conv := make([]string, 0, h)
	conv = append(conv, m.titleView(l))
	if l.banner {
		conv = append(conv, m.bannerView(l.convW))
	}
	conv = append(conv, m.notices(l.convW)...)
	conv = append(conv, m.mainView(l)...)
	conv = append(conv, m.c.styles.rule.Render(strings.Repeat("─", l.convW)))
	inView, cur := m.in.view()
	inRows := strings.Split(inView, "\n")
	for len(inRows) < l.inputH {
		inRows = append(inRows, "")
	}
	conv = append(conv, inRows[:l.inputH]...)

	var list []string
	if !l.collapsed {
		list = m.list.view(m.c, m.open, m.netLabel(), l.listW, h-l.statusH, func(id chat.ChatID) bool { return m.unseenAlerts(id) > 0 })
	}
	var b strings.Builder
	b.Grow(w * h * 2)
	for y := 0; y < h-l.statusH; y++ {
		if !l.collapsed {
			b.WriteString(fit(list[y], l.listW))
			b.WriteString(m.c.styles.rule.Render("│"))
		}
		row := ""
		if y < len(conv) {
			row = conv[y]
		}
		b.WriteString(fit(row, l.convW))
		b.WriteByte('\n')
	}
	b.WriteString(m.statusView(l))
	v.SetContent(b.String())
	if cur != nil && m.state == stateChat {
		cur.X += l.convX
		cur.Y += l.inputY
		v.Cursor = cur
	}
	return v
}

// titleView is the conversation's top row: who it is with, whether their
// key is verified, and its fingerprint if there is room.
func (m *model) titleView(l layout) string {
	st := m.c.styles
	if m.open == (chat.ChatID{}) {
		return st.title.Render("dhtchat")
	}
	f, ok := m.c.peer(m.open)
	i := m.list.index(m.open)
	paused := ""
	if i >= 0 {
		if label := pausedLabel(m.list.items[i]); label != "" {
			paused = " " + st.warn.Render(label)
		}
	}
	if i >= 0 && l.collapsed && len(m.list.items) > 1 {
		t := st.title.Render(m.c.names[m.open]) + paused + shortTrust(st, f, ok) + st.dim.Render(fmt.Sprintf("  (%d/%d, ctrl+n/p)", i+1, len(m.list.items)))
		if n := m.list.totalUnread(m.open); n > 0 {
			t += st.unread.Render(fmt.Sprintf(" %d unread", n))
		}
		return t
	}
	// A verified or changed key is said first; the quiet states come
	// after the fingerprint, when there is room.
	t := st.title.Render(m.c.names[m.open])
	if tag := m.c.tags[m.open]; tag != "" {
		t += st.dim.Render(" " + tag)
	}
	t += paused
	loud := ok && f.Trust() != keyring.Unverified
	if loud {
		t += headerGap(f) + trustLabel(st, f, ok)
	}
	if i >= 0 {
		fp := m.list.items[i].Peer.Fingerprint()
		for _, s := range []string{"  fingerprint " + fp, "  " + fp} {
			if ansi.StringWidth(t)+ansi.StringWidth(s) <= l.convW {
				t += st.dim.Render(s)
				break
			}
		}
	}
	if q := "  " + trustLabel(st, f, ok); !loud && ansi.StringWidth(t)+ansi.StringWidth(q) <= l.convW {
		t += q
	}
	return t
}

// mainView is the history, a panel, or the welcome text: l.histH rows,
// bottom-aligned for the history.
func (m *model) mainView(l layout) []string {
	var rows []string
	switch {
	case m.panel != nil:
		rows = m.panelView(l)
	case m.hist() != nil:
		var queued []string
		failed := false
		if q := m.queues[m.open]; q != nil {
			queued, failed = q.bodies(), q.err != nil
		}
		rows = m.hist().view(m.c, l.histH, l.convW, queued, failed)
		if len(rows) < l.histH {
			pad := make([]string, l.histH-len(rows), l.histH)
			rows = append(pad, rows...)
		}
		return rows
	default:
		rows = m.welcomeView(l)
	}
	for len(rows) < l.histH {
		rows = append(rows, "")
	}
	return rows[:l.histH]
}

// scrollPanel scrolls a panel taller than the room by a page (PgUp,
// PgDn) or three lines (the wheel).
func (m *model) scrollPanel(msg tea.Msg, l layout) {
	page := max(l.histH-2, 1)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.c.keys.PageUp):
			m.panel.top -= page
		case key.Matches(msg, m.c.keys.PageDown):
			m.panel.top += page
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			m.panel.top -= 3
		case tea.MouseWheelDown:
			m.panel.top += 3
		}
	}
	_, body := m.panelRows(l)
	m.panel.top = max(min(m.panel.top, len(body)-page), 0)
}

// panelView is the panel in l.histH rows: its title, then as much of its
// body as fits from panel.top, saying when there is more.
func (m *model) panelView(l layout) []string {
	st := m.c.styles
	title, body := m.panelRows(l)
	room := max(l.histH-2, 1)
	hint := "  (esc closes)"
	if len(body) > room {
		hint = "  (pgup/pgdn, esc closes)"
	}
	top := max(min(m.panel.top, len(body)-room), 0)
	body = body[top:min(top+room, len(body))]
	return append([]string{st.title.Render(title) + st.dim.Render(hint), ""}, body...)
}

// nbHyphen is U+2011, a hyphen where no line breaks.
const nbHyphen = "\u2011"

// panelRows is the title of the panel and its lines wrapped to the width
// of the conversation.
func (m *model) panelRows(l layout) (string, []string) {
	title, lines := m.panel.title, m.panel.lines
	switch {
	case m.panel.info:
		title, lines = m.infoView(m.panel.peer)
	case m.panel.friends:
		title, lines = m.friendsView()
	}
	var rows []string
	width := max(l.convW-1, 1)
	for _, line := range lines {
		// Keys ("dhtchat-chat1…") break at the end of a row, never at
		// their hyphen: it is held by a non-breaking one while wrapping.
		line = strings.ReplaceAll(line, "-", nbHyphen)
		// "term    description": wrap the description under itself.
		hang := 0
		if i := strings.Index(line, "  "); i > 0 {
			hang = i + len(line[i:]) - len(strings.TrimLeft(line[i:], " "))
		}
		if hang == 0 || hang > width/2 {
			for _, r := range strings.Split(ansi.Wrap(line, width, ""), "\n") {
				rows = append(rows, " "+strings.ReplaceAll(r, nbHyphen, "-"))
			}
			continue
		}
		parts := strings.Split(ansi.Wrap(line[hang:], width-hang, ""), "\n")
		for j, r := range parts {
			lead := line[:hang]
			if j > 0 {
				lead = strings.Repeat(" ", hang)
			}
			rows = append(rows, " "+strings.ReplaceAll(lead+r, nbHyphen, "-"))
		}
	}
	return title, rows
}

func (m *model) welcomeView(l layout) []string {
	st := m.c.styles
	if !m.listed {
		return []string{st.dim.Render("loading…")}
	}
	if len(m.list.items) > 0 {
		return []string{"No chat is open.", "", "  ctrl+n / ctrl+p   open one of your chats", "  /start NAME       start a new one"}
	}
	lines := []string{
		st.title.Render("Welcome to dhtchat."),
		"",
		"You have no chats yet. To start one:",
		"  /whoami          your key, to give a friend",
		"  /add NAME KEY    add a friend's key",
		"  /start NAME      start a chat with them",
		"  /respond NAME CHATKEY",
		"                   join the chat they started",
		"",
		st.dim.Render("/help: commands · f1: keys · ctrl+c: quit"),
	}
	return lines
}

// maxStatusRows is the most rows a long status message wraps onto.
const maxStatusRows = 3

// statusRight is the right of the status bar: the banner and, with the
// list collapsed, the network state.
func (m *model) statusRight(collapsed bool) string {
	st := m.c.styles
	right := ""
	if m.banner != "" {
		right = st.warn.Render(m.banner)
	}
	if collapsed {
		if right != "" {
			right += " "
		}
		right += m.netLabel()
	}
	if rw := ansi.StringWidth(right); rw > m.c.width/2 {
		right = m.netLabel() // the banner does not fit beside it
		if !collapsed {
			right = ansi.Truncate(st.warn.Render(m.banner), m.c.width/2, "…")
		}
	}
	return right
}

// statusLeft is the left of the status bar, one string per row: a
// message (wrapped onto up to maxStatusRows rows, so that a long error
// can be read whole), a question, or key hints.
func (m *model) statusLeft(collapsed bool) []string {
	st := m.c.styles
	width := max(m.c.width-ansi.StringWidth(m.statusRight(collapsed))-1, 1)
	style := st.info
	switch {
	case m.state == stateConfirmPaste:
		rows := strings.Split(ansi.Wrap(m.pastePrompt(), width, ""), "\n")
		for i, r := range rows {
			rows[i] = st.warn.Render(r)
		}
		return rows
	case m.status.text == "":
		return []string{hints(st, width)}
	case m.status.isErr:
		style = st.err
	}
	rows := strings.Split(ansi.Wrap(m.status.text, width, ""), "\n")
	if len(rows) > maxStatusRows {
		rows = rows[:maxStatusRows]
		rows[maxStatusRows-1] = ansi.Truncate(rows[maxStatusRows-1], width-1, "") + "…"
	}
	for i, r := range rows {
		rows[i] = style.Render(r)
	}
	return rows
}

// statusView is the status bar: l.statusH rows, the message or hints on
// the left and the banner and network state on the right of the first.
func (m *model) statusView(l layout) string {
	right := m.statusRight(l.collapsed)
	left := m.statusLeft(l.collapsed)
	gap := m.c.width - ansi.StringWidth(left[0]) - ansi.StringWidth(right)
	left[0] += strings.Repeat(" ", max(gap, 0)) + right
	return strings.Join(left, "\n")
}

// hints are the most useful keys, as many as fit.
func hints(st styles, width int) string {
	all := [][2]string{{"enter", "send"}, {"alt+enter", "newline"}, {"ctrl+n/p", "chats"}, {"pgup/pgdn", "scroll"}, {"f1", "keys"}, {"/help", ""}, {"ctrl+c", "quit"}}
	var b strings.Builder
	used := 0
	for _, h := range all {
		s := h[0]
		if h[1] != "" {
			s += " " + h[1]
		}
		wd := ansi.StringWidth(s)
		if used > 0 {
			wd += 3
		}
		if used+wd > width {
			break
		}
		if used > 0 {
			b.WriteString(st.bar.Render(" · "))
		}
		b.WriteString(st.barKey.Render(h[0]))
		if h[1] != "" {
			b.WriteString(st.bar.Render(" " + h[1]))
		}
		used += wd
	}
	return b.String()
}

// fit truncates or pads s to exactly w cells.
func fit(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "")
		sw = ansi.StringWidth(s)
	}
	return s + strings.Repeat(" ", max(w-sw, 0))
}

// helpPanel lists the key bindings.
func helpPanel(k keyMap) *panel {
	p := &panel{title: "Keys"}
	for _, b := range []key.Binding{k.Send, k.Newline, k.NextChat, k.PrevChat, k.PageUp, k.PageDown, k.Bottom, k.HistPrev, k.HistNext, k.Info, k.Quit} {
		h := b.Help()
		p.lines = append(p.lines, fmt.Sprintf("%-12s %s", h.Key, h.Desc))
	}
	p.lines = append(p.lines,
		fmt.Sprintf("%-12s %s", "mouse wheel", "scroll"),
		fmt.Sprintf("%-12s %s", "ctrl+a/e", "start/end of line; ctrl+u/k delete before/after; ctrl+w word"),
		"",
		"? types a ?. Over 5 lines pasted, or lines at once, ask: enter sends each line, ctrl+o one message, esc to the draft.")
	return p
}
