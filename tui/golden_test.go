package tui

import (
	"fmt"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/keyring"
)

// mainScreen is a chat with alice among three, with a draft typed.
func mainScreen(t *testing.T, w, h int) *model {
	m := newTestModel(t, w, h)
	withChats(t, m, "alice", "bob", "carol")
	texts := []string{
		"hi! did you get the keys?",
		"yes, compared the fingerprint on the phone",
		"great. this one is a longer message, to show how the lines wrap under the sender column when they run past the width of the pane",
		"ok",
	}
	es := conversation(chatID(1), 24, func(i int) string { return fmt.Sprintf("%d: %s", i+1, texts[i%len(texts)]) })
	es[len(es)-1].Status = 0 // pending
	es[len(es)-3].Status = 1 // published
	send(m, pageMsg{id: chatID(1), entries: es, readUpTo: 10})
	m.list.items[1].Unread = 3
	typeText(m, "half-typed draft")
	return m
}

func TestGoldenMain80x24(t *testing.T) {
	m := mainScreen(t, 80, 24)
	golden(t, "main-80x24.txt", screen(m))
	golden(t, "main-80x24.ansi", ansi16(m.View().Content))
}

func TestGoldenMain120x40(t *testing.T) {
	golden(t, "main-120x40.txt", screen(mainScreen(t, 120, 40)))
}

func TestGoldenWide(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "yuki", "bob")
	texts := []string{
		"こんにちは！元気ですか？今日はとてもいい天気ですね。散歩に行きましょう。全角文字が列を揃えたまま折り返されるかどうか。",
		"👋🏽 hi! 🎉🎉 family: 👨‍👩‍👧‍👦 flags: 🇫🇷🇯🇵 ok",
		"mixed 中文 and English words, 한국어 too, wrapping over the edge of the pane",
		"é (composed) and é (decomposed), café",
	}
	es := conversation(chatID(1), len(texts), func(i int) string { return texts[i] })
	send(m, pageMsg{id: chatID(1), entries: es, readUpTo: 100})
	typeText(m, "返事: 👍")
	golden(t, "wide-80x24.txt", screen(m))
}

func TestGoldenNarrow(t *testing.T) {
	m := mainScreen(t, 50, 20)
	golden(t, "narrow-50x20.txt", screen(m))
}

func TestGoldenWelcome(t *testing.T) {
	m := newTestModel(t, 80, 24)
	m.banner = "local demo network"
	send(m, friendsMsg(nil))
	send(m, chatsMsg(nil))
	golden(t, "welcome-80x24.txt", screen(m))
}

func TestGoldenHelp(t *testing.T) {
	m := mainScreen(t, 80, 24)
	m.in.clear(m.open)
	send(m, keyF1)
	golden(t, "keys-80x24.txt", screen(m))
	send(m, keyEsc)
	typeText(m, "/help")
	send(m, keyEnter)
	golden(t, "commands-80x24.txt", screen(m))
}

// trustScreen is a chat with alice, whose key changed (she was removed and
// added again with another key), among bob (verified) and carol.
func trustScreen(t *testing.T, w, h int) *model {
	m := newTestModel(t, w, h)
	withChats(t, m, "alice", "bob", "carol")
	_, old := fixedKey(t, 99)
	fs := m.friends
	fs[0].KeyChange = &keyring.KeyChange{OldKey: old, ChangedAt: base.Add(-26 * time.Hour)}
	fs[1].Verified = true
	m.book.(*book).friends = fs
	send(m, friendsMsg(fs))
	es := conversation(chatID(1), 6, func(i int) string { return fmt.Sprintf("%d: message", i+1) })
	send(m, pageMsg{id: chatID(1), entries: es, readUpTo: 10})
	return m
}

func TestGoldenKeyChanged(t *testing.T) {
	m := trustScreen(t, 80, 24)
	golden(t, "keychanged-80x24.txt", screen(m))
	golden(t, "keychanged-80x24.ansi", ansi16(m.View().Content))
	golden(t, "keychanged-50x20.txt", screen(trustScreen(t, 50, 20)))
}

func TestGoldenInfo(t *testing.T) {
	m := trustScreen(t, 80, 24)
	send(m, keyF2)
	golden(t, "info-keychanged-80x24.txt", screen(m))
	send(m, keyEsc)
	send(m, keyCtrlN) // bob, verified
	send(m, pageMsg{id: chatID(2)})
	send(m, keyF2)
	golden(t, "info-verified-80x24.txt", screen(m))
}
