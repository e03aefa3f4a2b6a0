package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

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

// model is the top model.
type model struct {
	// ctx is the program's lifetime: the commands' I/O is cancelled with it
	// when the UI exits. It is not a bag of dependencies; those are below.
	ctx    context.Context
	client *chat.Client
	book   FriendBook
	events <-chan chat.Event // nil: not listening (tests feed eventsMsg)
	// setFocus tells the worker which chat is on screen (Client.Focus;
	// nil without an engine).
	setFocus func(chat.ChatID)
	// c holds, among what the parts share, the views of the chats
	// (c.chats): all the UI holds of each chat.
	c       *common
	state   state
	list    chatList
	in      input
	open    chat.ChatID // the chat on screen; zero: none
	friends []keyring.Friend
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
	panel       panel         // nil: none
	panelTop    int           // its first line shown, when it is taller than the room
	paste       *pendingPaste // the paste waiting for an answer
	quitting    bool

	// batches numbers the Sends of the chats' queues (see sendq.go);
	// ledger tells Run which of them ran (nil without Run).
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
}

func newModel(ctx context.Context, client *chat.Client, book FriendBook, events <-chan chat.Event) *model {
	c := newCommon()
	m := &model{
		ctx: ctx, client: client, book: book, events: events,
		c: c, in: newInput(c.chats), safety: make(map[keyring.PublicKey]string),
		net: chat.Connecting,
		// Without an engine (tests) nothing is loaded first.
		ready: client == nil,
	}
	if client != nil {
		m.setFocus = client.Focus
	}
	return m
}

func (m *model) Init() tea.Cmd {
	m.in.switchTo(chat.ChatID{})
	return tea.Batch(listen(m.events), m.loadChats(), m.loadFriends(), m.tick())
}

// hist is the history of the open chat, nil if none is or it is not loaded.
func (m *model) hist() *history { return m.c.chats.hist(m.open) }

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
	m.list.scrollTo(m.open, listShown(m.c.height-m.layout().statusH))
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
		m.show(keysPanel(keys))
		return nil
	case key.Matches(k, keys.Info):
		return m.toggleInfo()
	case key.Matches(k, keys.Bottom):
		if m.panel != nil {
			m.closePanel()
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
	if id == m.open && m.c.chats.hist(id) != nil {
		return nil
	}
	m.open = id
	m.in.switchTo(id)
	m.closePanel()
	if id == m.newChat && m.newChatWith != "" {
		if k, ok := m.c.chats.key(id); ok {
			m.show(newChatPanel(m.newChatWith, k))
			m.newChat, m.newChatWith = chat.ChatID{}, ""
		}
	}
	m.focus(id)
	cmds := []tea.Cmd{m.wantAlerts()}
	v := m.c.chats.get(id)
	h := v.hist
	unread := 0
	if i := m.list.index(id); i >= 0 {
		unread = m.list.items[i].Unread
	}
	if h == nil || unread > 0 {
		if h == nil {
			h = newHistory(id)
			v.hist = h
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
		for _, v := range m.c.chats {
			if q := v.queue; q != nil && q.err != nil {
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
	i := m.list.top + (c.Y-1)/2
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
		if h := m.c.chats.hist(e.Chat); h != nil {
			h.add(e)
			if e.Chat == m.open {
				return m.markSeen()
			}
		}
	case chat.StatusEvent:
		if h := m.c.chats.hist(ev.Entry.Chat); h != nil {
			h.add(ev.Entry)
		}
	case chat.NetworkEvent:
		m.net, m.netErr = ev.State, ev.Err != nil
	case chat.ChatEvent:
		return tea.Batch(m.loadChats(), m.loadFriends())
	case chat.AlertEvent:
		name := "?"
		if i := m.list.index(ev.Alert.Chat); i >= 0 {
			name = m.nameOf(m.list.items[i].Peer)
		}
		m.status = status{text: "with " + name + ": " + ev.Alert.String(), isErr: true}
		m.addAlert(ev.Alert)
		m.c.chats.get(ev.Alert.Chat).alertsLoading = true
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
	h := m.c.chats.hist(msg.id)
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
		m.c.chats.setKey(in.ID, in.Key)
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
		v := m.c.chats.get(in.ID)
		v.tag = ""
		if v.hasKey && per[in.Peer] > 1 {
			v.tag = chatTag(v.key)
		}
		v.name = m.nameOf(in.Peer)
		v.friend, v.isFriend = m.friendByKey(in.Peer)
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
	h := m.c.chats.hist(msg.id)
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
	v := m.c.chats.get(msg.id)
	v.key, v.hasKey = msg.key, true
	if v.name == "" {
		v.name = msg.name
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
		m.closePanel()
		if msg.started {
			m.show(newChatPanel(msg.name, msg.key))
			m.newChat, m.newChatWith = chat.ChatID{}, ""
		}
	} else {
		open = m.openChat(msg.id)
	}
	return tea.Batch(open, m.loadChats(), m.loadFriends())
}
