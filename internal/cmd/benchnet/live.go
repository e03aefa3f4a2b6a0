package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// benchLive measures the live path (issue 12) side by side with the DHT
// path in the same run: Enter → the other screen, in two real full-screen
// UIs (the real binary) in tmux on loopback, once with DHTCHAT_LIVE=direct
// and once with DHTCHAT_LIVE=dht-only, on the same network, homes and chat.
//
// The method is the one used to measure Toxic: type a unique line into
// alice's pane, wait until it is in her draft, then take the time, send
// Enter and poll bob's pane (tmux capture-pane) every ~5 ms until the line
// is there. The floor of the method (tmux send-keys → capture-pane, no
// dhtchat) is measured on a pane running cat in the same tmux server.
// Every figure carries the load average at the time: the machine is shared.
func benchLive(ctx context.Context, b *bench) error {
	if _, err := exec.LookPath("tmux"); err != nil {
		return errors.New("tmux is not installed: the live section drives two UIs in tmux")
	}
	bin, err := b.binary(ctx)
	if err != nil {
		return err
	}
	servers := b.nodes
	if b.quick {
		servers = min(servers, 5)
	}
	net, err := startNetwork(ctx, b, servers)
	if err != nil {
		return err
	}
	defer net.Close()
	bs, err := bootstrapString(net.Bootstrap())
	if err != nil {
		return err
	}
	alice := &cliHome{bin: bin, home: filepath.Join(b.tmp, "live-alice"), bootstrap: bs}
	bob := &cliHome{bin: bin, home: filepath.Join(b.tmp, "live-bob"), bootstrap: bs}
	if err := befriendHomes(ctx, alice, bob); err != nil {
		return err
	}
	runs := 100
	if b.quick {
		runs = 20
	}
	for _, mode := range []string{"direct", "dht-only"} {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := uiLatency(ctx, b, alice, bob, mode, runs)
		if err != nil {
			b.add(row{id: "12", measure: "Enter → other screen, DHTCHAT_LIVE=" + mode, result: "FAILED: " + firstLine(err.Error())})
			fmt.Fprintf(os.Stderr, "benchnet: live %s: %v\n", mode, err)
			continue
		}
		lat := Summarize(r.lat)
		floor := Summarize(r.floor)
		settings := fmt.Sprintf("two full-screen UIs (real binary) in tmux, 100×30, %d servers, default poll policy, DHTCHAT_LIVE=%s; alice → bob, capture-pane every 5 ms; status line %q; load avg %s → %s",
			servers, mode, r.status, r.loadBefore, r.loadAfter)
		own := Summarize(r.own)
		cost := fmt.Sprintf("method floor (send-keys → capture-pane on cat): p50 %s, p99 %s; Enter → alice's own history: p50 %s, p99 %s (n %d)",
			fmtDur(floor.Med), fmtDur(floor.P99), fmtDur(own.Med), fmtDur(own.P99), own.N)
		res, target := "", ""
		if mode == "direct" {
			target = "p50 ≤ 25 ms, p99 ≤ 60 ms"
			res = verdict(lat.Med <= 0.025 && lat.P99 <= 0.060)
		}
		b.add(row{id: "12", measure: "Enter → other screen, " + mode, settings: settings,
			n: lat.N, med: fmtDur(lat.Med), p99: fmtDur(lat.P99), cost: cost, target: target, result: res})
		b.add(row{id: "12", measure: "idle UI with the chat open, " + mode,
			settings: fmt.Sprintf("the same two UIs after the run, %s idle; load avg %s", r.idle, loadAvg()),
			n:        2, med: fmt.Sprintf("%.1f %% CPU per UI", 50*float64(r.idleCPU[0]+r.idleCPU[1])/float64(r.idle)),
			cost: fmt.Sprintf("RSS alice %s, bob %s; CPU alice %s, bob %s", fmtBytes(float64(r.rssKB[0]*1024)), fmtBytes(float64(r.rssKB[1]*1024)),
				r.idleCPU[0], r.idleCPU[1])})
	}
	return benchLiveBurst(ctx, b, net.Bootstrap(), servers)
}

// cliHome is one user of the real binary: its home and network.
type cliHome struct {
	bin, home, bootstrap string
	pubkey               string
}

func (h *cliHome) env(mode string) []string {
	return []string{
		"DHTCHAT_HOME=" + h.home,
		"DHTCHAT_BOOTSTRAP=" + h.bootstrap,
		"DHTCHAT_LISTEN=/ip4/127.0.0.1/tcp/0",
		"DHTCHAT_LIVE=" + mode,
	}
}

// run runs a one-shot dhtchat command and returns its stdout.
func (h *cliHome) run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := command(ctx, h.bin, args...)
	cmd.Env = append(os.Environ(), h.env("dht-only")...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := startChild(cmd); err != nil {
		return "", err
	}
	if err := waitChild(cmd); err != nil {
		return "", fmt.Errorf("dhtchat %s: %w: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// befriendHomes makes two identities, friends of each other, with one
// chat that a started and b joined.
func befriendHomes(ctx context.Context, a, b *cliHome) error {
	for _, h := range []*cliHome{a, b} {
		out, err := h.run(ctx, "keygen", "--json")
		if err != nil {
			return err
		}
		var k struct {
			PublicKey string `json:"public_key"`
		}
		if err := json.Unmarshal([]byte(out), &k); err != nil {
			return fmt.Errorf("keygen output %q: %w", out, err)
		}
		h.pubkey = k.PublicKey
	}
	if _, err := a.run(ctx, "add-friend", "bob", b.pubkey); err != nil {
		return err
	}
	if _, err := b.run(ctx, "add-friend", "alice", a.pubkey); err != nil {
		return err
	}
	out, err := a.run(ctx, "start", "bob", "--json")
	if err != nil {
		return err
	}
	var k struct {
		ChatKey string `json:"chat_key"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &k); err != nil {
		return fmt.Errorf("start output %q: %w", out, err)
	}
	_, err = b.run(ctx, "respond", "alice", k.ChatKey)
	return err
}

// tmuxServer is a tmux server of the harness's own (-L), killed at the end.
type tmuxServer struct{ socket string }

func (s *tmuxServer) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// kill ends the server and with it every process in its panes.
func (s *tmuxServer) kill() {
	out, _ := exec.Command("tmux", "-L", s.socket, "display-message", "-p", "#{socket_path}").Output()
	exec.Command("tmux", "-L", s.socket, "kill-server").Run()
	// tmux leaves its socket file behind after kill-server.
	if p := strings.TrimSpace(string(out)); p != "" {
		os.Remove(p)
	}
}

// capture returns what pane target shows now.
func (s *tmuxServer) capture(ctx context.Context, target string) (string, error) {
	return s.run(ctx, "capture-pane", "-p", "-t", target)
}

// waitPane polls pane target every 5 ms until ok accepts its screen, for up
// to d; it returns the screen and when ok accepted it.
func (s *tmuxServer) waitPane(ctx context.Context, target string, d time.Duration, ok func(string) bool) (string, time.Time, error) {
	deadline := time.Now().Add(d)
	var scr string
	for {
		var err error
		if scr, err = s.capture(ctx, target); err != nil {
			return scr, time.Time{}, err
		}
		if ok(scr) {
			return scr, time.Now(), nil
		}
		if time.Now().After(deadline) {
			return scr, time.Time{}, fmt.Errorf("gave up after %s; the screen is:\n%s", d, scr)
		}
		select {
		case <-ctx.Done():
			return scr, time.Time{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

type uiResult struct {
	lat, floor, own       []float64
	idle                  time.Duration // the idle window
	idleCPU               [2]time.Duration
	rssKB                 [2]int64
	status                string
	loadBefore, loadAfter string
}

// loadAvg is the 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// statusOf returns the network state of a screen: "● online · live" etc.
func statusOf(scr string) string {
	for l := range strings.Lines(scr) {
		if i := strings.Index(l, "● online"); i >= 0 {
			s := l[i:]
			if j := strings.IndexAny(s, "│"); j >= 0 {
				s = s[:j]
			}
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// uiLatency runs the two UIs in mode and measures runs messages from alice
// to bob.
func uiLatency(ctx context.Context, b *bench, alice, bob *cliHome, mode string, runs int) (*uiResult, error) {
	s := &tmuxServer{socket: fmt.Sprintf("benchnet-live-%d-%s", os.Getpid(), mode)}
	defer s.kill()
	for i, u := range []*cliHome{alice, bob} {
		name := []string{"alice", "bob"}[i]
		args := []string{"new-session", "-d", "-s", name, "-x", "100", "-y", "30"}
		for _, kv := range append(u.env(mode), "TERM=xterm-256color") {
			args = append(args, "-e", kv)
		}
		args = append(args, u.bin+`; echo "EXITED $?"; sleep 3600`)
		if _, err := s.run(ctx, args...); err != nil {
			return nil, err
		}
	}
	if _, err := s.run(ctx, "new-session", "-d", "-s", "floor", "-x", "100", "-y", "30", "cat"); err != nil {
		return nil, err
	}
	want := "● online · dht"
	if mode != "dht-only" {
		want = "● online · live"
	}
	up := func(scr string) bool { return strings.Contains(scr, want) }
	res := &uiResult{}
	for _, name := range []string{"alice", "bob"} {
		scr, _, err := s.waitPane(ctx, name, 90*time.Second, up)
		if err != nil {
			return nil, fmt.Errorf("%s's UI never showed %q (status line %q): %w", name, want, statusOf(scr), err)
		}
		res.status = statusOf(scr)
	}
	res.loadBefore = loadAvg()
	// Warm-up: one message each way (connections, first fetches).
	for i := range 2 {
		from, to := "alice", "bob"
		if i == 1 {
			from, to = to, from
		}
		text := fmt.Sprintf("warm-up %s %d", mode, i)
		if _, err := s.run(ctx, "send-keys", "-t", from, "-l", text); err != nil {
			return nil, err
		}
		if _, err := s.run(ctx, "send-keys", "-t", from, "Enter"); err != nil {
			return nil, err
		}
		if _, _, err := s.waitPane(ctx, to, 60*time.Second, func(scr string) bool { return strings.Contains(scr, text) }); err != nil {
			return nil, fmt.Errorf("warm-up message not on %s's screen: %w", to, err)
		}
	}
	var err error
	for i := range runs {
		// The floor: tmux alone.
		text := fmt.Sprintf("floor-%s-%03d", mode, i)
		if _, err := s.run(ctx, "send-keys", "-t", "floor", "-l", text); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if _, err := s.run(ctx, "send-keys", "-t", "floor", "Enter"); err != nil {
			return nil, err
		}
		// cat echoes the line once typed and again once read: wait for two.
		var at time.Time
		_, at, err = s.waitPane(ctx, "floor", 10*time.Second, func(scr string) bool { return strings.Count(scr, text) >= 2 })
		if err != nil {
			return nil, fmt.Errorf("the floor pane: %w", err)
		}
		res.floor = append(res.floor, at.Sub(t0).Seconds())

		text = fmt.Sprintf("live bench %s %03d", mode, i)
		if _, err := s.run(ctx, "send-keys", "-t", "alice", "-l", text); err != nil {
			return nil, err
		}
		if _, _, err := s.waitPane(ctx, "alice", 10*time.Second, func(scr string) bool { return strings.Contains(draftOf(scr), text) }); err != nil {
			return nil, fmt.Errorf("the text never reached alice's draft: %w", err)
		}
		t0 = time.Now()
		if _, err := s.run(ctx, "send-keys", "-t", "alice", "Enter"); err != nil {
			return nil, err
		}
		scr, at, err := s.waitPane(ctx, "bob", 60*time.Second, func(scr string) bool { return strings.Contains(scr, text) })
		if err != nil {
			return nil, fmt.Errorf("message %d not on bob's screen: %w", i, err)
		}
		res.lat = append(res.lat, at.Sub(t0).Seconds())
		if st := statusOf(scr); st != "" && !strings.Contains(st, strings.TrimPrefix(want, "● online")) {
			return nil, fmt.Errorf("bob's status line changed to %q during the run", st)
		}
	}
	// The sender's own screen: Enter → the message in alice's history
	// (the draft emptied), for where the time goes.
	for i := range max(runs/2, 5) {
		text := fmt.Sprintf("own echo %s %03d", mode, i)
		if _, err := s.run(ctx, "send-keys", "-t", "alice", "-l", text); err != nil {
			return nil, err
		}
		if _, _, err := s.waitPane(ctx, "alice", 10*time.Second, func(scr string) bool { return strings.Contains(draftOf(scr), text) }); err != nil {
			return nil, fmt.Errorf("the text never reached alice's draft: %w", err)
		}
		t0 := time.Now()
		if _, err := s.run(ctx, "send-keys", "-t", "alice", "Enter"); err != nil {
			return nil, err
		}
		_, at, err := s.waitPane(ctx, "alice", 10*time.Second, func(scr string) bool {
			return strings.Contains(scr, text) && !strings.Contains(draftOf(scr), text)
		})
		if err != nil {
			return nil, fmt.Errorf("own message %d not in alice's history: %w", i, err)
		}
		res.own = append(res.own, at.Sub(t0).Seconds())
		if _, _, err := s.waitPane(ctx, "bob", 60*time.Second, func(scr string) bool { return strings.Contains(scr, text) }); err != nil {
			return nil, fmt.Errorf("own-echo message %d not on bob's screen: %w", i, err)
		}
	}
	res.loadAfter = loadAvg()
	// Idle: both UIs on the chat, nothing typed.
	res.idle = 30 * time.Second
	if b.quick {
		res.idle = 10 * time.Second
	}
	var pids [2]int
	var cpu0 [2]time.Duration
	for i, name := range []string{"alice", "bob"} {
		if pids[i], err = s.uiPID(ctx, name); err != nil {
			return nil, err
		}
		cpu0[i] = procCPU(pids[i])
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(res.idle):
	}
	for i := range pids {
		res.idleCPU[i] = procCPU(pids[i]) - cpu0[i]
		res.rssKB[i], _ = procStatusKB(pids[i], "VmRSS")
	}
	for _, name := range []string{"alice", "bob"} {
		s.run(ctx, "send-keys", "-t", name, "C-c")
	}
	s.waitPane(ctx, "alice", 10*time.Second, func(scr string) bool { return strings.Contains(scr, "EXITED") })
	s.waitPane(ctx, "bob", 10*time.Second, func(scr string) bool { return strings.Contains(scr, "EXITED") })
	return res, nil
}

// draftOf is the input line of a UI screen ("> …"), or "".
func draftOf(scr string) string {
	for l := range strings.Lines(scr) {
		if _, rest, ok := strings.Cut(l, "│"); ok && strings.HasPrefix(rest, "> ") {
			return strings.TrimRight(rest, " \n")
		}
		if strings.HasPrefix(l, "> ") {
			return strings.TrimRight(l, " \n")
		}
	}
	return ""
}

// uiPID is the pid of the dhtchat process in pane target: the child of
// the pane's shell.
func (s *tmuxServer) uiPID(ctx context.Context, target string) (int, error) {
	out, err := s.run(ctx, "display-message", "-p", "-t", target, "#{pane_pid}")
	if err != nil {
		return 0, err
	}
	sh := strings.TrimSpace(out)
	kids, err := os.ReadFile("/proc/" + sh + "/task/" + sh + "/children")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(kids))
	if len(f) == 0 {
		return 0, fmt.Errorf("pane %s: no dhtchat process under shell %s", target, sh)
	}
	var pid int
	_, err = fmt.Sscan(f[0], &pid)
	return pid, err
}

// procCPU is the user and system CPU time of process pid (clock ticks of
// 10 ms, as /proc/PID/stat counts them).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
