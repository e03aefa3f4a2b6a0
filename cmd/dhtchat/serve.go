package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/agent"
	"github.com/dhtchat/dhtchat/internal/atomicfile"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/tui"
)

// The files of the SSH server, in the configuration directory beside the
// keyring.
const (
	sshAuthorizedKeysName = "ssh_authorized_keys"
	sshHostKeyName        = "ssh_host_ed25519_key"
)

var serveCmd = &command{
	name:  "serve",
	short: "Stay online and serve the full-screen chat over SSH",
	long: `Does what 'dhtchat agent' does (joins the DHT, works on every chat, serves the
control socket) and serves the full-screen chat over SSH at ADDR: each SSH
session is its own full-screen chat on this one running dhtchat, with its
store, keys and network. It is your home, reachable from any terminal
without copying keys around.

Only public-key authentication: the keys allowed are those in
ssh_authorized_keys in the configuration directory (one OpenSSH public key a
line, as in ~/.ssh/authorized_keys, without options); serve refuses to
start without one. No passwords, no shell, no commands, no forwarding. The
server's own host key is ssh_host_ed25519_key in the same directory, made at
the first start; its fingerprint is printed at every start: compare it with
what ssh shows the first time you connect. Edits to ssh_authorized_keys
apply to the next connection. It runs until interrupted (SIGINT or SIGTERM).

Examples:
  cat ~/.ssh/id_ed25519.pub >> ~/.config/dhtchat/ssh_authorized_keys
  dhtchat serve --ssh 127.0.0.1:2222
  ssh -t -p 2222 127.0.0.1       # from a terminal of this machine or a tunnel`,
	nargs: exactly(0),
	setup: func(fs *flag.FlagSet) runFunc {
		addr := fs.String("ssh", "", "serve the full-screen chat over SSH at `ADDR` (host:port)")
		return func(ctx context.Context, e *env, _ []string) error {
			if *addr == "" {
				return userr.Usagef("serve needs --ssh ADDR").
					WithHint("e.g. 'dhtchat serve --ssh 127.0.0.1:2222'; 'dhtchat agent' serves the control socket alone")
			}
			return runServe(ctx, e, *addr)
		}
	},
}

func runServe(ctx context.Context, e *env, addr string) error {
	dir, err := e.configDir()
	if err != nil {
		return err
	}
	authPath := filepath.Join(dir, sshAuthorizedKeysName)
	if _, err := readAuthorizedKeys(authPath); err != nil {
		return err
	}
	if err := ensureDir(dir); err != nil {
		return err
	}
	signer, err := loadHostKey(filepath.Join(dir, sshHostKeyName))
	if err != nil {
		return err
	}
	// The home's lock, as the agent's: said before the network is joined.
	sock, err := e.holdHome("serve")
	if err != nil {
		return err
	}
	defer sock.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return userr.Runtimef("cannot listen for SSH on %s: %v", addr, errors.Unwrap(err)).
			WithHint("give a free host:port, e.g. 127.0.0.1:2222")
	}
	defer ln.Close()
	s, err := e.openSessionWatching(ctx, true, chat.WatchAll)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := e.settings()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sv := &sshServe{e: e, s: s, ctx: ctx, settings: st, authPath: authPath}
	srv, err := wish.NewServer(
		// First: with a host key, NewServer makes none of its own.
		func(srv *ssh.Server) error { srv.HostSigners = []ssh.Signer{signer}; return nil },
		wish.WithPublicKeyAuth(sv.authorized),
		wish.WithMiddleware(func(ssh.Handler) ssh.Handler { return sv.handle }),
		// The session's bytes are the UI's input and output (tui.Remote).
		ssh.EmulatePty(),
	)
	if err != nil {
		return userr.Runtimef("cannot set up the SSH server: %v", err)
	}
	if err := s.connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		e.warnf("%s; retrying", userr.Msg(err))
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		e.warnf("SSH is served beyond this machine (%s): anyone who reaches it may try keys", tcp)
	}
	e.notef("serving SSH on %s, host key %s", ln.Addr(), gossh.FingerprintSHA256(signer.PublicKey()))
	e.notef("serving %s", sock.Path())

	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, ssh.ErrServerClosed) {
			s.log.Warn("ssh server", "err", err)
			cancel()
		}
	})
	err = agent.Serve(ctx, sock, s.agentConfig())
	cancel() // the sessions' UIs end with it
	srv.Close()
	wg.Wait()
	sv.sessions.Wait() // before the client closes
	return err
}

// sshServe is the SSH side of serve: each session a full-screen chat on
// the one session s.
type sshServe struct {
	e        *env
	s        *session
	ctx      context.Context // ends every UI
	settings *settings
	authPath string
	sessions sync.WaitGroup
}

// authorized reports whether key is in the authorized keys file as it is
// now: removing a line refuses the next connection with that key.
func (sv *sshServe) authorized(ctx ssh.Context, key ssh.PublicKey) bool {
	keys, err := readAuthorizedKeys(sv.authPath)
	if err != nil {
		sv.e.warnf("SSH key refused: %s", userr.Msg(err))
		return false
	}
	for _, k := range keys {
		if ssh.KeysEqual(k, key) {
			return true
		}
	}
	sv.e.notef("SSH key %s refused (from %s)", gossh.FingerprintSHA256(key), ctx.RemoteAddr())
	return false
}

// handle runs one SSH session: the full-screen chat on its terminal, or a
// refusal for anything else (a command, no terminal).
func (sv *sshServe) handle(sess ssh.Session) {
	sv.sessions.Add(1)
	defer sv.sessions.Done()
	if sess.RawCommand() != "" || sess.Subsystem() != "" {
		refuse(sess, "this server runs the full-screen chat only, no commands: connect with 'ssh -t' and no command")
		return
	}
	pty, winch, ok := sess.Pty()
	if !ok {
		refuse(sess, "the full-screen chat needs a terminal: connect with 'ssh -t'")
		return
	}
	ctx, cancel := context.WithCancel(sv.ctx)
	defer cancel()
	stop := context.AfterFunc(sess.Context(), cancel)
	defer stop()
	resizes := make(chan tui.Size)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case w, ok := <-winch:
				if !ok {
					return
				}
				select {
				case resizes <- tui.Size{Width: w.Width, Height: w.Height}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	sv.e.notef("SSH session of key %s (from %s)", gossh.FingerprintSHA256(sess.PublicKey()), sess.RemoteAddr())
	defer sv.e.notef("SSH session of key %s (from %s) ended", gossh.FingerprintSHA256(sess.PublicKey()), sess.RemoteAddr())
	err := uiOn(ctx, sv.s, sv.settings, tui.Options{
		Input:   sess,
		Output:  sess,
		Environ: append(sess.Environ(), "TERM="+pty.Term),
		Remote:  &tui.Remote{Width: pty.Window.Width, Height: pty.Window.Height, Resizes: resizes},
	})
	if err != nil {
		// Messages the store refused go back to whoever typed them, and
		// to this process's stderr, in case that connection is gone.
		_ = unsentTo(sv.e.stderr, err)
		say(sess.Stderr(), "", userr.Msg(unsentTo(sess.Stderr(), err)))
		_ = sess.Exit(1)
		return
	}
	_ = sess.Exit(0)
}

// refuse ends an SSH session that is not a chat's, with one line.
func refuse(sess ssh.Session, msg string) {
	fmt.Fprintf(sess.Stderr(), "dhtchat: %s\r\n", msg)
	_ = sess.Exit(2)
}

// readAuthorizedKeys reads the keys that may connect. A missing or empty
// file, or a line that is no plain OpenSSH public key, is an error that
// says which.
func readAuthorizedKeys(path string) ([]ssh.PublicKey, error) {
	data, err := atomicfile.ReadFile(path, 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return nil, userr.Usagef("no %s: serve lets in only the SSH keys listed there", path).
			WithHint("add your public key: cat ~/.ssh/id_ed25519.pub >> %s", path)
	}
	if err != nil {
		return nil, userr.Runtimef("cannot read %s: %v", path, errors.Unwrap(err))
	}
	var keys []ssh.PublicKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, _, options, _, err := gossh.ParseAuthorizedKey([]byte(text))
		if err != nil {
			return nil, userr.Usagef("%s:%d: not an SSH public key", path, line).
				WithHint("each line is one key as in ~/.ssh/id_ed25519.pub: TYPE BASE64 [COMMENT]")
		}
		if len(options) > 0 {
			return nil, userr.Usagef("%s:%d: options (%s) are not supported", path, line, strings.Join(options, ",")).
				WithHint("serve runs only the chat, for every key listed: remove the options")
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, userr.Usagef("%s lists no key: serve lets in only the SSH keys listed there", path).
			WithHint("add your public key: cat ~/.ssh/id_ed25519.pub >> %s", path)
	}
	return keys, nil
}

// loadHostKey reads the server's host key, or makes one at the first
// start: an Ed25519 key of its own, never the chat identity, private to
// the user.
func loadHostKey(path string) (gossh.Signer, error) {
	data, err := atomicfile.ReadFile(path, 1<<16)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		block, err := gossh.MarshalPrivateKey(priv, "dhtchat serve host key")
		if err != nil {
			return nil, err
		}
		data = pem.EncodeToMemory(block)
		if err := atomicfile.CreateFile(path, data, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, userr.Runtimef("cannot write the SSH host key %s: %v", path, errors.Unwrap(err))
		} else if err != nil {
			return loadHostKey(path) // another serve made it first
		}
	} else if err != nil {
		return nil, userr.Runtimef("cannot read the SSH host key %s: %v", path, errors.Unwrap(err))
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, userr.Runtimef("the SSH host key %s is readable by others (mode %04o)", path, fi.Mode().Perm()).
			WithHint("chmod 600 %s", path)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, userr.Runtimef("the SSH host key %s is unreadable: %v", path, err).
			WithHint("remove it to make a new one (clients will warn that the host key changed)")
	}
	return signer, nil
}
