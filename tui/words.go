package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/keyring"
)

// plainError is an error already written for the user.
type plainError struct{ msg string }

func (e *plainError) Error() string { return e.msg }

func userErrorf(format string, args ...any) error {
	return &plainError{msg: fmt.Sprintf(format, args...)}
}

// describe puts err in plain words for the status bar. The errors the user
// can cause or do something about get their own sentence; others lose the
// package prefixes that are meant for programmers.
func describe(err error) string {
	var pe *plainError
	var kp *keyring.ParseError
	switch {
	case errors.As(err, &pe):
		return pe.msg
	case errors.Is(err, chat.ErrBodyTooLarge):
		return fmt.Sprintf("the message is too long: at most %d bytes; split it in parts", chat.MaxBody)
	case errors.Is(err, chat.ErrBadBody):
		return "the message is empty or not valid text"
	case errors.Is(err, wire.ErrChatKeyNotForYou):
		return "this chat key was not made for you and that friend"
	case errors.Is(err, wire.ErrChatKeyMixedCase), errors.Is(err, wire.ErrChatKeyChecksum),
		errors.Is(err, wire.ErrChatKeyMalformed), errors.Is(err, wire.ErrChatKeyPrefix), errors.Is(err, wire.ErrChatKeyLength):
		return "invalid chat key: " + strip(err.Error()) + "; copy it whole from your friend's 'start'"
	case errors.As(err, &kp):
		return "invalid key: " + kp.Msg
	case errors.Is(err, keyring.ErrOwnKey):
		return "that is your own public key"
	case errors.Is(err, chat.ErrUnknownChat):
		return "no such chat"
	case errors.Is(err, dht.ErrNoPeers):
		return "no DHT peers reachable; messages stay queued and are sent when the network is back"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return strip(err.Error())
}

// strip removes package prefixes and keeps one line.
func strip(s string) string {
	for _, p := range []string{"keyring: ", "chat: ", "wire: ", "dht: ", "store: ", "bech32: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return strings.Join(strings.Fields(s), " ")
}
