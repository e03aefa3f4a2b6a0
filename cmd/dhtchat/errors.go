package main

import (
	"io"

	"github.com/dhtchat/dhtchat/internal/userr"
)

// Exit codes (CLI.md).
const (
	exitOK      = 0
	exitRuntime = 1 // network, files, anything that may work next time
	exitUsage   = 2 // usage error or bad input: the same command will fail again
)

// report prints err to w in dhtchat's one voice and returns the exit code:
//
//	dhtchat: <what went wrong>
//	dhtchat: hint: <what to do>
//
// The words are userr's (commands return *userr.Error when they know
// better); report only prints them and picks the exit code.
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	u := userr.Explain(err)
	say(w, "", u.Msg)
	for _, h := range u.Hints {
		say(w, "hint: ", h)
	}
	if u.Kind == userr.Usage {
		return exitUsage
	}
	return exitRuntime
}
