package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
	"github.com/dhtchat/dhtchat/tui"
)

var demoCmd = &command{
	name:  "demo",
	short: "Chat with an echo bot over a private DHT on this machine (no internet needed)",
	long: `Starts a private network of DHT servers on 127.0.0.1 inside this process, a
throwaway identity for you and a second real client, "echo", that answers each
of your messages. Both go through the same encrypted DHT mailboxes as any two
friends; only the network is local. Everything lives in a temporary directory
that is removed when you quit (Ctrl+C or /quit).

The demo needs a terminal. To chat for real, see 'dhtchat keygen' and the
README.

Examples:
  dhtchat demo
  make demo`,
	nargs: exactly(0),
	setup: func(fs *flag.FlagSet) runFunc {
		servers := fs.Int("servers", 8, "number of DHT servers in the private network")
		return func(ctx context.Context, e *env, _ []string) error {
			if *servers < 1 || *servers > 64 {
				return userr.Usagef("demo: --servers must be between 1 and 64")
			}
			return runDemo(ctx, e, *servers)
		}
	},
}

// demoPoll polls fast: a private network on loopback answers in
// milliseconds, and nobody else pays for it.
var demoPoll = chat.PollPolicy{
	Focused: 200 * time.Millisecond, Recent: 200 * time.Millisecond, Idle: time.Second,
	MaxBackoff: 2 * time.Second, Parallel: 4,
}

func runDemo(ctx context.Context, e *env, servers int) (err error) {
	if !e.isTerminal() {
		return userr.Usagef("the demo is a full-screen chat and needs a terminal").
			WithHint("run 'dhtchat demo' in a terminal window (or over ssh -t)")
	}
	dir, err := os.MkdirTemp("", "dhtchat-demo-")
	if err != nil {
		return userr.Runtimef("cannot create a temporary directory: %v", err)
	}
	defer func() { err = errors.Join(err, removeDemoDir(dir)) }()

	// The demo's own directory is removed on exit: with --debug it logs
	// beside the user's debug.log, under its own name.
	e.log.name = "demo-debug.log"
	logger, err := e.logger()
	if err != nil {
		return err
	}
	unroute, err := e.routeLibraryLogs()
	if err != nil {
		return err
	}
	defer unroute()

	d, err := startDemo(ctx, dir, servers, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.close()) }()

	return tui.Run(ctx, tui.Options{
		Client:  d.user,
		Friends: &friendBook{e: &env{getenv: func(string) string { return "" }, globals: globals{home: d.userHome}}, snapshot: d.userKeys},
		Open:    d.chat,
		Banner:  "local demo network",
		Note:    fmt.Sprintf("demo: %d DHT servers on 127.0.0.1; echo answers; ctrl+c ends it and removes everything", servers),
		Input:   e.stdin,
		Output:  e.stdout,
	})
}

// removeDemoDir removes the demo's directory, saying so if it cannot.
func removeDemoDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return userr.Runtimef("cannot remove the demo's temporary directory %s: %v", dir, err)
	}
	return nil
}

// demo is everything the demo runs besides the UI.
type demo struct {
	userHome string
	userKeys *keyring.Keyring
	user     *chat.Client
	chat     chat.ChatID

	opened cleanup // the network, nodes and clients, closed in reverse
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// startDemo starts the network, the two parties and the echo bot, with
// the user's side under dir/you and echo's under dir/echo. If it fails,
// nothing is left running.
func startDemo(ctx context.Context, dir string, servers int, logger *slog.Logger) (_ *demo, err error) {
	d := &demo{userHome: filepath.Join(dir, "you")}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.close())
		}
	}()
	network, err := dht.StartLocalNetwork(ctx, servers, logger.With("part", "network"))
	if err != nil {
		return nil, userr.Runtimef("cannot start the local DHT network: %s", userr.Msg(err)).Because(err)
	}
	d.opened.push(network.Close)

	// Two throwaway identities that know each other.
	you, err := keyring.New()
	if err != nil {
		return nil, err
	}
	echo, err := keyring.New()
	if err != nil {
		return nil, err
	}
	if _, err := you.AddFriend("echo", echo.Identity.Public()); err != nil {
		return nil, err
	}
	if err := ensureDir(d.userHome); err != nil {
		return nil, err
	}
	// A keyring file, so that /add works in the demo as it does for real.
	if err := keyring.NewFile(d.userHome, nil).Create(you, false, nil); err != nil {
		return nil, err
	}
	d.userKeys = you

	// The user's worker works on every chat, for the UI; echo's on the
	// chat it answers in.
	user, err := d.client(ctx, network, you.Identity, d.userHome, chat.WatchAll, logger.With("part", "you"))
	if err != nil {
		return nil, err
	}
	d.user = user
	echoHome := filepath.Join(dir, "echo")
	if err := ensureDir(echoHome); err != nil {
		return nil, err
	}
	bot, err := d.client(ctx, network, echo.Identity, echoHome, chat.WatchUsed, logger.With("part", "echo"))
	if err != nil {
		return nil, err
	}

	// The user starts the chat and echo joins it, as 'start' and
	// 'respond' would; echo says hello first.
	started, err := user.StartChat(ctx, echo.Identity.Public())
	if err != nil {
		return nil, err
	}
	d.chat = started.ID
	joined, err := bot.JoinChat(ctx, you.Identity.Public(), started.Key)
	if err != nil {
		return nil, err
	}
	if _, err := bot.Send(ctx, joined.ID, "Hi! I'm echo, a second dhtchat client in this process. Write something and I'll send it back. Every message goes through the DHT on 127.0.0.1, encrypted, like with any friend."); err != nil {
		return nil, err
	}

	botCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stop = stop
	d.wg.Go(func() { runEcho(botCtx, bot, joined.ID, logger) })
	return d, nil
}

// client starts a DHT client node on loopback and a chat client on it.
func (d *demo) client(ctx context.Context, network *dht.LocalNetwork, id keyring.SecretKey, home string, watch chat.Watch, logger *slog.Logger) (*chat.Client, error) {
	node, err := dht.New(ctx, dht.Config{
		ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)},
		Bootstrap:   network.Bootstrap(),
		Mode:        dht.ModeClient,
		Logger:      logger,
		Timeouts:    dht.LocalTimeouts(),
	})
	if err != nil {
		return nil, userr.Runtimef("cannot start a DHT client: %s", userr.Msg(err)).Because(err)
	}
	d.opened.push(node.Close) // closed after the chat client, before the network
	// Joining a chat reads the DHT: be in it first.
	if err := node.Connect(ctx); err != nil {
		return nil, userr.Runtimef("cannot join the demo network: %s", userr.Msg(err)).Because(err)
	}
	c, err := chat.Open(chat.Config{
		Identity: id, DBPath: filepath.Join(home, "dhtchat.db"),
		Network: node, Poll: demoPoll, Logger: logger, Watch: watch,
		// The live path on loopback, as two clients on one machine use it.
		Live: chat.LiveConfig{Mode: chat.LiveDirect, AnnounceLoopback: true,
			ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast("/ip4/127.0.0.1/tcp/0")}},
		// Version 1, as every command makes (session.go): the live path
		// carries version 1 chats only, and the demo shows it.
		ChatVersion: 1,
	})
	if err != nil {
		return nil, err
	}
	d.opened.push(c.Close)
	return c, nil
}

// close stops the echo bot and closes the clients, nodes and network.
func (d *demo) close() error {
	if d.stop != nil {
		d.stop()
		d.wg.Wait()
		d.stop = nil
	}
	return d.opened.close()
}

// runEcho answers each message of chat id, until ctx ends.
func runEcho(ctx context.Context, bot *chat.Client, id chat.ChatID, logger *slog.Logger) {
	events := bot.Subscribe(ctx)
	bot.Focus(id)
	for ev := range events {
		m, ok := ev.(chat.MessageEvent)
		if !ok || m.Entry.Chat != id {
			continue
		}
		reply := "echo: " + m.Entry.Body
		if len(reply) > chat.MaxBody {
			reply = m.Entry.Body
		}
		if _, err := bot.Send(ctx, id, reply); err != nil && ctx.Err() == nil {
			logger.Warn("echo cannot answer", "err", err)
		}
	}
}
