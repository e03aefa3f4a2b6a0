package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
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
	// setTyping tells the engine whether the user types in a chat
	// (Client.Typing; nil without an engine).
	setTyping func(chat.ChatID, bool)
	// after is tea.Tick (tests, which run commands at once, stop it).
	after func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
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

	// search is the search under way in the open chat (nil: none), and
	// stash the draft of chat stashed that Ctrl+F put aside for it.
	search  *search
	stash   string
	stashed chat.ChatID
	// drafts are the drafts as stored (see drafts.go).
	drafts drafts

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

	retrying bool   // a command runs again after the friends were read again
	line     string // the command line being run (see command)
	// quitArmed: Ctrl+C was pressed once with a draft unsent; the next
	// key, if Ctrl+C again, quits.
	quitArmed bool

	// notify is which notifications are on (see notify.go); focused
	// whether the terminal has the focus (true until it says otherwise),
	// and unseenHere the messages that came in the open chat while it had
	// not.
	notify     Notify
	focused    bool
	unseenHere int
	lastNotify time.Time // when the last notification was sent
}

func newModel(ctx context.Context, client *chat.Client, book FriendBook, events <-chan chat.Event) *model {
	c := newCommon()
	m := &model{
		ctx: ctx, client: client, book: book, events: events,
		c: c, in: newInput(c.chats), safety: make(map[keyring.PublicKey]string),
		net: chat.Connecting, notify: DefaultNotify(), focused: true, after: tea.Tick,
		// Without an engine (tests) nothing is loaded first.
		ready: client == nil,
	}
	if client != nil {
		m.setFocus = client.Focus
		m.setTyping = client.Typing
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
		notify, who := false, ""
		for _, ev := range msg {
			cmds = append(cmds, m.onEvent(ev))
			if e, ok := ev.(chat.MessageEvent); ok && !e.Entry.Outgoing && !m.looking(e.Entry.Chat) {
				notify, who = true, m.c.chats.name(e.Entry.Chat)
			}
		}
		if notify {
			cmds = append(cmds, m.notifyOf(who))
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
	case draftMsg:
		m.onDraft(msg)
	case draftSavedMsg:
		m.onDraftSaved(msg)
	case searchedMsg:
		cmds = append(cmds, m.onSearched(msg))
	case searchPageMsg:
		cmds = append(cmds, m.onSearchPage(msg))
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
	case tea.FocusMsg:
		cmds = append(cmds, m.onFocus(true))
	case tea.BlurMsg:
		cmds = append(cmds, m.onFocus(false))
	case tea.InterruptMsg:
		m.quitting = true
		m.saveDrafts()
		return m, tea.Quit
	case tea.PasteMsg:
		if !m.ready {
			m.typeahead = append(m.typeahead, msg)
			break
		}
		before := m.in.value()
		cmds = append(cmds, m.onPaste(msg))
		m.typed(before)
	case tea.MouseWheelMsg:
		cmds = append(cmds, m.scroll(msg))
	case tea.MouseClickMsg:
		cmds = append(cmds, m.onClick(msg))
	case tea.KeyPressMsg:
		if !m.ready {
			cmds = append(cmds, m.keyBeforeReady(msg))
			break
		}
		before := m.in.value()
		cmds = append(cmds, m.onKey(msg))
		m.typed(before)
	case typingExpiredMsg:
		// Drawn again: the status line reads the clock.
	default:
		// The textarea's own messages (cursor blink and the like).
		var cmd tea.Cmd
		m.in, cmd = m.in.update(m.c, msg)
		cmds = append(cmds, cmd)
	}
	m.list.scrollTo(m.open, listShown(m.c.height-m.layout().statusH))
	cmds = append(cmds, m.saveDrafts())
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
	if cmd, ok := m.onSearchKey(k); ok {
		return cmd
	}
	switch {
	case key.Matches(k, keys.Search):
		return m.startSearch()
	case m.stashed != (chat.ChatID{}) && key.Matches(k, keys.Bottom) && m.panel == nil:
		// Esc on the "/search " that Ctrl+F wrote: the draft comes back.
		m.restoreStash()
		return nil
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
	case key.Matches(k, keys.Discard):
		return m.discard()
	case m.completes(k):
		return m.complete(key.Matches(k, keys.CompleteBack))
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
			// After Ctrl+F's "/search ...", the draft it put aside.
			m.restoreStash()
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
