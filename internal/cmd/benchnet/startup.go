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
// moment taken from the "connected to the DHT" line of its debug log. The
// full-screen UI does not exist yet ("dhtchat" with no command prints the
// usage), so its first frame is reported as pending.
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
	b.add(row{id: "6", measure: "start-up: process start to the UI's first frame", settings: "the full-screen UI is not wired into cmd/dhtchat yet",
		target: "≤ 200 ms", result: "pending"})
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
