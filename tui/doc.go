// Package tui is dhtchat's full-screen chat, built on Bubble Tea v2.
//
// The program is one top model (model.go) with three sub-models — the chat
// list, the history of the open chat and the input with one draft per chat
// — and a common struct they share (size, styles, key map, and the views
// of the chats). All the UI holds of one chat (its name, key, history,
// draft, send queue and alerts) is one chatView (chats.go). Update is a
// pure state transition: everything that touches the chat engine or the
// keyring runs in a tea.Cmd (cmds.go), and the engine's events come in
// through one command that is re-armed after each delivery (listen), so
// they arrive in order and never race with the user's keys. The one
// exception is Client.Focus, which only notes the chat on screen for the
// worker and never blocks: Update calls it, so that quick switches reach
// the worker in their order.
//
// The slash commands are one table (commands.go) that the dispatcher,
// /help, Tab completion (complete.go) and the check for a friend named by
// a command read. Panels (/help,
// f1, f2, /friends…) are kinds of one interface (panel.go). Drawing is apart
// from updating: View puts the parts together (view.go), each drawn in its
// own file (chatlist.go, title.go, notices.go, historyview.go, panel.go,
// infoview.go, welcome.go, status.go, help.go).
//
// The events are hints, the store is the truth: other dhtchat processes may
// write the same database (a script running "dhtchat send" or "recv"), and
// this process's worker says nothing of that. So a refresh (a tick command
// re-armed like listen, and after each batch of events) reads the chat list
// and what the open chat's history lacks, and merges it by Seq.
//
// Enter puts the draft in its chat's send queue (sendq.go): one Send per
// chat is in flight at a time, so messages are stored in the order of
// their Enters, whatever the order in which Bubble Tea runs commands. The
// terminal's input passes through a filter first (burst.go): several
// lines in one read without bracketed-paste markers become a paste that
// asks what it is (paste.go); keys typed while the program started, in
// the terminal's cooked mode, come out as typed (Terminal).
//
// A message the user is not looking at (another chat, or the terminal
// not focused) rings the bell, counts in the window title and may send a
// desktop notification (notify.go); the title never holds its text.
// Lines with URLs, and panels, wrap at spaces only, URLs as OSC 8 links
// (links.go).
//
// Everything a friend sends goes through textsafe before it is rendered:
// a message cannot move the cursor, set the title or write the clipboard.
// Messages only ever go into a history, in Seq order, each once; the draft
// and its cursor belong to the input alone.
package tui
