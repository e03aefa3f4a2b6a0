package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"time"

	"github.com/dhtchat/dhtchat/chat"
)

var sendCmd = &command{
	name:  "send",
	args:  "NAME [--chat CHATKEY] TEXT…|-",
	short: "Send a message (or each line of stdin) to a friend",
	long: `Sends TEXT (the arguments joined by spaces) as one message, or with "-" each
line of stdin as one message, in the most recent chat with NAME (or the one
--chat names). Exits 0 once every message is durably queued and published to
the DHT; --wait-delivered also waits for the friend's acknowledgement.

If the DHT cannot be reached the messages stay queued (exit 1) and any later
dhtchat command that goes online for this chat publishes them.

With --json it prints {"n":…,"status":"queued"} for each message as soon as
it is stored (it will be published even after a crash), then
{"n":…,"status":"published"}, and with --wait-delivered
{"n":…,"status":"delivered"}.

Examples:
  dhtchat send alice "see you at 8"
  ./build.sh 2>&1 | tail -5 | dhtchat send ops -
  dhtchat send alice --wait-delivered --timeout 5m "are you there?"`,
	nargs: atLeast(2),
	setup: func(fs *flag.FlagSet) runFunc {
		o := &sendOpts{}
		fs.StringVar(&o.chatKey, "chat", "", "send in the chat with this `CHATKEY` (default: the latest with NAME)")
		fs.BoolVar(&o.waitDelivered, "wait-delivered", false, "wait until the friend acknowledges every message")
		fs.DurationVar(&o.timeout, "timeout", 0, "give up waiting after `D` (e.g. 30s, 5m; default: no limit)")
		return func(ctx context.Context, e *env, args []string) error { return runSend(ctx, e, args, o) }
	},
}

type sendOpts struct {
	chatKey       string
	waitDelivered bool
	timeout       time.Duration
}

// sendBatch is how many stdin lines are stored in one transaction at most.
const sendBatch = 128

func runSend(ctx context.Context, e *env, args []string, o *sendOpts) error {
	s, f, info, err := e.openChat(ctx, true, args[0], o.chatKey)
	if err != nil {
		return err
	}
	defer s.close()

	// Store first: what is stored is sent, now or by a later run.
	var sent []chat.Entry
	queue := func(bodies []string) error {
		if len(bodies) == 0 {
			return nil
		}
		entries, err := s.client.Send(ctx, info.ID, bodies...)
		if err != nil {
			return sendError(err)
		}
		sent = append(sent, entries...)
		if e.json {
			for _, m := range entries {
				if err := e.printJSON(statusJSON{m.N, "queued"}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if len(args) == 2 && args[1] == "-" {
		err = readLines(e.stdin, queue)
	} else {
		err = queue([]string{strings.Join(args[1:], " ")})
	}
	if err != nil {
		return err
	}
	if len(sent) == 0 {
		return usageErrorf("nothing to send: stdin had no non-empty line")
	}

	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	if err := s.connect(ctx); err != nil {
		return err
	}
	last := sent[len(sent)-1].N
	published, delivered := uint64(0), uint64(0)
	report := func(entries []chat.Entry, status string) error {
		for _, m := range entries {
			if m.N < sent[0].N || m.N > last {
				continue
			}
			if status == "published" {
				published = max(published, m.N)
			} else {
				delivered = max(delivered, m.N)
			}
			if e.json {
				if err := e.printJSON(statusJSON{m.N, status}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	notified, needFlush, queued := false, true, 0
	for {
		if needFlush {
			res, err := s.client.Flush(ctx, info.ID)
			if err != nil {
				return waitError(ctx, err, "publishing")
			}
			if err := report(res.Changed, "published"); err != nil {
				return err
			}
			if res.Queued == 0 && published < last {
				published = last // published earlier, by another process
			}
			needFlush, queued = false, res.Queued
		}
		if published >= last && (!o.waitDelivered || delivered >= last) {
			return nil
		}
		if queued > 0 && !notified && !e.json {
			e.notef("%d messages wait for %s to acknowledge earlier ones…\n", queued, f.Name)
			notified = true
		}
		// Wait for acknowledgements: they free room and mark delivery.
		fetched, err := s.client.Fetch(ctx, info.ID)
		if err != nil {
			return waitError(ctx, err, "waiting for "+f.Name)
		}
		if err := report(fetched.Delivered, "delivered"); err != nil {
			return err
		}
		if len(fetched.Delivered) > 0 {
			needFlush = queued > 0
			continue
		}
		select {
		case <-ctx.Done():
			return waitError(ctx, ctx.Err(), "waiting for "+f.Name)
		case <-time.After(e.pollPolicy().Focused):
		}
	}
}

// readLines calls fn with the non-empty lines of r, in batches: as many as
// are already buffered, up to sendBatch, so that each batch is stored in
// one transaction and a slow writer's lines are stored as they come.
func readLines(r io.Reader, fn func([]string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var batch []string
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			line = strings.TrimRight(line, "\r\n")
			if line != "" {
				batch = append(batch, line)
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return runtimeErrorf("reading stdin: %v", err)
		}
		eof := err != nil
		if eof || len(batch) >= sendBatch || br.Buffered() == 0 {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		if eof {
			return nil
		}
	}
}

// sendError explains why messages could not be queued.
func sendError(err error) error {
	switch {
	case errors.Is(err, chat.ErrBodyTooLarge):
		return usageErrorf("a message is longer than %d bytes", chat.MaxBody).
			withHint("nothing from that line on was queued; split it into several messages")
	case errors.Is(err, chat.ErrBadBody):
		return usageErrorf("a message is not valid UTF-8 text").withHint("nothing from that line on was queued")
	}
	return err
}

// waitError explains an error that ended a wait on the network.
func waitError(ctx context.Context, err error, doing string) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return runtimeErrorf("timed out %s", doing).
			withHint("the messages are stored and will be sent by the next dhtchat command that goes online")
	}
	if errors.Is(err, context.Canceled) {
		return runtimeErrorf("interrupted while %s", doing).
			withHint("the messages are stored and will be sent by the next dhtchat command that goes online")
	}
	return err
}
