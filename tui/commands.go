package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// slashCommand is one slash command. The table of them (slashCommands)
// is the one place a command is written: the dispatcher (command), the
// friend it names (namedFriend) and the /help panel all read it.
type slashCommand struct {
	name    string   // "/start"
	aliases []string // other names that run it
	args    string   // the arguments, for /help and the usage error: "NAME"
	// flags are more arguments, for the usage error only: "[--new]".
	flags string
	help  string // the line in /help; "": not listed
	// minArgs and maxArgs bound how many arguments it takes (maxArgs < 0:
	// any number); out of them, the usage error.
	minArgs, maxArgs int
	// friendFirst: its first argument, if given, names a friend.
	friendFirst bool
	// run runs it with args, whose number is within bounds. ok: as for
	// model.command.
	run func(m *model, c *slashCommand, args []string) (cmd tea.Cmd, ok bool)
}

// slashCommands is the table of slash commands, in the order /help lists
// them. It is set in init because /help reads it (as cmd/go's table of
// commands is, for its help command).
var slashCommands []slashCommand

func init() {
	slashCommands = []slashCommand{
		{name: "/add", args: "NAME PUBKEY", help: "add a friend by their key", minArgs: 2, maxArgs: 2, run: (*model).runAdd},
		{name: "/start", args: "NAME", flags: "[--new]", help: "start a chat; shows its key", minArgs: 1, maxArgs: 2, friendFirst: true, run: (*model).runStart},
		{name: "/respond", aliases: []string{"/join"}, args: "NAME CHATKEY", help: "join a chat a friend started", minArgs: 2, maxArgs: 2, friendFirst: true, run: (*model).runRespond},
		{name: "/friends", help: "friends and their fingerprints", maxArgs: -1, run: (*model).runFriends},
		{name: "/info", args: "[NAME]", help: "safety number and keys (f2)", maxArgs: 1, friendFirst: true, run: (*model).runInfo},
		{name: "/verify", args: "[NAME]", help: "mark verified: numbers match", maxArgs: 1, friendFirst: true, run: (*model).runVerify},
		{name: "/unverify", args: "[NAME]", help: "remove the verified mark", maxArgs: 1, friendFirst: true, run: (*model).runVerify},
		{name: "/whoami", help: "your public key to give", maxArgs: -1, run: (*model).runWhoami},
		{name: "/copy", args: "key|chat", help: "copy your key or this chat's key (OSC 52)", minArgs: 1, maxArgs: 1, run: (*model).runCopy},
		{name: "/keys", help: "key bindings (also f1)", maxArgs: -1, run: (*model).runKeys},
		{name: "/me", args: "TEXT", help: "an action: * you TEXT", minArgs: 1, maxArgs: -1, run: (*model).runMe},
		{name: "/msg", args: "NAME TEXT", help: "send to NAME, staying here", minArgs: 2, maxArgs: -1, friendFirst: true, run: (*model).runMsg},
		{name: "/query", aliases: []string{"/q"}, args: "NAME", help: "open (or start) NAME's chat", minArgs: 1, maxArgs: 1, friendFirst: true, run: (*model).runQuery},
		{name: "/close", help: "close the panel", run: (*model).runClose},
		{name: "/search", args: "TEXT", help: "find TEXT in this chat (also ctrl+f)", minArgs: 1, maxArgs: -1, run: (*model).runSearch},
		{name: "/clear", help: "clear the history shown", run: (*model).runClear},
		{name: "/quit", aliases: []string{"/exit"}, help: "leave (also ctrl+c)", maxArgs: -1, run: (*model).runQuit},
		{name: "/help", aliases: []string{"/h"}, maxArgs: -1, run: (*model).runHelp},
	}
}

// lookupCommand is the command called name (lower case), if there is one.
func lookupCommand(name string) (*slashCommand, bool) {
	for i := range slashCommands {
		c := &slashCommands[i]
		if c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return nil, false
}

// synopsis is the command with its arguments, as the usage error says.
func (c *slashCommand) synopsis() string {
	return strings.Join(slices.DeleteFunc([]string{c.name, c.args, c.flags}, func(s string) bool { return s == "" }), " ")
}

// takes reports whether the command takes n arguments.
func (c *slashCommand) takes(n int) bool {
	return n >= c.minArgs && (c.maxArgs < 0 || n <= c.maxArgs)
}

// command runs a slash command. ok is false if it was refused (an
// unknown command, wrong arguments): the status bar says why, and the
// draft stays, to be corrected.
func (m *model) command(line string) (cmd tea.Cmd, ok bool) {
	m.line = line
	f := strings.Fields(line)
	name, args := strings.ToLower(f[0]), f[1:]
	c, found := lookupCommand(name)
	if !found {
		m.status = status{text: fmt.Sprintf("unknown command %s: /help lists them (// sends a message starting with /)", name), isErr: true}
		return nil, false
	}
	if f, ok := namedFriend(c, args); ok && !m.retrying {
		if _, err := m.friend(f); err != nil {
			return m.reloadThen(line), true
		}
	}
	if !c.takes(len(args)) {
		return m.usage(c)
	}
	return c.run(m, c, args)
}

// usage refuses command c, with its synopsis.
func (m *model) usage(c *slashCommand) (tea.Cmd, bool) {
	m.status = status{text: "usage: " + c.synopsis(), isErr: true}
	return nil, false
}

// namedFriend is the friend a command line names, for the commands that
// take one.
func namedFriend(c *slashCommand, args []string) (string, bool) {
	if c.friendFirst && len(args) > 0 && c.takes(len(args)) {
		return args[0], true
	}
	return "", false
}

func (m *model) runQuit(*slashCommand, []string) (tea.Cmd, bool) { return m.quit(false), true }

// restOf is line after its first n words, as typed (its spaces kept).
func restOf(line string, n int) string {
	s := strings.TrimLeft(line, " \t")
	for range n {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return ""
		}
		s = strings.TrimLeft(s[i:], " \t")
	}
	return s
}

// actionText is the action of a message that is one ("/me waves":
// "waves"). This is a convention of the text, as on IRC, and no kind of
// message: other clients show "/me waves" (see PROTOCOL.md).
func actionText(body string) (string, bool) {
	a, ok := strings.CutPrefix(body, "/me ")
	if !ok || strings.TrimSpace(a) == "" || strings.Contains(a, "\n") {
		return "", false
	}
	return a, true
}

func (m *model) runMe(*slashCommand, []string) (tea.Cmd, bool) {
	if m.open == (chat.ChatID{}) {
		m.status = status{text: "no chat is open: /start NAME starts one", isErr: true}
		return nil, false
	}
	return m.sendTo(m.open, "/me "+restOf(m.line, 1))
}

// runMsg sends to the chat with a friend without leaving the one on
// screen.
func (m *model) runMsg(_ *slashCommand, args []string) (tea.Cmd, bool) {
	f, err := m.friend(args[0])
	if err != nil {
		m.fail(err)
		return nil, false
	}
	id, ok := m.chatWith(f.Key)
	if !ok {
		m.status = status{text: fmt.Sprintf("no chat with %s: /start %s starts one", f.Name, f.Name), isErr: true}
		return nil, false
	}
	cmd, ok := m.sendTo(id, restOf(m.line, 2))
	if ok {
		m.status = status{text: "sent to " + f.Name}
	}
	return cmd, ok
}

// sendTo sends text in chat id, as Enter does in the chat on screen.
func (m *model) sendTo(id chat.ChatID, text string) (tea.Cmd, bool) {
	if m.refusePaused(id) {
		return nil, false
	}
	if err := chat.ValidBody(text); err != nil {
		m.fail(err)
		return nil, false
	}
	return m.enqueue(id, text), true
}

// chatWith is the most recently active chat with the holder of pk.
func (m *model) chatWith(pk keyring.PublicKey) (chat.ChatID, bool) {
	for _, in := range m.list.items {
		if in.Peer == pk {
			return in.ID, true
		}
	}
	return chat.ChatID{}, false
}

// runQuery opens the chat with a friend, or starts one, as /start does.
func (m *model) runQuery(_ *slashCommand, args []string) (tea.Cmd, bool) {
	f, err := m.friend(args[0])
	if err != nil {
		m.fail(err)
		return nil, false
	}
	if id, ok := m.chatWith(f.Key); ok {
		return m.openChat(id), true
	}
	return m.startChat(f.Name, false)
}

// runClose closes the panel. A chat cannot be closed as an IRC query is:
// it is in the list as long as the store holds it.
func (m *model) runClose(*slashCommand, []string) (tea.Cmd, bool) {
	if m.panel != nil {
		m.closePanel()
		return m.markSeen(), true
	}
	m.status = status{text: "a chat stays in the list while it exists: 'dhtchat delete-chat NAME' deletes it and its history; /close closes a panel", isErr: true}
	return nil, true
}

// runClear takes the history of the chat on screen off the screen;
// nothing is deleted: it is back when the chat is read again.
func (m *model) runClear(*slashCommand, []string) (tea.Cmd, bool) {
	h := m.hist()
	if h == nil || !h.loaded {
		return nil, true
	}
	h.clearScreen()
	m.status = status{text: "cleared from the screen; nothing is deleted"}
	return nil, true
}

func (m *model) runHelp(*slashCommand, []string) (tea.Cmd, bool) {
	m.show(commandsPanel())
	return nil, true
}

func (m *model) runKeys(*slashCommand, []string) (tea.Cmd, bool) {
	m.show(keysPanel(m.c.keys))
	return nil, true
}

func (m *model) runWhoami(*slashCommand, []string) (tea.Cmd, bool) {
	pk := m.book.Self()
	m.show(textPanel{title: "Your public key", lines: []string{
		pk.String(), "", "fingerprint " + pk.Fingerprint(), "",
		"Give the key to a friend; compare the fingerprint with them in person or on a call.",
		"/copy key sends it to your terminal's clipboard.",
	}})
	return nil, true
}

// runFriends shows the friends: a panel made when drawn, so that the list
// read again (just asked for) shows at once.
func (m *model) runFriends(*slashCommand, []string) (tea.Cmd, bool) {
	m.show(friendsPanel{})
	return m.loadFriends(), true
}

func (m *model) runAdd(_ *slashCommand, args []string) (tea.Cmd, bool) {
	book := m.book
	return func() tea.Msg {
		f, err := book.Add(args[0], args[1])
		if err != nil {
			return errMsg{err}
		}
		return friendAddedMsg(f)
	}, true
}

func (m *model) runStart(c *slashCommand, args []string) (tea.Cmd, bool) {
	another := len(args) == 2 && args[1] == "--new"
	if len(args) == 2 && !another {
		return m.usage(c)
	}
	return m.startChat(args[0], another)
}

func (m *model) runRespond(_ *slashCommand, args []string) (tea.Cmd, bool) {
	return m.joinChat(args[0], args[1])
}

func (m *model) runInfo(_ *slashCommand, args []string) (tea.Cmd, bool) {
	if len(args) == 0 {
		m.closePanel() // toggleInfo opens it
		return m.toggleInfo(), true
	}
	f, err := m.friend(args[0])
	if err != nil {
		m.fail(err)
		return nil, false
	}
	return m.openInfo(f.Key), true
}

// runVerify is /verify and /unverify.
func (m *model) runVerify(c *slashCommand, args []string) (tea.Cmd, bool) {
	return m.setVerified(args, c.name == "/verify"), true
}

func (m *model) runCopy(c *slashCommand, args []string) (tea.Cmd, bool) {
	switch args[0] {
	case "key":
		m.status = status{text: "sent your public key to your terminal's clipboard (OSC 52; works if your terminal supports it)"}
		return tea.SetClipboard(m.book.Self().String()), true
	case "chat":
		k, ok := m.c.chats.key(m.open)
		if !ok {
			m.status = status{text: "no chat is open", isErr: true}
			return nil, false
		}
		m.status = status{text: "sent the chat key to your terminal's clipboard (OSC 52; works if your terminal supports it)"}
		return tea.SetClipboard(k.String()), true
	}
	return m.usage(c)
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
		_, err := client.ChatWithKey(ctx, f.Key, key)
		known := err == nil
		in, err := client.JoinChat(ctx, f.Key, key)
		if err != nil {
			if errors.Is(err, wire.ErrChatKeyNotForYou) {
				return errMsg{userr.Usagef("this chat key was not made for you and %s: check that %s started it with your public key", f.Name, f.Name)}
			}
			return errMsg{err}
		}
		msg := chatReadyMsg{id: in.ID, key: key, name: f.Name}
		if known {
			msg.note = "you already joined this chat with " + f.Name + "; here it is"
		}
		return msg
	}, true
}
