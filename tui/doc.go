// Package tui is dhtchat's full-screen chat, built on Bubble Tea v2.
//
// The program is one top model (model.go) with three sub-models — the chat
// list, the history of the open chat and the input with one draft per chat
// — and a common struct they share (size, styles, key map). Update is a
// pure state transition: everything that touches the chat engine or the
// keyring runs in a tea.Cmd (cmds.go), and the engine's events come in
// through one command that is re-armed after each delivery (events.go), so
// they arrive in order and never race with the user's keys.
//
// Everything a friend sends goes through textsafe before it is rendered:
// a message cannot move the cursor, set the title or write the clipboard.
// Received messages only ever append to a history; the draft and its cursor
// belong to the input alone.
package tui
