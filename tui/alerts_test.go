package tui

import (
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/chat"
)

// TestAlertsStay: a chat's alerts, also those another process raised (the
// list's count), show in a notice over its history and in the list until
// the user looks at them in the info view, which lists them in full; a
// key press does not take them away.
func TestAlertsStay(t *testing.T) {
	m := newTestModel(t, 100, 24)
	infos := withChats(t, m, "alice", "bob")
	send(m, pageMsg{id: chatID(1)})
	infos[0].Alerts = 1 // raised by another dhtchat on this database
	send(m, chatsMsg(infos))
	if _, notice := row(m, 1); !strings.HasPrefix(notice, " ! ALERT: see f2 · f2: details") {
		t.Errorf("the notice row is %q", notice)
	}
	send(m, eventsMsg{chat.AlertEvent{Alert: chat.Alert{Chat: chatID(1), Kind: chat.AlertConflict, N: 7, At: base}}})
	typeText(m, "x")
	if _, notice := row(m, 1); !strings.HasPrefix(notice, " ! ALERT: their message 7 came again with other content · f2: details") {
		t.Errorf("after a key the notice row is %q", notice)
	}
	if l2, _ := row(m, 2); !strings.HasPrefix(l2, "  ALERT last from alice") {
		t.Errorf("the list row is %q", l2)
	}
	send(m, keyF2)
	if s := screen(m); !strings.Contains(s, "1 alert in this chat") || !strings.Contains(s, "arrived a second time with") {
		t.Errorf("the info view does not list the alert:\n%s", s)
	}
	send(m, keyEsc)
	if s := screen(m); strings.Contains(s, "ALERT") {
		t.Errorf("the alert still shows after the user read it:\n%s", s)
	}
	// A new one shows again.
	send(m, eventsMsg{chat.AlertEvent{Alert: chat.Alert{Chat: chatID(1), Kind: chat.AlertSecondWriter, N: 3, At: base}}})
	if _, notice := row(m, 1); !strings.HasPrefix(notice, " ! ALERT: another copy of your identity is writing in this chat") {
		t.Errorf("after a second alert the notice row is %q", notice)
	}
}

// TestImportedMarked: a message of ours that another copy of the identity
// sent says so.
func TestImportedMarked(t *testing.T) {
	m := newTestModel(t, 100, 24)
	withChats(t, m, "alice")
	e := chat.Entry{Seq: 1, Chat: chatID(1), Outgoing: true, N: 1, SentAt: base, Body: "from my phone", Status: chat.Delivered, Imported: true}
	send(m, pageMsg{id: chatID(1), entries: []chat.Entry{e}})
	if s := screen(m); !strings.Contains(s, "from my phone (from another device) ✓✓") {
		t.Errorf("the imported message is not marked:\n%s", s)
	}
}

// TestAlertShortNamesEveryKind: every kind of alert the engine raises has
// words of its own in the notice, not the words for an unknown one.
func TestAlertShortNamesEveryKind(t *testing.T) {
	unknown := alertShort(chat.Alert{Kind: 0})
	for k := chat.AlertBehind; k <= chat.AlertSendBlocked; k++ {
		if got := alertShort(chat.Alert{Kind: k}); got == unknown {
			t.Errorf("alertShort(%v) = %q, the words for an unknown kind", k, got)
		}
	}
}
