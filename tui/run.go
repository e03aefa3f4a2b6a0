package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/term"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

// FriendBook is the user's keyring as the UI needs it. The command line
// implements it over the keyring file; its methods do I/O and are called
// from commands, never from Update.
type FriendBook interface {
	// Self is the user's own public key.
	Self() keyring.PublicKey
	// List returns the friends, sorted by name.
	List() ([]keyring.Friend, error)
	// Add adds a friend from the text of their public key and returns them.
	// Its errors are written for the user: the UI shows them as they are.
	Add(name, publicKey string) (keyring.Friend, error)
	// SetVerified records whether the user compared the safety number with
	// the friend called name (as 'dhtchat verify NAME --mark' does);
	// verifying clears a pending key-change warning. Its errors are
	// written for the user.
	SetVerified(name string, verified bool) error
}

// Options configures Run.
type Options struct {
	// Client is the chat engine, opened with chat.WatchAll so that its
	// worker works on every chat. Run follows its events (Subscribe); it
	// does not close the Client.
	Client *chat.Client
	// Friends is the keyring.
	Friends FriendBook
	// Open is the chat to show first; the zero ChatID means the most
	// recently active one.
	Open chat.ChatID
	// NewChatWith, if set, says that Open is a chat the user just started
	// with the friend of that name: it opens with a panel showing its chat
	// key, to give them.
	NewChatWith string
	// Banner, if set, is shown in the status bar, e.g. "local demo network".
	Banner string
	// Note, if set, is shown in the status bar until the first key press,
	// e.g. the chat key that "start" just made.
	Note string
	// Terminal, if set, is the terminal to read keys from, taken earlier
	// by the caller with TakeTerminal (Input is then ignored); Run
	// restores it before it returns.
	Terminal *Terminal
	// Input and Output are the terminal; nil means stdin and stdout. If
	// Input is a terminal and Terminal is nil, Run takes it itself.
	Input  io.Reader
	Output io.Writer
	// Environ is the environment the terminal's capabilities are read from
	// (TERM, NO_COLOR, COLORTERM…); nil means the process's.
	Environ []string
	// Notify says how a message the user is not looking at is told of
	// (see Notify); nil means DefaultNotify.
	Notify *Notify
	// Look is how the UI draws (theme, time format); the zero Look is
	// the default one.
	Look Look
	// Remote, if set, says that Input and Output are a terminal elsewhere
	// (an SSH session's, see Remote): its size and colours are told, not
	// read from a local terminal. Environ should then be its environment.
	Remote *Remote
	// ExtraProgramOptions are passed to tea.NewProgram last (tests).
	ExtraProgramOptions []tea.ProgramOption
}

// Run runs the full-screen chat until the user quits or ctx ends, and
// returns nil then. It returns only after the store holds every message
// the user sent (else a *NotStoredError with their text). It never writes
// anywhere but Options.Output.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.Client == nil || opts.Friends == nil {
		return errors.New("tui: Options.Client and Options.Friends are required")
	}
	input, gate, restore, err := inputOf(opts)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, restore()) }()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	m := newModel(ctx, opts.Client, opts.Friends, opts.Client.Subscribe(ctx))
	environ, err := opts.Look.apply(m.c, opts.Environ)
	if err != nil {
		return err
	}
	m.wantOpen = opts.Open
	if opts.NewChatWith != "" && opts.Open != (chat.ChatID{}) {
		m.newChat, m.newChatWith = opts.Open, opts.NewChatWith
	}
	m.refreshEvery = refreshInterval
	m.banner = opts.Banner
	m.status = status{text: opts.Note}
	m.ledger = newSendLedger()
	m.gate = gate
	if opts.Notify != nil {
		m.notify = *opts.Notify
	}

	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(input)}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	if environ != nil {
		popts = append(popts, tea.WithEnvironment(environ))
	}
	if opts.Remote != nil {
		popts = append(popts, remoteOptions(opts.Remote, environ)...)
	}
	popts = append(popts, opts.ExtraProgramOptions...)
	p := tea.NewProgram(m, popts...)
	if opts.Remote != nil {
		followResizes(ctx, p, opts.Remote)
	}
	_, err = p.Run()
	if n := m.unstored(); n > 0 {
		// It may take a while (a store that is busy or failing): the
		// terminal, restored, would sit blank meanwhile.
		out := opts.Output
		if out == nil {
			out = os.Stdout
		}
		fmt.Fprintf(out, "dhtchat: storing %s you sent…\n", plural(n, "message"))
	}
	// The worker, which the Client's owner stops, may publish them at once.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(parent), storeTimeout)
	serr := m.storeRest(sctx)
	scancel()

	switch {
	case errors.Is(err, tea.ErrProgramPanic):
	case errors.Is(err, tea.ErrProgramKilled) && parent.Err() != nil,
		errors.Is(err, tea.ErrInterrupted):
		// Interrupted (signal or ctx): the terminal is restored; a normal
		// way to leave.
		err = nil
	}
	return errors.Join(err, serr)
}

// inputOf is the input the program reads, through an inputFilter (see
// burst.go), the gate that the program opens when it is ready for bursts,
// and how to restore the terminal it is.
func inputOf(opts Options) (io.Reader, *startGate, func() error, error) {
	t := opts.Terminal
	if t == nil {
		in := opts.Input
		if in == nil {
			in = os.Stdin
		}
		f, ok := in.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			r := &filteredReader{read: in.Read, gate: &startGate{}}
			return r, r.gate, func() error { return nil }, nil
		}
		var err error
		if t, err = TakeTerminal(f); err != nil {
			return nil, nil, nil, err
		}
	}
	in, err := t.input()
	if err != nil {
		return nil, nil, nil, err
	}
	return in, in.r.gate, t.Restore, nil
}
