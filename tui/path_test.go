package tui

import (
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/chat"
)

// The network label says which path the chat on screen is on, and a
// PathEvent changes it.
func TestPathInStatus(t *testing.T) {
	m := newTestModel(t, 100, 24)
	withChats(t, m, "bob", "carol")
	send(m, eventsMsg{chat.NetworkEvent{State: chat.Online}})
	if s := screen(m); !strings.Contains(s, "online · dht") {
		t.Fatalf("no DHT path shown:\n%s", s)
	}
	send(m, eventsMsg{chat.PathEvent{ID: chatID(1), Path: chat.PathLiveDirect}})
	if s := screen(m); !strings.Contains(s, "online · live") || strings.Contains(s, "online · dht") {
		t.Fatalf("the live path is not shown:\n%s", s)
	}
	send(m, eventsMsg{chat.PathEvent{ID: chatID(1), Path: chat.PathLiveRelayed}})
	if s := screen(m); !strings.Contains(s, "online · relayed") {
		t.Fatalf("the relayed path is not shown:\n%s", s)
	}
	// Another chat's path does not show for this one.
	send(m, eventsMsg{chat.PathEvent{ID: chatID(2), Path: chat.PathDHT}})
	if s := screen(m); !strings.Contains(s, "online · relayed") {
		t.Fatalf("another chat's path changed this one's:\n%s", s)
	}
}
