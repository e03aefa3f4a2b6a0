package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// The messages that commands send back to Update.
type (
	eventsMsg       []chat.Event // one or more events of the worker, in order
	eventsClosedMsg struct{}     // the worker stopped
	chatsMsg        []chat.Info
	friendsMsg      []keyring.Friend
	pageMsg         struct {
		id       chat.ChatID
		entries  []chat.Entry
		readUpTo uint64
		older    bool // a page before those loaded, not the latest
	}
	sentMsg struct { // a Send of the queue (see sendq.go) stored its bodies
		id      chat.ChatID
		batch   uint64
		entries []chat.Entry
	}
	sendFailedMsg struct {
		id    chat.ChatID
		batch uint64
		err   error
	}
	chatReadyMsg struct {
		id      chat.ChatID
		key     wire.ChatKey
		name    string
		started bool   // by us (/start), else joined (/respond) or opened
		note    string // for the status line, if set
	}
	friendAddedMsg keyring.Friend
	safetyMsg      struct {
		peer   keyring.PublicKey
		number string
	}
	verifiedMsg struct {
		name       string
		verified   bool
		wasChanged bool // the friend had a key-change warning
	}
	refreshTickMsg struct{} // time to read the store again
	refreshedMsg   struct {
		chats []chat.Info
		// The open chat when the refresh started, the syncedSeq of its
		// history then, and the entries read: those after since, and the
		// latest few before it (for their status).
		id      chat.ChatID
		since   int64
		entries []chat.Entry
		outbox  *chat.Outbox // when shown messages of ours are older than entries
		err     error
		// The friends, read again too: the keyring changes in other
		// terminals ('dhtchat add-friend'). friendsOK: they were read.
		friends   []keyring.Friend
		friendsOK bool
	}
	// retryMsg runs a command line again once the friends were read
	// again, for a command naming a friend not in the list loaded.
	retryMsg struct {
		line      string
		friends   []keyring.Friend
		friendsOK bool
	}
	errMsg         struct{ err error }
	chatsFailedMsg struct{ err error } // the chat list could not be read
	noteMsg        string
	panelMsg       panel
)

// maxBatch bounds how many queued events one delivery carries.
const maxBatch = 64

// listen is the one way events of the chat worker enter the program: it
// waits for the next event, takes whatever else is already queued, and
// Update re-arms it after handling them (the pattern of Bubble Tea's
// examples/realtime). So events arrive in order, one delivery at a time.
func listen(events <-chan chat.Event) tea.Cmd {
	if events == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-events
		if !ok {
			return eventsClosedMsg{}
		}
		batch := eventsMsg{ev}
		for len(batch) < maxBatch {
			select {
			case ev, ok := <-events:
				if !ok {
					return batch // the next listen reports the close
				}
				batch = append(batch, ev)
			default:
				return batch
			}
		}
		return batch
	}
}

// refreshInterval is how often the UI reads the store, which other
// dhtchat processes on the same database write (a "dhtchat send" in a
// script, a "dhtchat recv"): the worker's events are only hints.
const refreshInterval = time.Second

// refreshSmall is how many of the latest entries a refresh reads first:
// when nothing changed, that one small query is all it costs the chat.
const refreshSmall = 20

// tick asks for a refresh after m.refreshEvery; Update re-arms it, like
// listen. It is a timer that ends with the program's context, so no
// command outlives the program by a tick.
func (m *model) tick() tea.Cmd {
	if m.client == nil || m.refreshEvery <= 0 {
		return nil
	}
	ctx, d := m.ctx, m.refreshEvery
	return func() tea.Msg {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return refreshTickMsg{}
		case <-ctx.Done():
			return nil
		}
	}
}

// refresh reads the store: the chat list (unread counts, new chats, last
// messages) and what the open chat's history lacks. One refresh is in
// flight at a time; asking during one runs another after it.
func (m *model) refresh() tea.Cmd {
	if m.client == nil {
		return nil
	}
	if m.refreshing {
		m.refreshAgain = true
		return nil
	}
	m.refreshing = true
	ctx, client, book := m.ctx, m.client, m.book
	var id chat.ChatID
	var since, unacked int64
	if h := m.hist(); h != nil && h.loaded {
		id, since, unacked = h.id, h.syncedSeq, h.oldestUnacked()
	}
	return func() tea.Msg {
		msg := refreshedMsg{id: id, since: since}
		if book != nil {
			// Cheap when the keyring did not change (see FriendBook.List).
			fs, err := book.List()
			msg.friends, msg.friendsOK = fs, err == nil
		}
		msg.chats, msg.err = client.Chats(ctx)
		if msg.err != nil || id == (chat.ChatID{}) {
			return msg
		}
		msg.entries, msg.outbox, msg.err = catchUp(ctx, client, id, since, unacked)
		if errors.Is(msg.err, chat.ErrUnknownChat) {
			// Deleted meanwhile: the list read first says so, and the
			// chat closes (see chatsChanged).
			msg.entries, msg.outbox, msg.err = nil, nil, nil
		}
		return msg
	}
}

// catchUp reads the entries of chat id after Seq since, from the end, a
// small page first and whole pages if there are more; and the outbox
// counters if a message of ours that may have changed status (Seq
// unacked) is older than what it read.
func catchUp(ctx context.Context, client *chat.Client, id chat.ChatID, since, unacked int64) ([]chat.Entry, *chat.Outbox, error) {
	es, err := client.History(ctx, id, 0, refreshSmall)
	if err != nil {
		return nil, nil, err
	}
	for page, limit := es, refreshSmall; len(page) == limit && page[0].Seq > since; {
		limit = pageSize
		if page, err = client.History(ctx, id, page[0].Seq, limit); err != nil {
			return nil, nil, err
		}
		es = append(slices.Clip(page), es...)
	}
	if unacked == 0 || (len(es) > 0 && es[0].Seq <= unacked) {
		return es, nil, nil
	}
	o, err := client.Outbox(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return es, &o, nil
}

func (m *model) loadChats() tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		infos, err := client.Chats(ctx)
		if err != nil {
			return chatsFailedMsg{err}
		}
		return chatsMsg(infos)
	}
}

func (m *model) loadFriends() tea.Cmd {
	book := m.book
	if book == nil {
		return nil
	}
	return func() tea.Msg {
		fs, err := book.List()
		if err != nil {
			return errMsg{err}
		}
		return friendsMsg(fs)
	}
}

// loadPage loads the latest page of chat id and how far it was read.
func (m *model) loadPage(id chat.ChatID) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		n, err := client.ReadUpTo(ctx, id)
		if err != nil {
			return errMsg{err}
		}
		es, err := client.History(ctx, id, 0, pageSize)
		if err != nil {
			return errMsg{err}
		}
		return pageMsg{id: id, entries: es, readUpTo: n}
	}
}

// loadOlder loads the page before entry seq.
func (m *model) loadOlder(id chat.ChatID, before int64) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		es, err := client.History(ctx, id, before, pageSize)
		if err != nil {
			return errMsg{err}
		}
		return pageMsg{id: id, entries: es, older: true}
	}
}

// focus tells the worker which chat is on screen, to poll it fast. It is
// called in Update, not from a command: commands run concurrently, and two
// quick switches would reach the worker in either order. Client.Focus
// takes a lock held only briefly and never blocks.
func (m *model) focus(id chat.ChatID) {
	if m.setFocus != nil {
		m.setFocus(id)
	}
}

func (m *model) markRead(id chat.ChatID, n uint64) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		if err := client.MarkRead(ctx, id, n); err != nil {
			return errMsg{err}
		}
		return nil
	}
}

// command runs a slash command. ok is false if it was refused (an
// unknown command, wrong arguments): the status bar says why, and the
// draft stays, to be corrected.
func (m *model) command(line string) (cmd tea.Cmd, ok bool) {
	f := strings.Fields(line)
	name, args := strings.ToLower(f[0]), f[1:]
	usage := func(u string) (tea.Cmd, bool) {
		m.status = status{text: "usage: " + u, isErr: true}
		return nil, false
	}
	if f, ok := namedFriend(name, args); ok && !m.retrying {
		if _, err := m.friend(f); err != nil {
			return m.reloadThen(line), true
		}
	}
	switch name {
	case "/quit", "/exit", "/q":
		return m.quit(false), true
	case "/help", "/h":
		m.panel = commandsPanel()
		return nil, true
	case "/keys":
		m.panel = helpPanel(m.c.keys)
		return nil, true
	case "/whoami", "/me":
		pk := m.book.Self()
		m.panel = &panel{title: "Your public key", lines: []string{
			pk.String(), "", "fingerprint " + pk.Fingerprint(), "",
			"Give the key to a friend; compare the fingerprint with them in person or on a call.",
			"/copy key sends it to your terminal's clipboard.",
		}}
		return nil, true
	case "/friends":
		return m.friendsPanel(), true
	case "/add":
		if len(args) != 2 {
			return usage("/add NAME PUBKEY")
		}
		book := m.book
		return func() tea.Msg {
			f, err := book.Add(args[0], args[1])
			if err != nil {
				return errMsg{err}
			}
			return friendAddedMsg(f)
		}, true
	case "/start":
		another := len(args) == 2 && args[1] == "--new"
		if len(args) != 1 && !another {
			return usage("/start NAME [--new]")
		}
		return m.startChat(args[0], another)
	case "/respond", "/join":
		if len(args) != 2 {
			return usage("/respond NAME CHATKEY")
		}
		return m.joinChat(args[0], args[1])
	case "/info":
		switch len(args) {
		case 0:
			m.panel = nil // toggleInfo opens it
			return m.toggleInfo(), true
		case 1:
			f, err := m.friend(args[0])
			if err != nil {
				m.fail(err)
				return nil, false
			}
			return m.openInfo(f.Key), true
		}
		return usage("/info [NAME]")
	case "/verify", "/unverify":
		if len(args) > 1 {
			return usage(name + " [NAME]")
		}
		return m.setVerified(args, name == "/verify"), true
	case "/copy":
		if len(args) != 1 || (args[0] != "key" && args[0] != "chat") {
			return usage("/copy key|chat")
		}
		if args[0] == "key" {
			m.status = status{text: "sent your public key to your terminal's clipboard (OSC 52; works if your terminal supports it)"}
			return tea.SetClipboard(m.book.Self().String()), true
		}
		k, ok := m.keys[m.open]
		if !ok {
			m.status = status{text: "no chat is open", isErr: true}
			return nil, false
		}
		m.status = status{text: "sent the chat key to your terminal's clipboard (OSC 52; works if your terminal supports it)"}
		return tea.SetClipboard(k.String()), true
	}
	m.status = status{text: fmt.Sprintf("unknown command %s: /help lists them (// sends a message starting with /)", name), isErr: true}
	return nil, false
}

// namedFriend is the friend a command line names, for the commands that
// take one.
func namedFriend(name string, args []string) (string, bool) {
	switch {
	case name == "/start" && (len(args) == 1 || len(args) == 2),
		(name == "/respond" || name == "/join") && len(args) == 2,
		(name == "/info" || name == "/verify" || name == "/unverify") && len(args) == 1:
		return args[0], true
	}
	return "", false
}

// reloadThen reads the friends again and then runs line again: the
// friend it names may have been added in another terminal since the list
// was loaded.
func (m *model) reloadThen(line string) tea.Cmd {
	book := m.book
	return func() tea.Msg {
		fs, err := book.List()
		return retryMsg{line: line, friends: fs, friendsOK: err == nil}
	}
}

// friend returns the friend called name from the last list loaded.
func (m *model) friend(name string) (keyring.Friend, error) {
	for _, f := range m.friends {
		if f.Name == name {
			return f, nil
		}
	}
	return keyring.Friend{}, userr.Usagef("%s is not one of your friends: /friends lists them, /add %s PUBKEY adds one", name, name)
}

// startChat starts a chat with name, or opens the one there is, as
// 'dhtchat start' does: another needs --new (another). ok: as for command.
func (m *model) startChat(name string, another bool) (cmd tea.Cmd, ok bool) {
	f, err := m.friend(name)
	if err != nil {
		m.fail(err)
		return nil, false
	}
	ctx, client := m.ctx, m.client
	return func() tea.Msg {
		existing, err := client.ChatsWith(ctx, f.Key)
		if err != nil {
			return errMsg{err}
		}
		if len(existing) > 0 && !another {
			return chatReadyMsg{id: existing[0].ID, key: existing[0].Key, name: f.Name,
				note: fmt.Sprintf("you already have a chat with %s: opened it (/start %s --new starts another)", f.Name, f.Name)}
		}
		in, err := client.StartChat(ctx, f.Key)
		if errors.Is(err, chat.ErrBlocked) {
			return errMsg{userr.Usagef("%s is blocked: 'dhtchat unblock %s' first", f.Name, f.Name)}
		}
		if err != nil {
			return errMsg{err}
		}
		msg := chatReadyMsg{id: in.ID, key: in.Key, name: f.Name, started: true}
		if len(existing) > 0 {
			msg.note = fmt.Sprintf("another chat with %s: nothing you send in it reaches %s until they join it with its key", f.Name, f.Name)
		}
		return msg
	}, true
}

// joinChat joins the chat with name of chat key text. ok: as for command.
func (m *model) joinChat(name, text string) (cmd tea.Cmd, ok bool) {
	f, err := m.friend(name)
	if err != nil {
		m.fail(err)
		return nil, false
	}
	key, err := wire.ParseChatKey(text)
	if err != nil {
		m.fail(err)
		return nil, false
	}
	ctx, client := m.ctx, m.client
	return func() tea.Msg {
		in, err := client.JoinChat(ctx, f.Key, key)
		if err != nil {
			if errors.Is(err, wire.ErrChatKeyNotForYou) {
				return errMsg{userr.Usagef("this chat key was not made for you and %s: check that %s started it with your public key", f.Name, f.Name)}
			}
			return errMsg{err}
		}
		return chatReadyMsg{id: in.ID, key: key, name: f.Name}
	}, true
}

// friendsPanel shows the friends: a panel made when drawn, so that the
// list read again (just asked for) shows at once.
func (m *model) friendsPanel() tea.Cmd {
	m.panel = &panel{friends: true}
	return m.loadFriends()
}

// friendsView is the title and lines of the friends panel.
func (m *model) friendsView() (string, []string) {
	var lines []string
	if len(m.friends) == 0 {
		lines = []string{"No friends yet. /add NAME PUBKEY adds one; /whoami shows the key to give them."}
	}
	for _, f := range m.friends {
		lines = append(lines, fmt.Sprintf("%-16s %s  %s", f.Name, f.Key.Fingerprint(), trustLabel(m.c.styles, f, true)))
	}
	return "Friends", lines
}

func commandsPanel() *panel {
	// One line each at 80 columns: the panel does not scroll.
	return &panel{title: "Commands", lines: []string{
		"/add NAME PUBKEY        add a friend by their key",
		"/start NAME             start a chat; shows its key",
		"/respond NAME CHATKEY   join a chat a friend started",
		"/friends                friends and their fingerprints",
		"/info [NAME]            safety number and keys (f2)",
		"/verify [NAME]          mark verified: numbers match",
		"/unverify [NAME]        remove the verified mark",
		"/whoami                 your public key to give",
		"/copy key|chat          copy your key or this chat's key (OSC 52)",
		"/keys                   key bindings (also f1)",
		"/quit                   leave (also ctrl+c)",
		"",
		"A line starting with // sends a message that starts with /.",
	}}
}
