package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dhtchat/dhtchat/keyring"
)

// benchStartup times the real binary from process start to "connected":
// "dhtchat --debug recv bob" against a network of b.nodes servers, the
// moment taken from the "connected to the DHT" line of its debug log; and
// from process start to the full-screen UI's first frame, under a
// pseudo-terminal made by script(1).
func benchStartup(ctx context.Context, b *bench) error {
	bin, err := b.binary(ctx)
	if err != nil {
		return err
	}
	net, err := startNetwork(ctx, b, b.nodes)
	if err != nil {
		return err
	}
	defer net.Close()
	bs, err := bootstrapString(net.Bootstrap())
	if err != nil {
		return err
	}
	home := filepath.Join(b.tmp, "startup-home")
	bob, err := keyring.GenerateSecretKey()
	if err != nil {
		return err
	}
	dhtchat := func(stdin string, args ...string) error {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		full := append([]string{"--home", home, "--bootstrap", bs, "--listen", "/ip4/127.0.0.1/tcp/0"}, args...)
		cmd := command(ctx, bin, full...)
		cmd.Stdin = strings.NewReader(stdin)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := startChild(cmd); err != nil {
			return err
		}
		if err := waitChild(cmd); err != nil {
			return fmt.Errorf("dhtchat %s: %w: %s", strings.Join(args, " "), err, out.String())
		}
		return nil
	}
	if err := dhtchat("", "keygen"); err != nil {
		return err
	}
	if err := dhtchat("", "add-friend", "bob", bob.Public().String()); err != nil {
		return err
	}
	if err := dhtchat("hello bob\n", "start", "bob"); err != nil {
		return err
	}

	runs := 20
	if b.quick {
		runs = 5
	}
	logPath := filepath.Join(home, "data", "debug.log")
	var connected, exited []float64
	for range runs {
		os.Remove(logPath)
		start := time.Now()
		if err := dhtchat("", "--debug", "recv", "bob"); err != nil {
			return err
		}
		exited = append(exited, time.Since(start).Seconds())
		if logPath, err = findLog(home); err != nil {
			return err
		}
		at, err := connectedAt(logPath)
		if err != nil {
			return err
		}
		connected = append(connected, at.Sub(start).Seconds())
		os.Remove(logPath)
	}
	c, e := Summarize(connected), Summarize(exited)
	settings := fmt.Sprintf("real binary, %d servers, `dhtchat --debug recv bob`, %d runs", b.nodes, runs)
	b.add(row{id: "6", measure: "start-up: process start to connected", settings: settings + "; time of the debug log's \"connected to the DHT\"",
		n: c.N, med: fmtDur(c.Med), p99: fmtDur(c.P99), cost: fmt.Sprintf("to exit after one fetch: p50 %s, p99 %s", fmtDur(e.Med), fmtDur(e.P99))})

	// A script's one-shot send: join, publish, exit. Bob is offline; the
	// command returns once the record is published. The debug log says
	// where the time goes: the join, the read-back Get of the own slot,
	// the Put, and the exit after it.
	var sends []float64
	phases := make([][]float64, len(sendPhases))
	for i := range runs {
		os.Remove(logPath)
		start := time.Now()
		if err := dhtchat("", "--debug", "send", "bob", fmt.Sprintf("one-shot %d", i)); err != nil {
			return err
		}
		end := time.Now()
		sends = append(sends, end.Sub(start).Seconds())
		if logPath, err = findLog(home); err != nil {
			return err
		}
		at, err := logTimes(logPath, sendPhases)
		if err != nil {
			return err
		}
		prev := start
		for j, t := range append(at, end) {
			if j < len(phases) {
				phases[j] = append(phases[j], t.Sub(prev).Seconds())
			}
			prev = t
		}
		os.Remove(logPath)
	}
	sd := Summarize(sends)
	var cost []string
	for j, name := range sendPhaseNames {
		cost = append(cost, fmt.Sprintf("%s %s", name, fmtDur(Summarize(phases[j]).Med)))
	}
	b.add(row{id: "6", measure: "one-shot send: process start to exit",
		settings: fmt.Sprintf("real binary, %d servers, `dhtchat --debug send bob TEXT` (bob offline), %d runs", b.nodes, runs),
		n:        sd.N, med: fmtDur(sd.Med), p99: fmtDur(sd.P99), cost: "p50 of each phase: " + strings.Join(cost, ", ")})

	// The same send with "dhtchat agent" running for the home: the command
	// hands the message to it over the control socket and joins nothing.
	withAgent, err := agentSends(ctx, bin, home, bs, runs, dhtchat)
	if err != nil {
		return err
	}
	sa := Summarize(withAgent)
	result := "met"
	if sa.Med > 0.050 {
		result = "missed"
	}
	b.add(row{id: "6", measure: "one-shot send with an agent running: process start to exit",
		settings: fmt.Sprintf("as above, with `dhtchat agent` of the same home running (control socket), %d runs", runs),
		n:        sa.N, med: fmtDur(sa.Med), p99: fmtDur(sa.P99),
		cost: fmt.Sprintf("without the agent (row above): p50 %s", fmtDur(sd.Med)), target: "≤ 50 ms", result: result})
	var frames []float64
	for range runs {
		d, err := firstFrame(ctx, bin, home, bs)
		if err != nil {
			return err
		}
		frames = append(frames, d.Seconds())
	}
	f := Summarize(frames)
	result = "met"
	if f.Med > 0.200 {
		result = "missed"
	}
	b.add(row{id: "6", measure: "start-up: process start to the UI's first frame",
		settings: fmt.Sprintf("real binary, `dhtchat` (all chats) under script(1) at 100×30, %d runs; includes sh and stty", runs),
		n:        f.N, med: fmtDur(f.Med), p99: fmtDur(f.P99), target: "≤ 200 ms", result: result})
	return nil
}

// findLog returns the debug log under home, wherever the data directory is.
func findLog(home string) (string, error) {
	var found string
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "debug.log" {
			found = p
		}
		return nil
	})
	if found == "" {
		return "", errors.New("no debug.log under " + home)
	}
	return found, nil
}

// connectedAt returns the time of the "connected to the DHT" line of a
// debug log (slog's text format: time=RFC 3339 with milliseconds).
// sendPhases are the debug-log lines that end each phase of a one-shot
// send, named by sendPhaseNames.
var (
	sendPhases     = []string{"connected to the DHT", "got record", "put record"}
	sendPhaseNames = []string{"join", "read-back Get", "Put"}
)

// logTimes returns the time of the first line of the debug log at path
// with each of msgs, in order.
func logTimes(path string, msgs []string) ([]time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	at := make([]time.Time, len(msgs))
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for i, m := range msgs {
			if at[i].IsZero() && strings.Contains(line, `msg="`+m+`"`) {
				ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
				if at[i], err = time.Parse(time.RFC3339Nano, ts); err != nil {
					return nil, fmt.Errorf("%s: %w", path, err)
				}
			}
		}
	}
	for i, m := range msgs {
		if at[i].IsZero() {
			return nil, fmt.Errorf("%s: no %q line", path, m)
		}
	}
	return at, sc.Err()
}

func connectedAt(path string) (time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `msg="connected to the DHT"`) {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		return time.Parse(time.RFC3339Nano, ts)
	}
	return time.Time{}, fmt.Errorf("%s: no \"connected to the DHT\" line", path)
}

// firstFrame starts the full-screen UI on a pseudo-terminal and returns
// the time from process start until its first frame (the chat list's
// title) reaches the terminal.
func firstFrame(ctx context.Context, bin, home, bootstrap string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	line := "stty cols 100 rows 30; exec " + quote(bin) + " --home " + quote(home) +
		" --bootstrap " + quote(bootstrap) + " --listen /ip4/127.0.0.1/tcp/0"
	cmd := command(ctx, "script", "-qfec", line, "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := startChild(cmd); err != nil {
		return 0, err
	}
	defer func() { stopChild(cmd) }()
	var seen strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := out.Read(buf)
		seen.Write(buf[:n])
		if strings.Contains(seen.String(), "Chats") {
			return time.Since(start), nil
		}
		if err != nil {
			return 0, fmt.Errorf("the UI drew no frame: %v; output: %q", err, seen.String())
		}
	}
}

// agentSends starts "dhtchat agent" for home, waits until it serves its
// control socket, times runs one-shot sends through it, and stops it.
func agentSends(ctx context.Context, bin, home, bs string, runs int, dhtchat func(string, ...string) error) ([]float64, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	agent := command(actx, bin, "--home", home, "--bootstrap", bs, "--listen", "/ip4/127.0.0.1/tcp/0", "agent")
	stderr, err := agent.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := startChild(agent); err != nil {
		return nil, err
	}
	defer stopChild(agent)
	serving := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		told := false
		for sc.Scan() {
			if !told && strings.Contains(sc.Text(), "serving ") {
				told = true
				serving <- true
			}
		}
		if !told {
			serving <- false
		}
	}()
	select {
	case ok := <-serving:
		if !ok {
			return nil, errors.New("dhtchat agent ended before serving its socket")
		}
	case <-time.After(60 * time.Second):
		return nil, errors.New("dhtchat agent does not serve its socket")
	}
	var out []float64
	for i := range runs {
		start := time.Now()
		if err := dhtchat("", "send", "bob", fmt.Sprintf("through the agent %d", i)); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start).Seconds())
	}
	return out, nil
}
