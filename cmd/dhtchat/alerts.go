package main

import (
	"fmt"

	"github.com/dhtchat/dhtchat/chat"
)

// alertText says what an alert of the chat with the friend called name
// means, and what to do about it.
func alertText(a chat.Alert, name string) (what, hint string) {
	switch a.Kind {
	case chat.AlertBehind:
		return fmt.Sprintf("this database was behind what your identity sent to %s (up to message %d): "+
				"it was restored from a backup, or another device uses your identity", name, a.N),
			"dhtchat continues after those messages and sends yours that collided with them again; " +
				"use your identity on one device only"
	case chat.AlertSecondWriter:
		return fmt.Sprintf("another device is writing to %s with your identity (it sent up to message %d)", name, a.N),
			"dhtchat supports one device per identity: stop dhtchat on the other device " +
				"(or the copy of this home), or messages may arrive late, twice or under other numbers"
	case chat.AlertConflict:
		return fmt.Sprintf("message %d from %s arrived a second time with different content; the first one is kept", a.N, name),
			fmt.Sprintf("%s's dhtchat runs on two devices, or someone else writes with %s's identity: "+
				"ask %s, and compare safety numbers (dhtchat verify %s)", name, name, name, name)
	case chat.AlertQuota:
		q := chat.DefaultQuota()
		return fmt.Sprintf("%s sent more than dhtchat keeps from one friend (%d messages or %d MiB a day); "+
				"the rest waits in the DHT and comes later", name, q.Messages, q.Bytes>>20),
			fmt.Sprintf("if %s floods you on purpose: dhtchat block %s", name, name)
	case chat.AlertSendBlocked:
		return fmt.Sprintf("sending to %s is blocked: a record that is not yours sits in your slot %d of the chat "+
				"with a sequence number yours cannot pass, so %s cannot read what you send", name, a.N, name),
			fmt.Sprintf("%s's dhtchat can write there and put it there: your messages stay queued and go out once it is gone "+
				"(DHT nodes drop it two days after it was last put); if it stays, ask %s, or dhtchat block %s", name, name, name)
	case chat.AlertStale:
		return fmt.Sprintf("this home is older than what your identity already sent to %s (restored from a backup, "+
				"or another device uses it): dhtchat sends nothing more in this chat, so as never to reuse its keys", name),
			fmt.Sprintf("start a new chat: dhtchat start %s", name)
	}
	return a.String(), ""
}

// noteAlerts tells the user on stderr of alerts raised on the chat with
// the friend called name.
func (e *env) noteAlerts(name string, alerts []chat.Alert) {
	for _, a := range alerts {
		what, hint := alertText(a, name)
		e.warnf("%s", what)
		if hint != "" {
			e.hintf("%s", hint)
		}
	}
}
