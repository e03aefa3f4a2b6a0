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
	"slices"
	"strings"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
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

// explain is Explain for an error that is no *Error: the typed errors
// first (those that wrap sentinels: a damaged keyring file is that,
// whatever the friend entry that broke it), then the sentinels, in order.
func explain(err error) *Error {
	var (
		corrupt *keyring.CorruptError
		parse   *keyring.ParseError
		friend  *keyring.FriendError
		addr    *dht.AddrError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{Kind: Runtime, Msg: "interrupted"}
	case errors.As(err, &corrupt):
		msg := corrupt.Path + " is damaged (it was not modified)"
		if corrupt.Err != nil {
			msg += ": " + explain(corrupt.Err).Msg
		}
		return &Error{Kind: Runtime, Msg: msg,
			Hints: []string{"the file was not modified; restore it from a backup, or move it away and run 'dhtchat keygen'"}}
	case errors.As(err, &parse):
		return &Error{Kind: Usage, Msg: "invalid key: " + parse.Msg}
	case errors.As(err, &friend):
		return &Error{Kind: Usage, Msg: friend.Msg, Hints: explain(friend.Err).Hints}
	case errors.As(err, &addr):
		return &Error{Kind: Usage, Msg: fmt.Sprintf("address %q: %v", addr.Addr, addr.Err)}
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			e := &Error{Kind: s.kind, Msg: s.msg, Hints: slices.Clone(s.hints)}
			var pe *keyring.PathError
			if errors.As(err, &pe) {
				e.Msg += " at " + pe.Path
			}
			return e
		}
	}
	return &Error{Kind: Runtime, Msg: err.Error()}
}

// sentinels are the library's sentinel errors a user can cause or do
// something about, in the words they are told.
var sentinels = []struct {
	err   error
	kind  Kind
	msg   string
	hints []string
}{
	// The keyring. ErrNotFound and ErrExists come with the file's path.
	{keyring.ErrNotFound, Runtime, "no keyring yet", []string{"create your identity first with 'dhtchat keygen'"}},
	{keyring.ErrExists, Usage, "a keyring already exists", // keygen without --force fails again
		[]string{"'dhtchat keygen --force' replaces it; your friends will no longer reach you under the old key"}},
	{keyring.ErrWrongPassphrase, Usage, "wrong passphrase", []string{"nothing was changed; try again"}},
	{keyring.ErrPassphraseRequired, Usage, "the keyring is encrypted and needs a passphrase",
		[]string{"the keyring is encrypted: run on a terminal, or set DHTCHAT_PASSPHRASE or --passphrase-file"}},
	{keyring.ErrLocked, Runtime, "the keyring is locked by another process",
		[]string{"wait until the other dhtchat is done, or end it if it hangs"}},
	{keyring.ErrNameTaken, Usage, "a friend with that name already exists",
		[]string{"to point the name at another key, 'dhtchat remove-friend NAME' first"}},
	{keyring.ErrKeyTaken, Usage, "that public key already belongs to a friend", []string{hintFriends}},
	{keyring.ErrUnknownFriend, Usage, "no such friend", []string{hintFriends}},
	{keyring.ErrBadName, Usage, "invalid friend name", []string{"a name is 1 to 64 letters, digits, '-', '_' or '.'"}},
	{keyring.ErrOwnKey, Usage, "that is your own public key", nil},
	{keyring.ErrLowOrder, Usage, "not a valid public key (a low-order point)", nil},

	// Chats and messages.
	{chat.ErrBodyTooLarge, Usage, fmt.Sprintf("the message is too long: at most %d bytes", chat.MaxBody), []string{"split it in parts"}},
	{chat.ErrBadBody, Usage, "the message is empty or not valid text", nil},
	{wire.ErrChatKeyNotForYou, Usage, "this chat key was not made for you and that friend",
		[]string{"check that the friend started it with your public key"}},
	{wire.ErrChatKeyMixedCase, Usage, "invalid chat key: it mixes upper and lower case", []string{hintChatKey}},
	{wire.ErrChatKeyChecksum, Usage, "invalid chat key: it has a typo (checksum mismatch)", []string{hintChatKey}},
	{wire.ErrChatKeyPrefix, Usage, "invalid chat key: this is not a chat key",
		[]string{hintChatKey, "if it was a DHTCHAT-SECRET-KEY-1…, that is your secret key: never give it to anyone"}},
	{wire.ErrChatKeyLength, Usage, "invalid chat key: it has the wrong length", []string{hintChatKey}},
	{wire.ErrChatKeyMalformed, Usage, "invalid chat key: it is malformed", []string{hintChatKey}},
	{chat.ErrUnknownChat, Usage, "no such chat", nil},
	{chat.ErrBlocked, Usage, "that friend is blocked", []string{"'dhtchat unblock NAME' first"}},
	{chat.ErrPaused, Runtime, "the chat is paused: its friend is blocked or no longer a friend", nil},
	{chat.ErrSendBlocked, Runtime, "sending in this chat is blocked: a record that is not yours sits in your slot of the chat, " +
		"and the friend cannot read what you send", []string{
		"the friend's dhtchat can write there, and put it there: the messages stay queued, and go out once it is gone",
		"if it stays, ask the friend, or stop the chat: dhtchat block NAME"}},
	{chat.ErrStale, Runtime, "this home is older than what your identity already sent in this chat, " +
		"so it sends nothing more there (it would reuse keys)", []string{
		"it was restored from a backup, or another device uses your identity",
		"start a new chat with the friend: dhtchat start NAME"}},

	// The network.
	{dht.ErrNoPeers, Runtime, "no DHT peers reachable", []string{
		"check your network, or give peers with --bootstrap ADDR (or DHTCHAT_BOOTSTRAP), e.g. the addresses a 'dhtchat node' prints",
		"queued messages stay queued and are sent once the DHT is reachable"}},
	{dht.ErrEmptyBootstrap, Usage, "the list of addresses is empty", nil},
}

// Hints shared by several errors.
const (
	hintChatKey = "copy the whole chat key (" + wire.ChatKeyHRP + "1…) that your friend's 'start' printed"
	hintFriends = "'dhtchat friends' lists your friends"
)
