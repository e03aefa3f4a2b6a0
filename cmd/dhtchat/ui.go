package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/term"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/keyring"
	"github.com/dhtchat/dhtchat/tui"
)

// runUI runs "dhtchat" with no command: the full-screen chat over all
// chats. It needs a terminal; scripts have the other commands.
func runUI(ctx context.Context, e *env) error {
	if !e.isTerminal() {
		return usageErrorf("the full-screen chat needs a terminal").
			withHint("'dhtchat --help' lists the commands for scripts: chats, send, recv, history")
	}
	closeLogs, err := e.routeLibraryLogs()
	if err != nil {
		return err
	}
	defer closeLogs()
	s, err := e.openSession(ctx, true)
	if err != nil {
		return err
	}
	defer s.close()
	return e.fullScreen(ctx, s, tui.Options{})
}

// converse runs the chat after start or respond: the full-screen UI on a
// terminal, pipe mode otherwise.
func (e *env) converse(ctx context.Context, s *session, info chat.Info, name string, follow bool) error {
	if !e.isTerminal() || e.json {
		return e.pipeMode(ctx, s, info, name, follow)
	}
	closeLogs, err := e.routeLibraryLogs()
	if err != nil {
		return err
	}
	defer closeLogs()
	opts := tui.Options{Open: info.ID}
	if info.StartedByMe {
		// The key printed before went behind the alternate screen: the
		// chat opens with a panel that shows it again.
		opts.NewChatWith = name
	}
	return e.fullScreen(ctx, s, opts)
}

// fullScreen runs the UI on the session, with the terminal of stdin and
// stdout.
func (e *env) fullScreen(ctx context.Context, s *session, opts tui.Options) error {
	opts.Client = s.client
	opts.Friends = &friendBook{e: e, snapshot: s.kr}
	opts.Input, opts.Output = e.stdin, e.stdout
	return tui.Run(ctx, opts)
}

// routeLibraryLogs sends the process-wide logs of libp2p and kad-dht, which
// go to stderr by default, to the debug log with --debug and nowhere
// otherwise: nothing may write to the terminal under the full-screen UI.
// It must run before the DHT node starts.
func (e *env) routeLibraryLogs() (closeFn func(), err error) {
	if !e.debug {
		dht.RouteLibraryLogs(io.Discard, slog.LevelError)
		return func() {}, nil
	}
	dir, err := e.dataDir()
	if err != nil {
		return nil, err
	}
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "debug.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, runtimeErrorf("cannot open the debug log: %v", err)
	}
	dht.RouteLibraryLogs(f, slog.LevelInfo)
	return func() {
		dht.RouteLibraryLogs(io.Discard, slog.LevelError)
		f.Close()
	}, nil
}

// isTerminal reports whether both stdin and stdout are terminals.
func (e *env) isTerminal() bool {
	in, ok1 := e.stdin.(*os.File)
	out, ok2 := e.stdout.(*os.File)
	return ok1 && ok2 && term.IsTerminal(int(in.Fd())) && term.IsTerminal(int(out.Fd()))
}

// friendBook is the keyring as the UI sees it. It never asks for a
// passphrase (the terminal belongs to the UI): an encrypted keyring is
// read and changed with --passphrase-file or DHTCHAT_PASSPHRASE, and
// otherwise List falls back to the keyring loaded at start.
type friendBook struct {
	e        *env
	mu       sync.Mutex // guards snapshot: the UI calls from several commands at once
	snapshot *keyring.Keyring
}

var errNeedPassphrase = errors.New("the keyring is encrypted: to add friends from here, set DHTCHAT_PASSPHRASE or --passphrase-file; or use 'dhtchat add-friend' in another terminal")

func (b *friendBook) file() (*keyring.File, error) {
	dir, err := b.e.configDir()
	if err != nil {
		return nil, err
	}
	pass := func() ([]byte, error) {
		if b.e.passphraseFile != "" {
			return readPassphraseFile(b.e.passphraseFile)
		}
		if p := b.e.getenv("DHTCHAT_PASSPHRASE"); p != "" {
			return []byte(p), nil
		}
		return nil, errNeedPassphrase
	}
	var opts []keyring.Option
	if testScryptWorkFactor > 0 {
		opts = append(opts, keyring.WithScryptWorkFactor(testScryptWorkFactor))
	}
	return keyring.NewFile(dir, pass, opts...), nil
}

func (b *friendBook) Self() keyring.PublicKey { return b.snapshot.Identity.Public() }

func (b *friendBook) List() ([]keyring.Friend, error) {
	if f, err := b.file(); err == nil {
		if k, err := f.Load(); err == nil && k.Identity.Public().Equal(b.Self()) {
			b.mu.Lock()
			b.snapshot.Friends = k.Friends
			b.mu.Unlock()
			return slices.Clone(k.Friends), nil
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.snapshot.Friends), nil
}

// Add adds a friend as 'dhtchat add-friend' does, with its error messages.
func (b *friendBook) Add(name, text string) (keyring.Friend, error) {
	if err := keyring.ValidName(name); err != nil {
		return keyring.Friend{}, plain(badInput(err))
	}
	pk, err := keyring.ParsePublicKey(text)
	if err != nil {
		return keyring.Friend{}, plain(invalidKey(name, err))
	}
	f, err := b.file()
	if err != nil {
		return keyring.Friend{}, plain(err)
	}
	err = f.Update(func(k *keyring.Keyring) error {
		_, err := k.AddFriend(name, pk)
		return err
	})
	if errors.Is(err, errNeedPassphrase) {
		return keyring.Friend{}, errNeedPassphrase
	}
	if err != nil {
		return keyring.Friend{}, plain(err)
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
		return plain(err)
	}
	err = f.Update(func(k *keyring.Keyring) error {
		return k.SetVerified(name, verified)
	})
	if errors.Is(err, errNeedPassphrase) {
		return errNeedPassphraseVerify
	}
	if err != nil {
		return plain(err)
	}
	b.mu.Lock()
	_ = b.snapshot.SetVerified(name, verified) // the file has it; the copy may not know the name
	b.mu.Unlock()
	return nil
}

// plain is err in dhtchat's voice, on one line, hints included.
func plain(err error) error {
	u := classify(err)
	msg := oneLine(u.msg)
	for _, h := range u.hints {
		msg += "; " + oneLine(h)
	}
	return errors.New(msg)
}
