package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/dht"
)

// binary returns the dhtchat binary: -dhtchat, or one built now.
func (b *bench) binary(ctx context.Context) (string, error) {
	if b.dhtchat != "" {
		return b.dhtchat, nil
	}
	out := filepath.Join(b.tmp, "dhtchat")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/dhtchat/dhtchat/cmd/dhtchat")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build dhtchat: %w", err)
	}
	b.dhtchat = out
	return out, nil
}

// startNode starts "dhtchat node" on loopback with no bootstrap peers and
// returns it with the first address it printed.
func startNode(ctx context.Context, bin, home string) (*exec.Cmd, string, error) {
	cmd := command(ctx, bin, "--home", home, "node", "--listen", dht.LocalListenAddr, "--bootstrap", "none")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = os.Stderr
	if err := startChild(cmd); err != nil {
		return nil, "", err
	}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case addr, ok := <-first:
		if ok {
			return cmd, addr, nil
		}
		return nil, "", errors.Join(errors.New("dhtchat node printed no address"), stopChild(cmd))
	case <-time.After(30 * time.Second):
		return nil, "", errors.Join(errors.New("dhtchat node printed no address in 30 s"), stopChild(cmd))
	}
}

// benchNode runs the real "dhtchat node" binary and has a DHT client put
// 10,000 records into it (1 KiB payloads, each under its own key), then
// reads the node's VmRSS.
func benchNode(ctx context.Context, b *bench) error {
	bin, err := b.binary(ctx)
	if err != nil {
		return err
	}
	cmd, addr, err := startNode(ctx, bin, filepath.Join(b.tmp, "node-home"))
	if err != nil {
		return err
	}
	defer stopChild(cmd)
	boot, err := dht.ParseBootstrap(addr)
	if err != nil {
		return err
	}
	cl, err := dht.New(ctx, dht.Config{
		ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)},
		Bootstrap:   boot, Mode: dht.ModeClient,
	})
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Connect(ctx); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	base, err := procStatusKB(pid, "VmRSS")
	if err != nil {
		return err
	}

	records, payload := 10000, 1024
	if b.quick {
		records = 2000
	}
	t := time.Now()
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		putDur []float64
	)
	for range 8 {
		wg.Go(func() {
			data := make([]byte, payload)
			for next.Add(1) <= int64(records) && ctx.Err() == nil {
				_, key, err := ed25519.GenerateKey(rand.Reader)
				if err == nil {
					rand.Read(data)
					s := time.Now()
					err = cl.Put(ctx, key, 1, data)
					mu.Lock()
					putDur = append(putDur, time.Since(s).Seconds())
					mu.Unlock()
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("put records: %w", err)
	}
	took := time.Since(t)
	rss, err := procStatusKB(pid, "VmRSS")
	if err != nil {
		return err
	}
	hwm, _ := procStatusKB(pid, "VmHWM")
	p := Summarize(putDur)
	b.add(row{id: "5", measure: fmt.Sprintf("dhtchat node RSS holding %d records", records),
		settings: fmt.Sprintf("real binary, in-memory datastore (default), %d B payloads (≈%d B records), put by one client, 8 in parallel", payload, payload+600),
		med:      fmt.Sprintf("%.1f MiB", float64(rss)/1024), p99: fmt.Sprintf("peak %.1f MiB", float64(hwm)/1024),
		cost: fmt.Sprintf("empty: %.1f MiB; %d puts in %s, put p50 %s p99 %s", float64(base)/1024, records, took.Round(time.Millisecond), fmtDur(p.Med), fmtDur(p.P99))})
	return nil
}
