package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/textsafe"
)

// messageJSON is a received message in --json output (recv, pipe mode).
type messageJSON struct {
	Chat       string    `json:"chat"`
	From       string    `json:"from"`
	N          uint64    `json:"n"`
	SentAt     time.Time `json:"sent_at"`
	ReceivedAt time.Time `json:"received_at"`
	Text       string    `json:"text"`
}

// printMessage prints a received message: JSON (whose encoding escapes
// every control character), or one line of text with terminal controls
// removed and newlines shown as "\n".
func (e *env) printMessage(key wire.ChatKey, from string, m chat.Entry) error {
	if e.json {
		return e.printJSON(messageJSON{
			Chat: key.String(), From: from, N: m.N,
			SentAt: m.SentAt.UTC(), ReceivedAt: m.ReceivedAt.UTC(), Text: m.Body,
		})
	}
	_, err := fmt.Fprintf(e.stdout, "[%s] %s: %s\n", m.SentAt.Local().Format("2006-01-02 15:04:05"), from, oneLineText(m.Body))
	return err
}

// oneLineText shows a message on one line of a terminal.
func oneLineText(s string) string {
	return strings.ReplaceAll(textsafe.Clean(s), "\n", `\n`)
}

// statusJSON is a sent message's progress in --json output (send).
type statusJSON struct {
	N      uint64 `json:"n"`
	Status string `json:"status"`
	// Was is the number a renumbered message was queued under before
	// (another copy of the identity had used it); 0 otherwise.
	Was uint64 `json:"was,omitempty"`
}
