package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/agent"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// A session is what the chat commands run with: the keyring, the chat
// client on the local database and, when online, a DHT client node.
type session struct {
	kr *keyring.Keyring
	// krFile is the file kr was loaded from. It keeps the passphrase once
	// typed, so that the full-screen UI changes an encrypted keyring
	// (/add, /verify) without asking again; quiet, once set, stops it
	// asking on the terminal (which the UI then owns).
	krFile *keyring.File
	quiet  atomic.Bool
	// book is the friend list as it is now: the chat client asks it which
	// chats to pause (those of someone no longer a friend), and the UI
	// shows and changes it. It reads the file again when it changes.
	book   *friendBook
	client *chat.Client
	node   *dht.Node // nil when offline
	// agent is the connection to this home's running dhtchat, which does
	// the network work of a one-shot command (agent.go); nil if none.
	agent *agent.Conn
	log   *slog.Logger
	// opened holds what the session opened, to close in reverse order.
	opened cleanup
}

// openSession loads the keyring and opens the database; with online, it also
// starts a DHT client node (not yet connected: see connect), and the chat
// client's worker works on the chats the command uses (chat.WatchUsed).
func (e *env) openSession(ctx context.Context, online bool) (*session, error) {
	return e.openSessionWatching(ctx, online, chat.WatchUsed)
}

// openSessionWatching is openSession with the chats that the worker of an
// online session works on: chat.WatchAll for the full-screen UI.
func (e *env) openSessionWatching(ctx context.Context, online bool, watch chat.Watch) (*session, error) {
	s := &session{}
	f, err := e.keyringFileAsking(func() ([]byte, error) {
		if s.quiet.Load() {
			return e.passphraseNoPrompt()
		}
		return e.passphrase()
	})
	if err != nil {
		return nil, err
	}
	// The file's state before it is read: a change while it is read is
	// read again by the book.
	seen, _ := os.Stat(f.Path())
	kr, err := f.Load()
	if err != nil {
		return nil, err
	}
	s.kr, s.krFile = kr, f
	// From now on the session never asks on the terminal: a keyring read
	// again later (another process changed it) uses the passphrase typed
	// now, or --passphrase-file or DHTCHAT_PASSPHRASE.
	s.quiet.Store(true)
	// The book keeps a copy: it changes its own while other goroutines
	// (the worker, asking IsFriend) read it.
	s.book = &friendBook{e: e, kf: f, seen: seen,
		snapshot: &keyring.Keyring{Identity: kr.Identity, Friends: slices.Clone(kr.Friends)}}
	dataDir, err := e.dataDir()
	if err != nil {
		return nil, err
	}
	if err := ensureDir(dataDir); err != nil {
		return nil, err
	}
	if s.log, err = e.logger(); err != nil {
		return nil, err
	}
	var network chat.Network
	var liveCfg chat.LiveConfig
	var noTyping, noRead bool
	if online {
		// libp2p's own logs would land on the terminal, under the UI or
		// in the middle of a command's output: route them first.
		unroute, err := e.routeLibraryLogs()
		if err != nil {
			return nil, err
		}
		s.opened.push(unroute)
		cfg := dht.Config{Mode: dht.ModeClient, Logger: s.log}
		if cfg.Timeouts, err = e.dhtTimeouts(); err != nil {
			s.close()
			return nil, err
		}
		if cfg.Bootstrap, err = e.bootstrapPeers(); err != nil {
			s.close()
			return nil, err
		}
		if cfg.ListenAddrs, err = e.listenAddrs(); err != nil {
			s.close()
			return nil, err
		}
		if s.node, err = dht.New(ctx, cfg); err != nil {
			s.close()
			return nil, userr.Runtimef("cannot start the DHT client: %s", userr.Msg(err)).Because(err)
		}
		s.opened.push(s.node.Close)
		network = s.node
		if watch == chat.WatchAll || e.long {
			// The live path, for the long-running sessions only (the
			// full-screen UI, the agent, recv --follow, pipe mode): a
			// one-shot command's announcement would name a process
			// about to exit. A one-shot keeps the announcement of the
			// home's running process in its records instead.
			if liveCfg, err = e.liveConfig(cfg.Bootstrap); err != nil {
				s.close()
				return nil, err
			}
			if noTyping, noRead, err = e.liveSignalsOff(); err != nil {
				s.close()
				return nil, err
			}
		}
	}
	s.client, err = chat.Open(chat.Config{
		Identity: kr.Identity,
		DBPath:   filepath.Join(dataDir, "dhtchat.db"),
		Network:  network,
		Logger:   s.log,
		Poll:     e.pollPolicy(),
		IsFriend: s.book.isFriend,
		Watch:    watch,
		Live:     liveCfg,
		NoTyping: noTyping, NoReadReceipts: noRead,
		// The commands still make version 1 chats: a restored home or a
		// second device continues a version 1 chat (resync_cli_test.go),
		// where a version 2 chat refuses to write (chat.AlertStale) and
		// needs a new chat, which the commands do not offer yet.
		// Version 2 chats are the engine's default (chat.Config).
		ChatVersion: 1,
	})
	if err != nil {
		s.close()
		return nil, err
	}
	// Closed before the node it uses; it stops its worker first.
	s.opened.push(s.client.Close)
	return s, nil
}

// openFriend opens a session and looks up the friend called name. On
// error nothing is left open; otherwise the caller closes the session.
func (e *env) openFriend(ctx context.Context, online bool, name string) (*session, keyring.Friend, error) {
	return e.openFriendWatching(ctx, online, chat.WatchUsed, name)
}

// openFriendWatching is openFriend with the chats that the worker of an
// online session works on (see openSessionWatching).
func (e *env) openFriendWatching(ctx context.Context, online bool, watch chat.Watch, name string) (*session, keyring.Friend, error) {
	s, err := e.openSessionWatching(ctx, online, watch)
	if err != nil {
		return nil, keyring.Friend{}, err
	}
	f, err := s.friend(name)
	if err != nil {
		s.close()
		return nil, keyring.Friend{}, err
	}
	return s, f, nil
}

// openChat opens a session on the chat with the friend called name that
// chatKey names (or the latest with them, if chatKey is empty).
// An online session uses this home's running dhtchat if there is one
// (the agent, the full-screen chat): it opens the database only, and
// leaves the network to it.
func (e *env) openChat(ctx context.Context, online bool, name, chatKey string) (*session, keyring.Friend, chat.Info, error) {
	var a *agent.Conn
	if online {
		a = e.dialAgent()
	}
	s, f, err := e.openFriend(ctx, online && a == nil, name)
	if err != nil {
		if a != nil {
			a.Close()
		}
		return nil, keyring.Friend{}, chat.Info{}, err
	}
	if a != nil {
		s.useAgent(a)
	}
	info, err := s.chatWith(ctx, f, chatKey)
	if err == nil && online {
		// Reading the history of a blocked friend is fine; sending to
		// them or fetching from them is not.
		err = notBlocked(info, f.Name)
	}
	if err != nil {
		s.close()
		return nil, keyring.Friend{}, chat.Info{}, err
	}
	return s, f, info, nil
}

// close closes everything the session opened, the last opened first.
func (s *session) close() error { return s.opened.close() }

// connect joins the DHT, unless the worker did already. Without a peer it
// fails with an error wrapping dht.ErrNoPeers, which userr explains.
func (s *session) connect(ctx context.Context) error {
	if s.agent != nil {
		return nil // the running dhtchat is online
	}
	return s.client.Connect(ctx)
}

// bootstrapPeers returns the peers of --bootstrap / DHTCHAT_BOOTSTRAP, or
// nil for the public IPFS bootstrap peers.
func (e *env) bootstrapPeers() ([]peer.AddrInfo, error) {
	if e.bootstrap == "" {
		return nil, nil
	}
	if strings.TrimSpace(e.bootstrap) == "none" {
		return []peer.AddrInfo{}, nil
	}
	peers, err := dht.ParseBootstrap(e.bootstrap)
	if err != nil {
		return nil, userr.Usagef("bad --bootstrap: %s", userr.Msg(err)).Because(err).
			WithHint("give multiaddrs ending in /p2p/<peer id>, separated by commas, such as 'dhtchat node' prints")
	}
	return peers, nil
}

// listenAddrs returns the addresses of --listen / DHTCHAT_LISTEN, or nil for
// the defaults.
func (e *env) listenAddrs() ([]multiaddr.Multiaddr, error) {
	if e.listen == "" {
		return nil, nil
	}
	return parseAddrList("--listen", e.listen)
}

// parseAddrList parses a comma-separated list of multiaddrs, the value of
// the flag named flagName.
func parseAddrList(flagName, list string) ([]multiaddr.Multiaddr, error) {
	var addrs []multiaddr.Multiaddr
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, userr.Usagef("bad %s address %q: %v", flagName, s, err).
				WithHint("for example /ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/udp/4001/quic-v1")
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, userr.Usagef("%s is empty", flagName)
	}
	return addrs, nil
}

// dhtTimeouts returns the DHT node's timeouts: the defaults, unless
// DHTCHAT_DIAL_TIMEOUT, for very slow networks and for tests on a loaded
// machine, sets how long joining the DHT waits for the bootstrap peers to
// answer, and then for one of them to enter the routing table.
func (e *env) dhtTimeouts() (dht.Timeouts, error) {
	v := e.getenv("DHTCHAT_DIAL_TIMEOUT")
	if v == "" {
		return dht.Timeouts{}, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return dht.Timeouts{}, userr.Usagef("bad DHTCHAT_DIAL_TIMEOUT %q", v).
			WithHint("give a duration such as 30s; the default is %v", dht.DefaultTimeouts().Dial)
	}
	return dht.Timeouts{Dial: d, RoutingTable: d}, nil
}

// pollPolicy is the chat client's polling policy: the default, or a faster
// one for a private network (DHTCHAT_POLL_INTERVAL, the interval for the
// chat on screen; the others scale with it).
func (e *env) pollPolicy() chat.PollPolicy {
	st, err := e.settings()
	if err != nil { // said already, before the command ran
		return chat.DefaultPollPolicy()
	}
	return st.pollPolicy()
}

// friend returns the friend called name, or a usage error.
func (s *session) friend(name string) (keyring.Friend, error) {
	f, ok := s.kr.Friend(name)
	if !ok {
		return keyring.Friend{}, userr.Usagef("%s is not one of your friends", name).
			WithHint("'dhtchat friends' lists them; 'dhtchat add-friend %s PUBKEY' adds one", name)
	}
	return f, nil
}

// chatWith returns the chat with f named by chatKey, or if chatKey is
// empty the most recently active chat with f.
func (s *session) chatWith(ctx context.Context, f keyring.Friend, chatKey string) (chat.Info, error) {
	if chatKey == "" {
		info, err := s.client.LatestChatWith(ctx, f.Key)
		if errors.Is(err, chat.ErrUnknownChat) {
			return chat.Info{}, userr.Usagef("you have no chat with %s yet", f.Name).
				WithHint("'dhtchat start %s' starts one; 'dhtchat respond %s CHATKEY' joins theirs", f.Name, f.Name)
		}
		return info, err
	}
	key, err := wire.ParseChatKey(chatKey)
	if err != nil {
		return chat.Info{}, err
	}
	info, err := s.client.ChatWithKey(ctx, f.Key, key)
	if errors.Is(err, chat.ErrUnknownChat) || errors.Is(err, wire.ErrChatKeyNotForYou) {
		return chat.Info{}, userr.Usagef("you have no chat with %s under that chat key", f.Name).
			WithHint("'dhtchat chats' lists your chats; 'dhtchat respond %s CHATKEY' joins one", f.Name)
	}
	return info, err
}

// nameOf returns the friend name for a public key; for a former friend,
// the name they had and "(removed)"; else a short description of the key.
func (s *session) nameOf(pk keyring.PublicKey) string {
	name, removed := s.bareNameOf(pk)
	if removed {
		return name + " (removed)"
	}
	return name
}

// bareNameOf is nameOf for --json: the name alone, and whether it is a
// former friend's.
func (s *session) bareNameOf(pk keyring.PublicKey) (name string, removed bool) {
	if f, ok := s.kr.FriendByKey(pk); ok {
		return f.Name, false
	}
	for i := len(s.kr.PastKeys) - 1; i >= 0; i-- {
		if p := s.kr.PastKeys[i]; p.Key.Equal(pk) {
			return p.Name, true
		}
	}
	return fmt.Sprintf("(unknown %s)", pk.Fingerprint()), false
}
