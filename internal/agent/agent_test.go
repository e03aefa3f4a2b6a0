package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

// serve starts a server over an offline chat client (a real database in
// t.TempDir) with one chat with bob, and returns the socket's path.
func serve(t *testing.T) (path string, c *chat.Client) {
	t.Helper()
	me, err := keyring.GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	bob, err := keyring.GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err = chat.Open(chat.Config{Identity: me, DBPath: filepath.Join(dir, "dhtchat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.StartChat(t.Context(), bob.Public()); err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(SocketPath("", dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, Config{Client: c, Friend: func(name string) (keyring.PublicKey, bool) {
			return bob.Public(), name == "bob"
		}, Name: func(keyring.PublicKey) string { return "bob" }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		ln.Close()
	})
	return ln.Path(), c
}

// TestSocketIsPrivate: the socket is mode 0600 in a directory of 0700.
func TestSocketIsPrivate(t *testing.T) {
	runtime := filepath.Join(t.TempDir(), "run")
	ln, err := Listen(SocketPath(runtime, "/some/home"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(ln.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want a socket of 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(ln.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode = %v, want 0700", di.Mode().Perm())
	}
	if !strings.HasPrefix(ln.Path(), runtime) {
		t.Errorf("socket at %s, want it in $XDG_RUNTIME_DIR %s", ln.Path(), runtime)
	}
	if SocketPath(runtime, "/other/home") == ln.Path() {
		t.Errorf("two homes share the socket %s", ln.Path())
	}
}

// TestOnePerHome: a second Listen for the same home leaves the live socket
// alone; once its holder is gone, a stale socket file is replaced.
func TestOnePerHome(t *testing.T) {
	path := SocketPath("", t.TempDir())
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Listen: %v, want ErrRunning", err)
	}
	accepted := make(chan struct{})
	go func(ln *Listener) {
		defer close(accepted)
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}(ln)
	c, err := Dial(path)
	if err != nil {
		t.Fatalf("the first socket no longer answers: %v", err)
	}
	c.Close()
	ln.Close()
	<-accepted

	// A stale socket: a file that nobody serves (left by a killed agent).
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no stale socket to test with: %v", err)
	}
	if _, err := Dial(path); err == nil {
		t.Fatal("a stale socket accepted a connection")
	}
	ln, err = Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln.Close()
}

// TestMalformedRequests: each bad line gets a JSON-RPC error with the
// code the specification gives it, and the connection goes on serving.
func TestMalformedRequests(t *testing.T) {
	path, _ := serve(t)
	nc, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	for _, tc := range []struct {
		line string
		code int
	}{
		{`not json`, CodeParse},
		{`{"jsonrpc":"2.0","id":1,"method":"send"`, CodeParse},
		{`[1,2]`, CodeInvalidRequest},
		{`{"jsonrpc":"1.0","id":2,"method":"chats"}`, CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":3}`, CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":{},"method":"chats"}`, CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":4,"method":"nope"}`, CodeMethodNotFound},
		{`{"jsonrpc":"2.0","id":5,"method":"send","params":[1]}`, CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":6,"method":"send","params":{"friend":"bob","txt":"hi"}}`, CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":7,"method":"send","params":{"friend":"carol","text":"hi"}}`, CodeNotFound},
		{`{"jsonrpc":"2.0","id":8,"method":"send","params":{"friend":"bob","messages":["ok",""]}}`, CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":9,"method":"history","params":{"chat":"garbage"}}`, CodeInvalidParams},
	} {
		if _, err := nc.Write([]byte(tc.line + "\n")); err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("%s: no answer: %v", tc.line, err)
		}
		var resp struct {
			Error *Error `json:"error"`
		}
		if err := json.Unmarshal(line, &resp); err != nil || resp.Error == nil || resp.Error.Code != tc.code {
			t.Errorf("%s -> %s, want error code %d", tc.line, line, tc.code)
		}
	}
	// Still serving.
	conn, err := Connect(path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var res map[string][]ChatInfo
	if err := conn.Call(t.Context(), "chats", nil, &res); err != nil || len(res["chats"]) != 1 {
		t.Fatalf("chats after the bad lines = %v, %v", res, err)
	}
}

// TestSendAndHistory: send stores the messages (the worker, when online,
// publishes them) and history reads them back. (Events need an online
// client: cmd/dhtchat's agent tests, on a loopback DHT, cover them.)
func TestSendAndHistory(t *testing.T) {
	path, _ := serve(t)
	conn, err := Connect(path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sent SendResult
	if err := conn.Call(t.Context(), "send", map[string]any{"friend": "bob", "messages": []string{"one", "two"}}, &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent.Messages) != 2 || sent.Messages[0].N != 1 || sent.Messages[1].Text != "two" || sent.Messages[0].Status != "queued" {
		t.Fatalf("send = %+v", sent)
	}
	var h MessagesResult
	if err := conn.Call(t.Context(), "history", map[string]any{"chat": sent.Chat}, &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 2 || h.Messages[0].Text != "one" || !h.Messages[1].Outgoing {
		t.Fatalf("history = %+v", h)
	}
}

// The engine's typing indicators and read receipts become "typing" and
// "read" events, naming the chat by its key.
func TestSignalEvents(t *testing.T) {
	_, c := serve(t)
	infos, err := c.Chats(t.Context())
	if err != nil || len(infos) != 1 {
		t.Fatalf("Chats = %v, %v", infos, err)
	}
	s := &server{cfg: Config{Client: c}}
	key := infos[0].Key.String()
	ev, ok := s.event(t.Context(), chat.TypingEvent{ID: infos[0].ID, Typing: true})
	if !ok || ev.Type != "typing" || ev.Chat != key || ev.Typing == nil || !*ev.Typing {
		t.Errorf("typing event = %+v, %v", ev, ok)
	}
	b, _ := json.Marshal(ev)
	if !strings.Contains(string(b), `"typing":true`) {
		t.Errorf("typing event encodes to %s", b)
	}
	ev, ok = s.event(t.Context(), chat.TypingEvent{ID: infos[0].ID})
	if b, _ := json.Marshal(ev); !ok || !strings.Contains(string(b), `"typing":false`) {
		t.Errorf("stopped typing encodes to %s", b)
	}
	ev, ok = s.event(t.Context(), chat.ReadEvent{ID: infos[0].ID, N: 4})
	if !ok || ev.Type != "read" || ev.Chat != key || ev.N != 4 {
		t.Errorf("read event = %+v, %v", ev, ok)
	}
}
