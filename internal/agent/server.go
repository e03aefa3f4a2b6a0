package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/keyring"
)

// Config is what a Server serves with.
type Config struct {
	// Client is the running, online chat client whose work the socket's
	// callers share.
	Client *chat.Client
	// Friend looks a friend up by name (the keyring as it is now).
	Friend func(name string) (keyring.PublicKey, bool)
	// Name names a peer for the "from" of messages ("" if unknown).
	Name   func(keyring.PublicKey) string
	Logger *slog.Logger
}

// inFlight bounds the requests of one connection handled at once.
const inFlight = 16

// Serve answers the connections of ln until ctx ends, then closes ln and
// every connection and waits for their goroutines.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{cfg: cfg}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { <-ctx.Done(); ln.Close() })
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() { s.serveConn(ctx, c) })
	}
}

type server struct{ cfg Config }

// conn is one caller's connection: requests in, responses and
// notifications out, one line each, written whole.
type conn struct {
	c  net.Conn
	mu sync.Mutex
	w  *bufio.Writer
}

func (c *conn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.Write(b)
	c.w.WriteByte('\n')
	return c.w.Flush()
}

func (s *server) serveConn(ctx context.Context, nc net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); nc.Close(); wg.Wait() }()
	wg.Go(func() { <-ctx.Done(); nc.Close() })
	c := &conn{c: nc, w: bufio.NewWriter(nc)}
	r := bufio.NewReaderSize(nc, 64<<10)
	sem := make(chan struct{}, inFlight)
	subscribed := false
	for {
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, errTooLong) {
				c.write(Response{JSONRPC: "2.0", ID: json.RawMessage("null"),
					Error: errorf(CodeInvalidRequest, "request longer than %d bytes", MaxLine)})
			}
			return
		}
		if len(line) == 0 {
			continue
		}
		req, perr := ParseRequest(line)
		if perr != nil {
			id := req.ID
			if len(id) == 0 {
				id = json.RawMessage("null")
			}
			if c.write(Response{JSONRPC: "2.0", ID: id, Error: perr}) != nil {
				return
			}
			continue
		}
		if req.Method == "subscribe" {
			if !subscribed {
				subscribed = true
				events := s.cfg.Client.Subscribe(ctx)
				wg.Go(func() { s.stream(ctx, c, events) })
			}
			s.reply(c, req, map[string]bool{"subscribed": true}, nil)
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			res, err := s.call(ctx, req)
			s.reply(c, req, res, err)
		})
	}
}

var errTooLong = errors.New("line too long")

// readLine reads one line of at most MaxLine bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxLine+1 {
			return nil, errTooLong
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}

func (s *server) reply(c *conn, req Request, res any, err error) {
	if len(req.ID) == 0 {
		return // a notification: no response
	}
	resp := Response{JSONRPC: "2.0", ID: req.ID}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = errorf(CodeRefused, "%s", err.Error())
			if errors.Is(err, context.DeadlineExceeded) {
				e.Code = CodeTimeout
			}
		}
		resp.Error = e
	} else {
		if res == nil {
			res = struct{}{}
		}
		resp.Result = res
	}
	c.write(resp)
}

// Target: the parameters that name a chat: its key, or the friend (the latest
// chat with them).
type Target struct {
	Chat   string `json:"chat,omitempty"`
	Friend string `json:"friend,omitempty"`
}

func (s *server) resolve(ctx context.Context, t Target) (chat.Info, error) {
	switch {
	case t.Chat != "":
		key, err := wire.ParseChatKey(t.Chat)
		if err != nil {
			return chat.Info{}, errorf(CodeInvalidParams, "invalid params: bad chat key: %v", err)
		}
		in, err := s.cfg.Client.ChatByKey(ctx, key)
		if errors.Is(err, chat.ErrUnknownChat) {
			return chat.Info{}, errorf(CodeNotFound, "no chat with that chat key")
		}
		return in, err
	case t.Friend != "":
		pk, ok := s.cfg.Friend(t.Friend)
		if !ok {
			return chat.Info{}, errorf(CodeNotFound, "%s is not one of your friends", t.Friend)
		}
		in, err := s.cfg.Client.LatestChatWith(ctx, pk)
		if errors.Is(err, chat.ErrUnknownChat) {
			return chat.Info{}, errorf(CodeNotFound, "you have no chat with %s yet", t.Friend)
		}
		return in, err
	}
	return chat.Info{}, errorf(CodeInvalidParams, `invalid params: give "chat" (a chat key) or "friend" (a name)`)
}

func (s *server) call(ctx context.Context, req Request) (any, error) {
	switch req.Method {
	case "send":
		var p SendParams
		if err := decodeParams(req.Params, &p); err != nil {
			return nil, err
		}
		return s.send(ctx, p)
	case "sync":
		var p Target
		if err := decodeParams(req.Params, &p); err != nil {
			return nil, err
		}
		return s.sync(ctx, p)
	case "recv":
		var p RecvParams
		if err := decodeParams(req.Params, &p); err != nil {
			return nil, err
		}
		return s.recv(ctx, p)
	case "history":
		var p HistoryParams
		if err := decodeParams(req.Params, &p); err != nil {
			return nil, err
		}
		return s.history(ctx, p)
	case "chats":
		if err := decodeParams(req.Params, &struct{}{}); err != nil {
			return nil, err
		}
		return s.chats(ctx)
	case "focus", "use":
		var p Target
		if err := decodeParams(req.Params, &p); err != nil {
			return nil, err
		}
		in, err := s.resolve(ctx, p)
		if err != nil {
			return nil, err
		}
		if req.Method == "focus" {
			s.cfg.Client.Focus(in.ID)
		} else {
			s.cfg.Client.Use(in.ID)
		}
		return map[string]string{"chat": in.Key.String()}, nil
	}
	return nil, errorf(CodeMethodNotFound, "method not found: %q", req.Method)
}

// SendParams are the parameters of "send".
type SendParams struct {
	Target
	Text          string   `json:"text,omitempty"`
	Messages      []string `json:"messages,omitempty"`
	WaitDelivered bool     `json:"wait_delivered,omitempty"`
	Timeout       string   `json:"timeout,omitempty"` // a Go duration: "30s"
}

// SendResult is the result of "send".
type SendResult struct {
	Chat     string    `json:"chat"`
	Messages []Message `json:"messages"`
}

func (s *server) send(ctx context.Context, p SendParams) (any, error) {
	bodies := p.Messages
	if p.Text != "" {
		bodies = append([]string{p.Text}, bodies...)
	}
	if len(bodies) == 0 {
		return nil, errorf(CodeInvalidParams, `invalid params: give "text" or "messages"`)
	}
	for i, b := range bodies {
		if err := chat.ValidBody(b); err != nil {
			return nil, errorf(CodeInvalidParams, "invalid params: message %d: %v", i+1, err)
		}
	}
	timeout, terr := parseTimeout(p.Timeout)
	if terr != nil {
		return nil, terr
	}
	in, err := s.resolve(ctx, p.Target)
	if err != nil {
		return nil, err
	}
	if in.Blocked || in.Paused {
		return nil, errorf(CodeRefused, "the chat is paused (the friend is blocked or removed)")
	}
	// Subscribed before the send, so that no acknowledgement is missed.
	var events <-chan chat.Event
	wctx := ctx
	if p.WaitDelivered {
		var cancel context.CancelFunc
		wctx, cancel = context.WithCancel(ctx)
		defer cancel()
		events = s.cfg.Client.Subscribe(wctx)
	}
	entries, err := s.cfg.Client.Send(ctx, in.ID, bodies...)
	if err != nil {
		return nil, err
	}
	s.cfg.Client.Use(in.ID)
	res := SendResult{Chat: in.Key.String()}
	if p.WaitDelivered {
		s.cfg.Client.Focus(in.ID)
		if timeout > 0 {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(wctx, timeout)
			defer cancel()
		}
		last := entries[len(entries)-1]
		if err := s.waitDelivered(wctx, in.ID, last.Seq, events); err != nil {
			return nil, err
		}
		// Read again: the numbers and statuses the store has now, and
		// what the friend's client acked over the live path.
		for i, e := range entries {
			if es, err := s.cfg.Client.History(ctx, in.ID, e.Seq+1, 1); err == nil && len(es) == 1 {
				entries[i] = s.liveDelivered(in.ID, es[0])
			}
		}
	}
	for _, e := range entries {
		res.Messages = append(res.Messages, s.message(in, e))
	}
	return res, nil
}

// waitDelivered waits until the message stored as seq is delivered: the
// friend's slot records acknowledge it, or the friend's client did over
// the live path (Client.LiveAcked). The events say when to look, the
// store and the live path what there is.
func (s *server) waitDelivered(ctx context.Context, id chat.ChatID, seq int64, events <-chan chat.Event) error {
	for {
		es, err := s.cfg.Client.History(ctx, id, seq+1, 1)
		if err != nil {
			return err
		}
		if len(es) == 1 && s.liveDelivered(id, es[0]).Status == chat.Delivered {
			return nil
		}
		select {
		case _, ok := <-events:
			if !ok {
				return errorf(CodeTimeout, "stopped waiting: %v", ctx.Err())
			}
		case <-ctx.Done():
			return errorf(CodeTimeout, "timed out waiting for the acknowledgement (the messages are stored and will be sent)")
		}
	}
}

// liveDelivered returns e, one of our messages in chat id, as Delivered if
// the friend's client acknowledged it over the live path, though the
// store marks it so only once the friend's slot records do.
func (s *server) liveDelivered(id chat.ChatID, e chat.Entry) chat.Entry {
	if e.Outgoing && e.Status != chat.Delivered && e.N > 0 && e.N <= s.cfg.Client.LiveAcked(id) {
		e.Status = chat.Delivered
	}
	return e
}

func parseTimeout(s string) (time.Duration, *Error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errorf(CodeInvalidParams, "invalid params: bad timeout %q", s)
	}
	return d, nil
}

// SyncResult is the result of "sync".
type SyncResult struct {
	Chat      string    `json:"chat"`
	Received  []Message `json:"received"`
	Delivered []uint64  `json:"delivered"`
	Alerts    []Alert   `json:"alerts"`
	Error     string    `json:"error,omitempty"` // why the network part failed, if it did
}

func (s *server) sync(ctx context.Context, p Target) (any, error) {
	in, err := s.resolve(ctx, p)
	if err != nil {
		return nil, err
	}
	r, err := s.cfg.Client.Sync(ctx, in.ID)
	res := SyncResult{Chat: in.Key.String(), Received: []Message{}, Delivered: []uint64{}, Alerts: []Alert{}}
	for _, e := range r.Received {
		res.Received = append(res.Received, s.message(in, e))
	}
	for _, e := range r.Delivered {
		res.Delivered = append(res.Delivered, e.N)
	}
	for _, a := range r.Alerts {
		res.Alerts = append(res.Alerts, alertOf(in.Key.String(), a))
	}
	if err != nil {
		res.Error = err.Error()
	}
	return res, nil
}

// RecvParams are the parameters of "recv".
type RecvParams struct {
	Target
	All bool `json:"all,omitempty"`
}

// MessagesResult is the result of "recv" and "history".
type MessagesResult struct {
	Chat     string    `json:"chat"`
	Messages []Message `json:"messages"`
}

func (s *server) recv(ctx context.Context, p RecvParams) (any, error) {
	in, err := s.resolve(ctx, p.Target)
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Client.Sync(ctx, in.ID); err != nil && ctx.Err() != nil {
		return nil, err
	}
	var upTo uint64
	if !p.All {
		if upTo, err = s.cfg.Client.PrintedUpTo(ctx, in.ID); err != nil {
			return nil, err
		}
	}
	res := MessagesResult{Chat: in.Key.String(), Messages: []Message{}}
	for {
		ms, err := s.cfg.Client.Incoming(ctx, in.ID, upTo, 1000)
		if err != nil {
			return nil, err
		}
		if len(ms) == 0 {
			break
		}
		for _, m := range ms {
			res.Messages = append(res.Messages, s.message(in, m))
			upTo = max(upTo, m.N)
		}
	}
	if len(res.Messages) > 0 {
		if err := s.cfg.Client.MarkPrinted(context.WithoutCancel(ctx), in.ID, upTo); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// HistoryParams are the parameters of "history".
type HistoryParams struct {
	Target
	Before int64 `json:"before,omitempty"` // a "seq": only messages stored before it
	Limit  int   `json:"limit,omitempty"`  // default 50, at most 1000
}

func (s *server) history(ctx context.Context, p HistoryParams) (any, error) {
	in, err := s.resolve(ctx, p.Target)
	if err != nil {
		return nil, err
	}
	if p.Limit <= 0 {
		p.Limit = 50
	}
	p.Limit = min(p.Limit, 1000)
	if p.Before < 0 {
		return nil, errorf(CodeInvalidParams, "invalid params: before must not be negative")
	}
	es, err := s.cfg.Client.History(ctx, in.ID, p.Before, p.Limit)
	if err != nil {
		return nil, err
	}
	res := MessagesResult{Chat: in.Key.String(), Messages: []Message{}}
	for _, e := range es {
		res.Messages = append(res.Messages, s.message(in, e))
	}
	return res, nil
}

// ChatInfo is one chat of "chats".
type ChatInfo struct {
	Chat         string    `json:"chat"`
	Friend       string    `json:"friend"`
	Unread       int       `json:"unread"`
	LastActivity time.Time `json:"last_activity"`
	StartedByMe  bool      `json:"started_by_me"`
	Paused       bool      `json:"paused"`
	Blocked      bool      `json:"blocked"`
}

func (s *server) chats(ctx context.Context) (any, error) {
	infos, err := s.cfg.Client.Chats(ctx)
	if err != nil {
		return nil, err
	}
	out := []ChatInfo{}
	for _, in := range infos {
		out = append(out, ChatInfo{in.Key.String(), s.name(in.Peer), in.Unread, in.LastActivity.UTC(), in.StartedByMe, in.Paused, in.Blocked})
	}
	return map[string][]ChatInfo{"chats": out}, nil
}

func (s *server) name(pk keyring.PublicKey) string {
	if s.cfg.Name == nil {
		return ""
	}
	return s.cfg.Name(pk)
}

// Message is a message in results and events.
type Message struct {
	Chat       string     `json:"chat"`
	Seq        int64      `json:"seq"`
	N          uint64     `json:"n"`
	Outgoing   bool       `json:"outgoing"`
	From       string     `json:"from,omitempty"` // the friend's name, for their messages
	SentAt     time.Time  `json:"sent_at"`
	ReceivedAt *time.Time `json:"received_at,omitempty"`
	Text       string     `json:"text"`
	Status     string     `json:"status"` // queued, published, delivered, received
}

func (s *server) message(in chat.Info, e chat.Entry) Message {
	m := Message{Chat: in.Key.String(), Seq: e.Seq, N: e.N, Outgoing: e.Outgoing, SentAt: e.SentAt.UTC(), Text: e.Body, Status: StatusName(e.Status)}
	if !e.Outgoing {
		m.From = s.name(in.Peer)
		r := e.ReceivedAt.UTC()
		m.ReceivedAt = &r
	}
	return m
}

// StatusName is the name of a message status in the protocol.
func StatusName(st chat.Status) string {
	switch st {
	case chat.Pending:
		return "queued"
	case chat.Published:
		return "published"
	case chat.Delivered:
		return "delivered"
	case chat.Received:
		return "received"
	}
	return "unknown"
}

// Alert is an alert in results and events.
type Alert struct {
	Chat string    `json:"chat"`
	Kind string    `json:"kind"`
	N    uint64    `json:"n"`
	At   time.Time `json:"at"`
}

func alertOf(key string, a chat.Alert) Alert {
	return Alert{Chat: key, Kind: a.Kind.String(), N: a.N, At: a.At.UTC()}
}

// Event is the params of an "event" notification.
type Event struct {
	Type    string   `json:"type"` // message, status, alert, network, chat, lag, typing, read
	Chat    string   `json:"chat,omitempty"`
	Message *Message `json:"message,omitempty"` // message, status
	Alert   *Alert   `json:"alert,omitempty"`
	State   string   `json:"state,omitempty"` // network: connecting, online, offline
	Error   string   `json:"error,omitempty"` // network
	Missed  int      `json:"missed,omitempty"`
	Typing  *bool    `json:"typing,omitempty"` // typing: the friend is typing (true) or stopped
	N       uint64   `json:"n,omitempty"`      // read: the friend read our messages up to n
}

// stream sends the events of a subscription until ctx ends or the
// connection fails.
func (s *server) stream(ctx context.Context, c *conn, events <-chan chat.Event) {
	for ev := range events {
		e, ok := s.event(ctx, ev)
		if !ok {
			continue
		}
		if c.write(Notification{JSONRPC: "2.0", Method: "event", Params: e}) != nil {
			return
		}
	}
}

func (s *server) info(ctx context.Context, id chat.ChatID) (chat.Info, bool) {
	in, err := s.cfg.Client.Info(ctx, id)
	return in, err == nil
}

func (s *server) event(ctx context.Context, ev chat.Event) (Event, bool) {
	switch ev := ev.(type) {
	case chat.MessageEvent, chat.StatusEvent:
		typ, e := "message", chat.Entry{}
		if m, ok := ev.(chat.MessageEvent); ok {
			e = m.Entry
		} else {
			typ, e = "status", ev.(chat.StatusEvent).Entry
		}
		in, ok := s.info(ctx, e.Chat)
		if !ok {
			return Event{}, false
		}
		m := s.message(in, e)
		return Event{Type: typ, Chat: m.Chat, Message: &m}, true
	case chat.AlertEvent:
		in, ok := s.info(ctx, ev.Alert.Chat)
		if !ok {
			return Event{}, false
		}
		a := alertOf(in.Key.String(), ev.Alert)
		return Event{Type: "alert", Chat: a.Chat, Alert: &a}, true
	case chat.NetworkEvent:
		e := Event{Type: "network", State: ev.State.String()}
		if ev.Err != nil {
			e.Error = ev.Err.Error()
		}
		return e, true
	case chat.ChatEvent:
		e := Event{Type: "chat"}
		if in, ok := s.info(ctx, ev.ID); ok {
			e.Chat = in.Key.String()
		}
		return e, true
	case chat.LagEvent:
		return Event{Type: "lag", Missed: ev.Missed}, true
	case chat.TypingEvent:
		in, ok := s.info(ctx, ev.ID)
		if !ok {
			return Event{}, false
		}
		return Event{Type: "typing", Chat: in.Key.String(), Typing: &ev.Typing}, true
	case chat.ReadEvent:
		in, ok := s.info(ctx, ev.ID)
		if !ok {
			return Event{}, false
		}
		return Event{Type: "read", Chat: in.Key.String(), N: ev.N}, true
	}
	return Event{}, false
}
