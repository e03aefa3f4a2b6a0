package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/dhtchat/dhtchat/internal/testio"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// sshKey makes an SSH client key, and writes its private half to dir (for
// the ssh binary) as name.
func sshKey(t *testing.T, dir, name string) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return signer, path
}

// sgrColour finds an SGR sequence that sets a foreground or background
// colour (30–49, 90–107, or 38;5/48;2 forms).
var sgrColour = regexp.MustCompile(`\x1b\[(?:[0-9:;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:[;:][0-9:;]*)?m`)

var servingSSH = regexp.MustCompile(`serving SSH on (\S+), host key (SHA256:\S+)`)

// startServe starts "dhtchat serve --ssh 127.0.0.1:0" as u and returns the
// address it serves SSH on and its host key's fingerprint, once it serves
// both SSH and the control socket.
func startServe(t *testing.T, u *cliUser) (cmd *exec.Cmd, addr, fingerprint string) {
	t.Helper()
	cmd = startUntil(t, u, func(l string) bool {
		if m := servingSSH.FindStringSubmatch(l); m != nil {
			addr, fingerprint = m[1], m[2]
			return false
		}
		return addr != "" && strings.Contains(l, "serving ")
	}, "serve", "--ssh", "127.0.0.1:0")
	return cmd, addr, fingerprint
}

// sshUI is one SSH session running the full-screen chat.
type sshUI struct {
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	out    *testio.Buffer
}

// dialSSH connects to addr with key, checking that the server's host key
// is the one fingerprint names.
func dialSSH(addr, fingerprint string, key gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: "me",
		Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error {
			if got := gossh.FingerprintSHA256(k); got != fingerprint {
				return fmt.Errorf("host key %s, want %s", got, fingerprint)
			}
			return nil
		},
	})
}

// openSSHUI opens an SSH session with a w×h terminal and a shell request:
// the full-screen chat.
func openSSHUI(t *testing.T, addr, fingerprint string, key gossh.Signer, w, h int) *sshUI {
	t.Helper()
	c, err := dialSSH(addr, fingerprint, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Setenv("NO_COLOR", "1"); err != nil {
		t.Logf("setenv: %v", err) // not every server takes it; ours does
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	ui := &sshUI{client: c, sess: sess, out: &testio.Buffer{}}
	sess.Stdout, sess.Stderr = ui.out, ui.out
	if ui.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return ui
}

// screenText is what the session printed, its escape sequences removed.
func (ui *sshUI) screenText() string { return ansi.Strip(ui.out.String()) }

func (ui *sshUI) waitText(t *testing.T, text string) {
	t.Helper()
	if err := testwait.Poll(testwait.Context(t), func() bool { return strings.Contains(ui.screenText(), text) }); err != nil {
		t.Fatalf("gave up waiting for %q over SSH (%v); it printed:\n%q", text, err, ui.screenText())
	}
}

// TestCLIServeSSH: dhtchat serve lets in the authorized key only; each
// SSH session is a full-screen chat on the one running dhtchat (its first
// frame, a message typed in one session reaches the friend and shows in
// another session); serve holds the home (the control socket serves, a
// second serve or agent is refused); commands and sessions without a
// terminal are refused.
func TestCLIServeSSH(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	keys := t.TempDir()
	key, _ := sshKey(t, keys, "id_alice")
	stranger, _ := sshKey(t, keys, "id_stranger")

	// No authorized keys: a clear refusal, before anything opens.
	authPath := filepath.Join(alice.home, "ssh_authorized_keys")
	if _, stderr, code := alice.runEnv(t, nil, "serve", "--ssh", "127.0.0.1:0"); code != 2 || !strings.Contains(stderr, "ssh_authorized_keys") {
		t.Fatalf("serve without authorized keys: exit %d, %q; want exit 2 naming the file", code, stderr)
	}
	if err := os.WriteFile(authPath, []byte("# only comments\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := alice.runEnv(t, nil, "serve", "--ssh", "127.0.0.1:0"); code != 2 || !strings.Contains(stderr, "lists no key") {
		t.Fatalf("serve with an empty authorized keys file: exit %d, %q; want exit 2, lists no key", code, stderr)
	}
	if err := os.WriteFile(authPath, []byte("# alice's laptop\n"+string(gossh.MarshalAuthorizedKey(key.PublicKey()))), 0o600); err != nil {
		t.Fatal(err)
	}

	_, addr, fp := startServe(t, alice)
	hostKey := filepath.Join(alice.home, "ssh_host_ed25519_key")
	if fi, err := os.Stat(hostKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key %s: %v, %v; want mode 0600", hostKey, fi, err)
	}

	// The stranger's key is refused.
	if c, err := dialSSH(addr, fp, stranger); err == nil {
		c.Close()
		t.Fatal("an unauthorized key was let in")
	} else if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("an unauthorized key: %v, want unable to authenticate", err)
	}
	// And passwords are not even offered.
	if c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "me", Auth: []gossh.AuthMethod{gossh.Password("x")},
		HostKeyCallback: gossh.InsecureIgnoreHostKey()}); err == nil {
		c.Close()
		t.Fatal("a password was let in")
	}

	// serve holds the home: another serve or agent is refused, and the
	// commands use its control socket.
	if _, stderr, code := alice.runEnv(t, nil, "agent"); code != 1 || !strings.Contains(stderr, "already serves") {
		t.Fatalf("an agent beside serve: exit %d, %q; want exit 1, already serves", code, stderr)
	}
	if _, stderr, code := alice.runEnv(t, unreachable(alice), "send", "bob", "through the control socket"); code != 0 {
		t.Fatalf("send through serve's control socket: exit %d\n%s", code, stderr)
	}

	// A session: the chat's first frame, then a message typed in it.
	one := openSSHUI(t, addr, fp, key, 80, 24)
	one.waitText(t, "through the control socket")
	one.waitText(t, "online")
	if c := sgrColour.FindString(one.out.String()); c != "" {
		t.Errorf("with the client's NO_COLOR the session has the colour sequence %q", c)
	}
	if _, err := one.in.Write([]byte("typed over ssh\r")); err != nil {
		t.Fatal(err)
	}
	checkFrom(t, recvAll(t, bob, "alice", 2), "alice", 1, []string{"through the control socket", "typed over ssh"})

	// A second session at once, on the same engine: it shows what the
	// first sent, and bob's answer reaches both.
	two := openSSHUI(t, addr, fp, key, 120, 40)
	two.waitText(t, "typed over ssh")
	bob.run(t, "", "send", "alice", "answer from bob")
	one.waitText(t, "answer from bob")
	two.waitText(t, "answer from bob")
	// A resize is drawn at the new width: the key help, cut at 80
	// columns, is whole at 100.
	const helpEnd = "ctrl+c quit"
	if strings.Contains(one.screenText(), helpEnd) {
		t.Fatalf("at 80 columns the key help ends with %q: the resize below tests nothing", helpEnd)
	}
	if err := one.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	one.waitText(t, helpEnd)

	// Ctrl+C ends a session, not serve; the other goes on.
	if _, err := one.in.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	if err := one.sess.Wait(); err != nil {
		t.Fatalf("the session after ctrl+c: %v, want exit 0", err)
	}
	if _, err := two.in.Write([]byte("from the second\r")); err != nil {
		t.Fatal(err)
	}
	checkFrom(t, recvAll(t, bob, "alice", 1), "alice", 3, []string{"from the second"})

	// No commands, and no chat without a terminal.
	for _, tc := range []struct {
		name string
		run  func(*gossh.Session) error
		want string
	}{
		{"a command", func(s *gossh.Session) error { return s.Run("cat /etc/passwd") }, "no commands"},
		{"a shell without a terminal", func(s *gossh.Session) error { return s.Shell() }, "needs a terminal"},
	} {
		c, err := dialSSH(addr, fp, key)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var out testio.Buffer
		s.Stdout, s.Stderr = &out, &out
		err = tc.run(s)
		if err == nil {
			err = s.Wait()
		}
		var ee *gossh.ExitError
		if !errors.As(err, &ee) || ee.ExitStatus() != 2 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%s: %v, %q; want exit 2, %q", tc.name, err, out.String(), tc.want)
		}
		c.Close()
	}
}

// TestServeOpenSSHTmux: the system's ssh, in a real terminal (tmux), gets
// the full-screen chat from dhtchat serve, checking the host key against a
// known_hosts line made from the key serve wrote; a message typed there
// reaches the friend; ctrl+c ends the session with status 0.
func TestServeOpenSSHTmux(t *testing.T) {
	t.Parallel()
	requireTmux(t)
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh binary: skipping the test with OpenSSH")
	}
	alice, bob := chatPair(t)
	keys := t.TempDir()
	key, keyPath := sshKey(t, keys, "id_alice")
	if err := os.WriteFile(filepath.Join(alice.home, "ssh_authorized_keys"), gossh.MarshalAuthorizedKey(key.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	_, addr, _ := startServe(t, alice)
	pem, err := os.ReadFile(filepath.Join(alice.home, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatal(err)
	}
	host, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	h, port, _ := net.SplitHostPort(addr)
	knownHosts := filepath.Join(keys, "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(fmt.Sprintf("[%s]:%s %s", h, port, gossh.MarshalAuthorizedKey(host.PublicKey()))), 0o600); err != nil {
		t.Fatal(err)
	}
	term := newTmux(t, 100, 30, []string{"TERM=xterm-256color"}, fmt.Sprintf(
		"%s -F /dev/null -t -p %s -i %s -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s me@%s",
		sshBin, port, keyPath, knownHosts, h))
	term.waitText("● online")
	term.waitText("bob  fingerprint")
	term.typeText("hello through openssh")
	term.keys("Enter")
	checkFrom(t, recvAll(t, bob, "alice", 1), "alice", 1, []string{"hello through openssh"})
	term.keys("C-c")
	term.waitText("EXITED 0")
}
