package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"golang.org/x/term"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
	"github.com/dhtchat/dhtchat/tui"
)

// runUI runs "dhtchat" with no command: the full-screen chat over all
// chats. It needs a terminal; scripts have the other commands.
func runUI(ctx context.Context, e *env) error {
	if !e.isTerminal() {
		return userr.Usagef("the full-screen chat needs a terminal").
			WithHint("'dhtchat --help' lists the commands for scripts: chats, send, recv, history")
	}
	// A bad setting is said before the terminal is taken.
	if _, err := e.notify(); err != nil {
		return err
	}
	// Keys typed from now on are the UI's: take the terminal before the
	// database and the network open (see tui.Terminal), unless the
	// keyring's passphrase is still to be typed on it.
	var t *tui.Terminal
	if !e.mayAskPassphrase() {
		var err error
		if t, err = e.takeTerminal(); err != nil {
			return err
		}
		defer t.Restore()
	}
	s, err := e.openSessionWatching(ctx, true, chat.WatchAll)
	if err != nil {
		return err
	}
	defer s.close()
	// One-shot commands of this home use this session while it runs.
	e.serveAgent(ctx, s)
	return e.fullScreen(ctx, s, tui.Options{Terminal: t})
}

// mayAskPassphrase reports whether opening the keyring may ask for its
// passphrase on the terminal.
func (e *env) mayAskPassphrase() bool {
	if e.passphraseFile != "" || e.getenv("DHTCHAT_PASSPHRASE") != "" {
		return false
	}
	f, err := e.keyringFile()
	if err != nil {
		return true
	}
	enc, err := f.Encrypted()
	return err != nil || enc
}

// takeTerminal takes stdin, a terminal, for the UI.
func (e *env) takeTerminal() (*tui.Terminal, error) {
	t, err := tui.TakeTerminal(e.stdin.(*os.File))
	if err != nil {
		return nil, userr.Runtimef("cannot use the terminal: %v", err)
	}
	return t, nil
}

// converse runs the chat after start or respond: the full-screen UI on a
// terminal, pipe mode otherwise. started says that start just made it.
func (e *env) converse(ctx context.Context, s *session, info chat.Info, name string, follow, started bool) error {
	if e.converseWatch() != chat.WatchAll {
		return e.pipeMode(ctx, s, info, name, follow)
	}
	// The session, online, keeps libp2p's logs off the terminal.
	opts := tui.Options{Open: info.ID}
	if started {
		// The key printed before went behind the alternate screen: the
		// chat opens with a panel that shows it again.
		opts.NewChatWith = name
	}
	return e.fullScreen(ctx, s, opts)
}

// converseWatch is what the worker of start and respond works on: every
// chat when the conversation goes full-screen (see converse), the chat it
// is about in pipe mode.
func (e *env) converseWatch() chat.Watch {
	if !e.isTerminal() || e.json {
		return chat.WatchUsed
	}
	return chat.WatchAll
}

// fullScreen runs the UI on the session, opened with chat.WatchAll, with
// the terminal of stdin and stdout (taken already if opts.Terminal is
// set).
func (e *env) fullScreen(ctx context.Context, s *session, opts tui.Options) error {
	opts.Input, opts.Output = e.stdin, e.stdout
	st, err := e.settings()
	if err != nil {
		return err
	}
	return unsentTo(e.stderr, uiOn(ctx, s, st, opts))
}

// uiOn runs the UI on the session's engine, on the terminal that opts
// says (this process's, or an SSH session's: serve.go), with its own
// stream of the engine's events, as the settings say.
func uiOn(ctx context.Context, s *session, st *settings, opts tui.Options) error {
	opts.Client = s.client
	// The terminal is the UI's from now on: the keyring file may use the
	// passphrase typed at start, but not ask for one again (openSession
	// made sure of it).
	opts.Friends = s.book
	n := st.notify
	opts.Notify = &n
	opts.Look = st.look
	return tui.Run(ctx, opts)
}

// notify is how the UI tells of messages not looked at: config.toml's
// [notify], DHTCHAT_NOTIFY, or the default.
func (e *env) notify() (tui.Notify, error) {
	st, err := e.settings()
	if err != nil {
		return tui.Notify{}, err
	}
	return st.notify, nil
}

// unsentTo gives back, on w, the text of messages the UI could not store
// before it ended (tui.NotStoredError), so that none is lost.
func unsentTo(w io.Writer, err error) error {
	var ns *tui.NotStoredError
	if !errors.As(err, &ns) {
		return err
	}
	msgs := "1 message"
	if len(ns.Bodies) != 1 {
		msgs = fmt.Sprintf("%d messages", len(ns.Bodies))
	}
	say(w, "warning: ", fmt.Sprintf("the store refused %s you sent; here they are:", msgs))
	for _, b := range ns.Bodies { // the texts as typed: data, not notes
		fmt.Fprintf(w, "%s\n\n", b)
	}
	return userr.Runtimef("%s not stored: %s", msgs, userr.Msg(ns.Err)).Because(ns.Err)
}

// isTerminal reports whether both stdin and stdout are terminals.
func (e *env) isTerminal() bool {
	in, ok1 := e.stdin.(*os.File)
	out, ok2 := e.stdout.(*os.File)
	return ok1 && ok2 && term.IsTerminal(int(in.Fd())) && term.IsTerminal(int(out.Fd()))
}

// friendBook is the keyring as the UI sees it. It never asks for a
// passphrase (the terminal belongs to the UI): it uses the keyring file
// that opened the session, which keeps the passphrase typed at start, or
// else --passphrase-file or DHTCHAT_PASSPHRASE. List reads the file again
// whenever it changed (another terminal's 'dhtchat add-friend'), and
// otherwise returns the keyring loaded last.
type friendBook struct {
	e  *env
	kf *keyring.File // nil: one made from e that never prompts

	loadMu sync.Mutex // one reload at a time: each may cost an scrypt run
	mu     sync.Mutex // guards snapshot and seen: the UI calls from several commands at once
	// snapshot is the keyring last loaded, seen the file's state then
	// (nil: not read by the book yet).
	snapshot *keyring.Keyring
	seen     os.FileInfo
}

var errNeedPassphrase = errors.New("the keyring is encrypted: to add friends from here, set DHTCHAT_PASSPHRASE or --passphrase-file; or use 'dhtchat add-friend' in another terminal")

func (b *friendBook) file() (*keyring.File, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.kf != nil {
		return b.kf, nil
	}
	f, err := b.e.keyringFileAsking(b.e.passphraseNoPrompt)
	if err != nil {
		return nil, err
	}
	b.kf = f
	return f, nil
}

func (b *friendBook) Self() keyring.PublicKey { return b.snapshot.Identity.Public() }

// isFriend reports whether pk is a friend's key in the keyring as it is
// now (read again if the file changed): the chat client pauses the chats
// of anyone else.
func (b *friendBook) isFriend(pk keyring.PublicKey) bool {
	b.reload()
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.snapshot.FriendByKey(pk)
	return ok
}

func (b *friendBook) List() ([]keyring.Friend, error) {
	b.reload()
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.snapshot.Friends), nil
}

// reload reads the keyring again if the file changed since it was last
// read: when it did not, it costs a stat, so the UI may ask every second.
// A keyring that fails to load (a passphrase changed meanwhile, say) is
// not tried again until the file changes again; the friends stay as they
// were.
func (b *friendBook) reload() {
	b.loadMu.Lock()
	defer b.loadMu.Unlock()
	f, err := b.file()
	if err != nil {
		return
	}
	fi, err := os.Stat(f.Path())
	if err != nil {
		return
	}
	b.mu.Lock()
	same := b.seen != nil && os.SameFile(b.seen, fi) && b.seen.ModTime().Equal(fi.ModTime()) && b.seen.Size() == fi.Size()
	b.mu.Unlock()
	if same {
		return
	}
	k, err := f.Load()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen = fi // stat before load: a change during the load is read next time
	if err == nil && k.Identity.Public().Equal(b.snapshot.Identity.Public()) {
		b.snapshot.Friends = k.Friends
	}
}

// Add adds a friend as 'dhtchat add-friend' does, with its error messages.
func (b *friendBook) Add(name, text string) (keyring.Friend, error) {
	if err := keyring.ValidName(name); err != nil {
		return keyring.Friend{}, userr.BadInput(err)
	}
	pk, err := keyring.ParsePublicKey(text)
	if err != nil {
		return keyring.Friend{}, invalidKey(name, err)
	}
	f, err := b.file()
	if err != nil {
		return keyring.Friend{}, err
	}
	err = f.Update(func(k *keyring.Keyring) error {
		_, err := k.AddFriend(name, pk)
		return err
	})
	if errors.Is(err, errNeedPassphrase) {
		return keyring.Friend{}, errNeedPassphrase
	}
	if err != nil {
		return keyring.Friend{}, err
	}
	fr := keyring.Friend{Name: name, Key: pk}
	b.mu.Lock()
	_, _ = b.snapshot.AddFriend(name, pk) // the file has it; the copy may already too
	b.mu.Unlock()
	return fr, nil
}

var errNeedPassphraseVerify = errors.New("the keyring is encrypted: to mark friends verified from here, set DHTCHAT_PASSPHRASE or --passphrase-file; or use 'dhtchat verify NAME --mark' in another terminal")

// SetVerified marks a friend verified or not, as 'dhtchat verify NAME
// --mark' and --unmark do; verifying clears a key-change warning.
func (b *friendBook) SetVerified(name string, verified bool) error {
	f, err := b.file()
	if err != nil {
		return err
	}
	err = f.Update(func(k *keyring.Keyring) error {
		return k.SetVerified(name, verified)
	})
	if errors.Is(err, errNeedPassphrase) {
		return errNeedPassphraseVerify
	}
	if err != nil {
		return err
	}
	b.mu.Lock()
	_ = b.snapshot.SetVerified(name, verified) // the file has it; the copy may not know the name
	b.mu.Unlock()
	return nil
}
