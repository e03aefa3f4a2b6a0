package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// A Remote is a terminal that is not this process's own: an SSH session's,
// whose bytes come and go over Options.Input and Options.Output, whose
// size the client says (pty-req, then window-change requests) rather than
// the kernel, and whose capabilities are its environment's (TERM from the
// pty request, COLORTERM and NO_COLOR if the client sent them).
type Remote struct {
	// Width and Height are its size at start, in cells.
	Width, Height int
	// Resizes tells each later size; Run passes them to the UI until it
	// returns. Nil: the size never changes.
	Resizes <-chan Size
}

// Size is a terminal's size, in cells.
type Size struct{ Width, Height int }

// remoteOptions are the program's options for a remote terminal: its size
// and its colours, which the output, not a local terminal, cannot tell.
func remoteOptions(r *Remote, environ []string) []tea.ProgramOption {
	return []tea.ProgramOption{
		tea.WithWindowSize(r.Width, r.Height),
		tea.WithColorProfile(colorprofile.Env(environ)),
	}
}

// followResizes sends p each size that r tells, until ctx ends.
func followResizes(ctx context.Context, p *tea.Program, r *Remote) {
	if r.Resizes == nil {
		return
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s, ok := <-r.Resizes:
				if !ok {
					return
				}
				p.Send(tea.WindowSizeMsg{Width: s.Width, Height: s.Height})
			}
		}
	}()
}
