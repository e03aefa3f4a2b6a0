package main

import (
	"context"
	"errors"
	"flag"
	"sync"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/agent"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

var agentCmd = &command{
	name:  "agent",
	short: "Stay online and serve one-shot commands and bots on a local socket",
	long: `Joins the DHT, works on every chat like the full-screen chat does (publishing,
fetching, acknowledging), and serves the control socket: while it runs,
send, recv and the other one-shot commands of this home use it instead of
joining the DHT themselves, and return as soon as their work is done. Bots
speak to the socket directly: line-delimited JSON-RPC 2.0, docs/AGENT.md.

The socket is in $XDG_RUNTIME_DIR/dhtchat (else the data directory), mode
0600: only your user may use it. One process per home serves it; the
full-screen chat and recv --follow serve it too when none does. It runs
until interrupted (SIGINT or SIGTERM).

Examples:
  dhtchat agent &
  dhtchat send alice "built"     # returns at once: the agent publishes
  echo '{"jsonrpc":"2.0","id":1,"method":"chats"}' | socat - UNIX-CONNECT:$XDG_RUNTIME_DIR/dhtchat/agent-….sock`,
	nargs: exactly(0),
	setup: func(fs *flag.FlagSet) runFunc {
		return func(ctx context.Context, e *env, _ []string) error { return runAgent(ctx, e) }
	},
}

func runAgent(ctx context.Context, e *env) error {
	// Said before the network is joined: a second agent is a mistake.
	ln, err := e.holdHome("an agent")
	if err != nil {
		return err
	}
	defer ln.Close()
	s, err := e.openSessionWatching(ctx, true, chat.WatchAll)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		// The worker keeps trying; commands meanwhile get queued messages.
		e.warnf("%s; retrying", userr.Msg(err))
	}
	e.notef("serving %s", ln.Path())
	return agent.Serve(ctx, ln, s.agentConfig())
}

// holdHome takes this home's control socket, and with it the home's lock,
// for a process that must be the home's one online (the agent, serve);
// what says what it is, for the error if another process has it.
func (e *env) holdHome(what string) (*agent.Listener, error) {
	path, err := e.agentSocket()
	if err != nil {
		return nil, err
	}
	ln, err := agent.Listen(path)
	if errors.Is(err, agent.ErrRunning) {
		return nil, userr.Runtimef("another dhtchat already serves this home's control socket").
			WithHint("the commands use it; stop that one first to start %s here", what)
	}
	if err != nil {
		return nil, userr.Runtimef("cannot open the control socket: %v", err)
	}
	return ln, nil
}

// agentSocket is where this home's control socket lives.
func (e *env) agentSocket() (string, error) {
	dataDir, err := e.dataDir()
	if err != nil {
		return "", err
	}
	return agent.SocketPath(e.getenv("XDG_RUNTIME_DIR"), dataDir), nil
}

// serveAgent has a long-running session (the full-screen chat, recv
// --follow) serve the control socket, unless another process of the home
// does. The returned stop ends it and waits; it is also on the session's
// cleanup stack, before the client closes.
func (e *env) serveAgent(ctx context.Context, s *session) {
	path, err := e.agentSocket()
	if err != nil {
		return
	}
	ln, err := agent.Listen(path)
	if err != nil {
		s.log.Debug("not serving the control socket", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := agent.Serve(ctx, ln, s.agentConfig()); err != nil {
			s.log.Warn("control socket", "err", err)
		}
	})
	s.opened.push(func() error { cancel(); wg.Wait(); return ln.Close() })
}

func (s *session) agentConfig() agent.Config {
	return agent.Config{
		Client: s.client,
		Friend: func(name string) (keyring.PublicKey, bool) {
			fs, err := s.book.List()
			if err != nil {
				return keyring.PublicKey{}, false
			}
			for _, f := range fs {
				if f.Name == name {
					return f.Key, true
				}
			}
			return keyring.PublicKey{}, false
		},
		Name: func(pk keyring.PublicKey) string {
			if fs, err := s.book.List(); err == nil {
				for _, f := range fs {
					if f.Key.Equal(pk) {
						return f.Name
					}
				}
			}
			name, _ := s.bareNameOf(pk)
			return name
		},
		Logger: s.log,
	}
}

// dialAgent connects to this home's running dhtchat, if one serves the
// control socket; nil if none does (no socket, or a stale one).
func (e *env) dialAgent() *agent.Conn {
	if e.noAgent || e.getenv("DHTCHAT_NO_AGENT") != "" {
		return nil
	}
	path, err := e.agentSocket()
	if err != nil {
		return nil
	}
	c, err := agent.Connect(path)
	if err != nil {
		return nil
	}
	return c
}

// The session's network work, done by the running dhtchat when the
// session has one (s.agent), else by its own worker.

// useAgent attaches a, the connection to the running dhtchat, to s.
func (s *session) useAgent(a *agent.Conn) {
	s.agent = a
	s.opened.push(a.Close)
}

// agentDone is closed when the running dhtchat went away (nil without one).
func (s *session) agentDone() <-chan struct{} {
	if s.agent == nil {
		return nil
	}
	return s.agent.Done()
}

func (s *session) use(info chat.Info) {
	if s.agent != nil {
		s.agent.Call(context.Background(), "use", map[string]string{"chat": info.Key.String()}, nil)
		return
	}
	s.client.Use(info.ID)
}

func (s *session) focus(info chat.Info) {
	if s.agent != nil {
		s.agent.Call(context.Background(), "focus", map[string]string{"chat": info.Key.String()}, nil)
		return
	}
	s.client.Focus(info.ID)
}

// send stores bodies in the chat: through the running dhtchat, which
// publishes them at once, or here.
func (s *session) send(ctx context.Context, info chat.Info, bodies []string) ([]chat.Entry, error) {
	if s.agent == nil {
		return s.client.Send(ctx, info.ID, bodies...)
	}
	var res agent.SendResult
	if err := s.agent.Call(ctx, "send", agent.SendParams{Messages: bodies, Target: agent.Target{Chat: info.Key.String()}}, &res); err != nil {
		return nil, agentError(err)
	}
	var es []chat.Entry
	for _, m := range res.Messages {
		es = append(es, chat.Entry{Seq: m.Seq, Chat: info.ID, Outgoing: true, N: m.N, SentAt: m.SentAt, Body: m.Text, Status: chat.Pending})
	}
	return es, nil
}

// sync is Client.Sync, through the running dhtchat if there is one.
func (s *session) sync(ctx context.Context, info chat.Info) (chat.SyncResult, error) {
	if s.agent == nil {
		return s.client.Sync(ctx, info.ID)
	}
	var res agent.SyncResult
	if err := s.agent.Call(ctx, "sync", agent.Target{Chat: info.Key.String()}, &res); err != nil {
		return chat.SyncResult{}, agentError(err)
	}
	var out chat.SyncResult
	for _, a := range res.Alerts {
		out.Alerts = append(out.Alerts, alertFrom(info, a))
	}
	if res.Error != "" {
		return out, errors.New(res.Error)
	}
	return out, nil
}

// subscribe is Client.Subscribe, through the running dhtchat if there is
// one: its events, for this session's chat, as the engine's.
func (s *session) subscribe(ctx context.Context, info chat.Info) <-chan chat.Event {
	if s.agent == nil {
		return s.client.Subscribe(ctx)
	}
	out := make(chan chat.Event, 64)
	if err := s.agent.Subscribe(ctx); err != nil {
		close(out)
		return out
	}
	go func() {
		defer close(out)
		for e := range s.agent.Events() {
			var ev chat.Event
			switch e.Type {
			case "message", "status":
				ev = chat.StatusEvent{} // a hint: the store says what changed
				if e.Type == "message" {
					ev = chat.MessageEvent{}
				} else if m := e.Message; m != nil && m.Chat == info.Key.String() && m.Outgoing && m.Status == "delivered" {
					// Maybe a live ack, which the store does not show.
					ev = chat.StatusEvent{Entry: chat.Entry{Chat: info.ID, Outgoing: true, N: m.N, Seq: m.Seq, Status: chat.Delivered}}
				}
			case "alert":
				if e.Alert == nil || e.Alert.Chat != info.Key.String() {
					continue
				}
				ev = chat.AlertEvent{Alert: alertFrom(info, *e.Alert)}
			case "network":
				st := chat.Online
				if e.State == "offline" {
					st = chat.Offline
				}
				var err error
				if e.Error != "" {
					err = errors.New(e.Error)
				}
				ev = chat.NetworkEvent{State: st, Err: err}
			case "lag":
				ev = chat.LagEvent{Missed: e.Missed}
			default:
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func alertFrom(info chat.Info, a agent.Alert) chat.Alert {
	out := chat.Alert{Chat: info.ID, N: a.N, At: a.At}
	for k := chat.AlertKind(1); k < 32; k++ {
		if k.String() == a.Kind {
			out.Kind = k
		}
	}
	return out
}

// agentError is what a failed call to the running dhtchat says.
func agentError(err error) error {
	var e *agent.Error
	if errors.As(err, &e) {
		return userr.Runtimef("the running dhtchat refused: %s", e.Message)
	}
	return userr.Runtimef("the running dhtchat stopped answering").
		WithHint("the messages stored so far are sent by the next dhtchat command that goes online")
}
