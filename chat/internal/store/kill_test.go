package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/internal/testio"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

const helperEnv = "DHTCHAT_STORE_TEST_KILL"

// TestSurvivesKill enqueues messages in a child process, kills it with
// SIGKILL as soon as Enqueue has returned (no Close, no checkpoint), and
// checks that the messages are there.
func TestSurvivesKill(t *testing.T) {
	if path := os.Getenv(helperEnv); path != "" {
		killHelper(path)
		return
	}
	path := filepath.Join(t.TempDir(), "chats.db")
	if said := testio.KillChild(t, "TestSurvivesKill", helperEnv, path, 1); said[0] != "queued" {
		t.Fatalf("helper said %q", said)
	}

	ctx := testwait.Context(t)
	s := openAt(t, path)
	un, err := s.Unacked(ctx, chatID(1), 0)
	if err != nil || !slices.Equal(ns(un), []uint64{1, 2, 3}) {
		t.Fatalf("Unacked after kill -9 = %v, %v; want [1 2 3]", ns(un), err)
	}
}

func killHelper(path string) {
	s, err := Open(path)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, _, err := s.CreateChat(ctx, Chat{ID: chatID(1), Wire: wireID(1), Peer: peerKey(1)}); err != nil {
		panic(err)
	}
	if _, err := s.Enqueue(ctx, chatID(1), []string{"a", "b", "c"}, time.Now()); err != nil {
		panic(err)
	}
	os.Stdout.WriteString("queued\n")
	time.Sleep(testwait.Timeout) // until killed
	os.Exit(1)
}
