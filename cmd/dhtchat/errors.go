package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dhtchat/dhtchat/keyring"
)

// Exit codes (CLI.md).
const (
	exitOK      = 0
	exitRuntime = 1 // network, files, anything that may work next time
	exitUsage   = 2 // usage error or bad input: the same command will fail again
)

// A userError is an error written for the person at the terminal: a message,
// hints about what to do, and an exit code. Commands return one when they
// know better than the library what went wrong.
type userError struct {
	code  int
	msg   string
	hints []string
	err   error // the cause, for errors.Is; not printed
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

func (e *userError) withHint(format string, args ...any) *userError {
	e.hints = append(e.hints, fmt.Sprintf(format, args...))
	return e
}

// usageErrorf reports a usage error or bad input (exit 2).
func usageErrorf(format string, args ...any) *userError {
	return &userError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// runtimeErrorf reports a failure that is not the user's input (exit 1).
func runtimeErrorf(format string, args ...any) *userError {
	return &userError{code: exitRuntime, msg: fmt.Sprintf(format, args...)}
}

// badInput marks err as the user's bad input (exit 2), keeping its message.
func badInput(err error) *userError {
	return &userError{code: exitUsage, msg: err.Error(), err: err}
}

// report prints err to w in dhtchat's one voice and returns the exit code:
//
//	dhtchat: <what went wrong>
//	hint: <what to do>
//
// It is the only place where errors become text and exit codes.
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	u := classify(err)
	fmt.Fprintf(w, "dhtchat: %s\n", oneLine(u.msg))
	for _, h := range u.hints {
		fmt.Fprintf(w, "hint: %s\n", oneLine(h))
	}
	return u.code
}

// classify turns any error into a userError: the library's sentinel errors
// get their exit code and hints here, and nowhere else.
func classify(err error) *userError {
	var u *userError
	if errors.As(err, &u) {
		if len(u.hints) == 0 {
			u.hints = hintsFor(err)
		}
		return u
	}
	u = &userError{code: exitRuntime, msg: err.Error(), err: err, hints: hintsFor(err)}
	var corrupt *keyring.CorruptError
	switch {
	case errors.Is(err, context.Canceled):
		u.msg = "interrupted"
	case errors.As(err, &corrupt):
		u.code = exitRuntime
	case errors.Is(err, keyring.ErrExists), // keygen without --force fails again
		errors.Is(err, keyring.ErrWrongPassphrase),
		errors.Is(err, keyring.ErrPassphraseRequired),
		errors.Is(err, keyring.ErrBadName),
		errors.Is(err, keyring.ErrUnknownFriend),
		errors.Is(err, keyring.ErrNameTaken),
		errors.Is(err, keyring.ErrKeyTaken),
		errors.Is(err, keyring.ErrOwnKey),
		errors.Is(err, keyring.ErrLowOrder):
		u.code = exitUsage
	}
	return u
}

// hintsFor returns what the user can do about err.
func hintsFor(err error) []string {
	var corrupt *keyring.CorruptError
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return []string{"create your identity first with 'dhtchat keygen'"}
	case errors.Is(err, keyring.ErrExists):
		return []string{"'dhtchat keygen --force' replaces it; your friends will no longer reach you under the old key"}
	case errors.Is(err, keyring.ErrWrongPassphrase):
		return []string{"nothing was changed; try again"}
	case errors.Is(err, keyring.ErrPassphraseRequired):
		return []string{"the keyring is encrypted: run on a terminal, or set DHTCHAT_PASSPHRASE or --passphrase-file"}
	case errors.Is(err, keyring.ErrNameTaken):
		return []string{"to point the name at another key, 'dhtchat remove-friend NAME' first"}
	case errors.Is(err, keyring.ErrUnknownFriend):
		return []string{"'dhtchat friends' lists your friends"}
	case errors.Is(err, keyring.ErrBadName):
		return []string{"a name is 1 to 64 letters, digits, '-', '_' or '.'"}
	case errors.As(err, &corrupt):
		return []string{"the file was not modified; restore it from a backup, or move it away and run 'dhtchat keygen'"}
	}
	return nil
}

// oneLine keeps an error on one line, and drops the package prefixes that
// library errors carry for programmers ("keyring: "): the user sees one
// voice, "dhtchat: …".
func oneLine(s string) string {
	for _, p := range []string{"keyring: ", "chat: ", "wire: ", "dht: ", "store: ", "bech32: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}
