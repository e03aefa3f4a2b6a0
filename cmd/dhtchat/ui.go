package main

import (
	"context"
	"os"

	"golang.org/x/term"

	"github.com/dhtchat/dhtchat/chat"
)

// runUI runs "dhtchat" with no command. The full-screen UI is not built yet;
// until it is, it prints the usage.
func runUI(_ context.Context, e *env) error {
	printUsage(e.stdout)
	return nil
}

// converse runs the chat after start or respond: the full-screen UI on a
// terminal, pipe mode otherwise. (Until the UI exists: pipe mode always.)
func (e *env) converse(ctx context.Context, s *session, info chat.Info, name string, follow bool) error {
	return e.pipeMode(ctx, s, info, name, follow)
}

// isTerminal reports whether both stdin and stdout are terminals.
func (e *env) isTerminal() bool {
	in, ok1 := e.stdin.(*os.File)
	out, ok2 := e.stdout.(*os.File)
	return ok1 && ok2 && term.IsTerminal(int(in.Fd())) && term.IsTerminal(int(out.Fd()))
}
