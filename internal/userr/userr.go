// Package userr is the one place where errors become words for the user:
// a message, hints that say what to do, and whose fault it was (Kind:
// the user's input, or something that may work next time). The command
// line prints them in dhtchat's voice,
//
//	dhtchat: <what went wrong>
//	dhtchat: hint: <what to do>
//
// and the full-screen UI shows the same words on its status line.
//
// Library errors are written for programmers: "pkg: what failed: cause"
// (keyring: …, dht: …), sentinels to compare with errors.Is, typed errors
// to read with errors.As. Explain knows the ones a user can cause or do
// something about, by those sentinels and types only, and says them in
// plain words. A typed error may carry the user's words itself: Explain
// uses keyring.ParseError.Msg and keyring.FriendError.Msg as they are.
// Every other error is shown as its own text, whole, package prefixes
// included: those are the failures a user can only retry or report (a
// file that cannot be written, a damaged database, a bug), and the prefix
// names the part that failed. Nothing here cuts or rewrites an error's
// text.
package userr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/textsafe"
	"github.com/dhtchat/dhtchat/keyring"
)

// Kind says whether an error was the user's input, which decides the
// command line's exit code.
type Kind int

const (
	// Runtime: the network, a file, anything that may work next time
	// (exit code 1).
	Runtime Kind = iota
	// Usage: a usage error or bad input; the same command fails again
	// (exit code 2).
	Usage
)

// Error is an error written for the user. Commands return one when they
// know better than the library what went wrong (they know the friend's
// name, the flag); Explain makes one of any error.
type Error struct {
	Kind  Kind
	Msg   string   // what went wrong: lower case, no final period
	Hints []string // what to do about it, most useful first
	Err   error    // the cause, for errors.Is and errors.As; not shown
}

func (e *Error) Error() string { return e.Msg }

func (e *Error) Unwrap() error { return e.Err }

// WithHint adds a hint and returns e.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hints = append(e.Hints, fmt.Sprintf(format, args...))
	return e
}

// Because records err as the cause and returns e. When e has no hints of
// its own, Explain gives it those of its cause.
func (e *Error) Because(err error) *Error {
	e.Err = err
	return e
}

// Usagef returns a usage error or bad input.
func Usagef(format string, args ...any) *Error {
	return &Error{Kind: Usage, Msg: fmt.Sprintf(format, args...)}
}

// Runtimef returns a failure that is not the user's input.
func Runtimef(format string, args ...any) *Error {
	return &Error{Kind: Runtime, Msg: fmt.Sprintf(format, args...)}
}

// BadInput is err explained, and marked as the user's bad input.
func BadInput(err error) *Error {
	e := Explain(err)
	e.Kind = Usage
	return e
}

// Msg is the message Explain gives for err, for a command that puts it in
// a sentence of its own: "bad --bootstrap: " + Msg(err).
func Msg(err error) string { return Explain(err).Msg }

// Explain returns what to tell the user about err, or nil for nil. An
// *Error in err's chain is used as it is (given its cause's hints if it
// has none); other errors are explained as the package doc says.
func Explain(err error) *Error {
	if err == nil {
		return nil
	}
	var u *Error
	if errors.As(err, &u) {
		e := *u
		if len(e.Hints) == 0 && e.Err != nil {
			e.Hints = Explain(e.Err).Hints
		}
		return &e
	}
	e := explain(err)
	e.Err = err
	return e
}

// Line is err explained on one line, the message and then each hint after
// "; ": the form for a status line.
func Line(err error) string {
	e := Explain(err)
	if e == nil {
		return ""
	}
	return strings.Join(strings.Fields(textsafe.Clean(strings.Join(append([]string{e.Msg}, e.Hints...), "; "))), " ")
}

// Hints shared by several errors.
const (
	hintChatKey  = "a chat key starts with " + chat.ChatKeyHRP + "1; copy it whole from what your friend's 'start' printed"
	hintFriends  = "'dhtchat friends' lists your friends"
	hintName     = "a name is 1 to 64 letters, digits, '-', '_' or '.'"
	hintRetyped  = "nothing was changed; try again"
	hintNoPeers1 = "check your network, or give peers with --bootstrap ADDR (or DHTCHAT_BOOTSTRAP), e.g. the addresses a 'dhtchat node' prints"
	hintNoPeers2 = "queued messages stay queued and are sent once the DHT is reachable"
)

// explain is Explain for an error that is no *Error. Each sentinel and
// type appears once; the typed errors that wrap sentinels come first (a
// damaged keyring file is that, whatever the friend entry that broke it).
func explain(err error) *Error {
	usage := func(msg string, hints ...string) *Error { return &Error{Kind: Usage, Msg: msg, Hints: hints} }
	runtime := func(msg string, hints ...string) *Error { return &Error{Kind: Runtime, Msg: msg, Hints: hints} }
	var (
		corrupt *keyring.CorruptError
		parse   *keyring.ParseError
		friend  *keyring.FriendError
		addr    *dht.AddrError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return runtime("interrupted")

	// The keyring.
	case errors.As(err, &corrupt):
		return runtime(fmt.Sprintf("%s is damaged (it was not modified): %s", corrupt.Path, explain(corrupt.Err).Msg),
			"the file was not modified; restore it from a backup, or move it away and run 'dhtchat keygen'")
	case errors.As(err, &parse):
		return usage("invalid key: " + parse.Msg)
	case errors.As(err, &friend):
		e := usage(friend.Msg)
		e.Hints = explain(friend.Err).Hints
		return e
	case errors.Is(err, keyring.ErrNotFound):
		return runtime("no keyring yet"+at(err), "create your identity first with 'dhtchat keygen'")
	case errors.Is(err, keyring.ErrExists): // keygen without --force fails again
		return usage("a keyring already exists"+at(err),
			"'dhtchat keygen --force' replaces it; your friends will no longer reach you under the old key")
	case errors.Is(err, keyring.ErrWrongPassphrase):
		return usage("wrong passphrase", hintRetyped)
	case errors.Is(err, keyring.ErrPassphraseRequired):
		return usage("the keyring is encrypted and needs a passphrase",
			"the keyring is encrypted: run on a terminal, or set DHTCHAT_PASSPHRASE or --passphrase-file")
	case errors.Is(err, keyring.ErrLocked):
		return runtime("the keyring is locked by another process",
			"wait until the other dhtchat is done, or end it if it hangs")
	case errors.Is(err, keyring.ErrNameTaken):
		return usage("a friend with that name already exists",
			"to point the name at another key, 'dhtchat remove-friend NAME' first")
	case errors.Is(err, keyring.ErrKeyTaken):
		return usage("that public key already belongs to a friend", hintFriends)
	case errors.Is(err, keyring.ErrUnknownFriend):
		return usage("no such friend", hintFriends)
	case errors.Is(err, keyring.ErrBadName):
		return usage("invalid friend name", hintName)
	case errors.Is(err, keyring.ErrOwnKey):
		return usage("that is your own public key")
	case errors.Is(err, keyring.ErrLowOrder):
		return usage("not a valid public key (a low-order point)")

	// Chats and messages.
	case errors.Is(err, chat.ErrBodyTooLarge):
		return usage(fmt.Sprintf("the message is too long: at most %d bytes", chat.MaxBody), "split it in parts")
	case errors.Is(err, chat.ErrBadBody):
		return usage("the message is empty or not valid text")
	case errors.Is(err, chat.ErrChatKeyNotForYou):
		return usage("this chat key was not made for you and that friend",
			"check that the friend started it with your public key")
	case errors.Is(err, chat.ErrChatKeyMixedCase):
		return usage("invalid chat key: it mixes upper and lower case", hintChatKey)
	case errors.Is(err, chat.ErrChatKeyChecksum):
		return usage("invalid chat key: it has a typo (checksum mismatch)", hintChatKey)
	case errors.Is(err, chat.ErrChatKeyPrefix):
		return usage("invalid chat key: this is not a chat key", hintChatKey,
			"a key that starts with DHTCHAT-SECRET-KEY is your secret key: never give it to anyone")
	case errors.Is(err, chat.ErrChatKeyLength):
		return usage("invalid chat key: it has the wrong length", hintChatKey)
	case errors.Is(err, chat.ErrChatKeyMalformed):
		return usage("invalid chat key: it is malformed", hintChatKey)
	case errors.Is(err, chat.ErrUnknownChat):
		return usage("no such chat")
	case errors.Is(err, chat.ErrBlocked):
		return usage("that friend is blocked", "'dhtchat unblock NAME' first")
	case errors.Is(err, chat.ErrPaused):
		return runtime("the chat is paused: its friend is blocked or no longer a friend")

	// The network.
	case errors.Is(err, dht.ErrNoPeers):
		return runtime("no DHT peers reachable", hintNoPeers1, hintNoPeers2)
	case errors.As(err, &addr):
		return usage(fmt.Sprintf("address %q: %v", addr.Addr, addr.Err))
	case errors.Is(err, dht.ErrEmptyBootstrap):
		return usage("the list of addresses is empty")
	}
	return runtime(err.Error())
}

// at is " at PATH" when err names the keyring file it is about.
func at(err error) string {
	var pe *keyring.PathError
	if errors.As(err, &pe) {
		return " at " + pe.Path
	}
	return ""
}
