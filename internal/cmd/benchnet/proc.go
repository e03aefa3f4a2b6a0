package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// children are the process groups of the child processes still running, so
// that an interrupt can end them all (see killChildren).
var children struct {
	sync.Mutex
	pgids map[int]bool
}

// command returns a child process in its own process group that gets
// SIGKILL if this process dies, and whose whole group is killed when ctx
// ends. Start it with startChild so that killChildren knows it.
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// startChild starts cmd and registers its process group; wait unregisters
// it.
func startChild(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	children.Lock()
	if children.pgids == nil {
		children.pgids = make(map[int]bool)
	}
	children.pgids[cmd.Process.Pid] = true
	children.Unlock()
	return nil
}

// waitChild waits for cmd and forgets its process group.
func waitChild(cmd *exec.Cmd) error {
	err := cmd.Wait()
	children.Lock()
	delete(children.pgids, cmd.Process.Pid)
	children.Unlock()
	return err
}

// stopChild asks cmd's process group to stop (SIGTERM), waits up to 5 s,
// then kills it.
func stopChild(cmd *exec.Cmd) error {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- waitChild(cmd) }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return <-done
	}
}

// killChildren kills every child process group still registered.
func killChildren() {
	children.Lock()
	defer children.Unlock()
	for pgid := range children.pgids {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// procStatusKB returns a field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
func procStatusKB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		v := strings.TrimSuffix(strings.TrimSpace(rest), " kB")
		return strconv.ParseInt(v, 10, 64)
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// cpuSelf returns the user and system CPU time this process used.
func cpuSelf() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tcpBytes returns, per socket inode, the bytes acknowledged by the peer
// (sent) and received on each TCP socket this process holds, from the
// kernel's TCP_INFO. It is how the harness counts a client's traffic: the
// dht package offers no libp2p bandwidth counter (see docs/BENCHMARKS.md).
// Sockets closed between two calls are missed, so callers compare sockets
// that live through the window.
func tcpBytes() map[string][2]uint64 {
	out := make(map[string][2]uint64)
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return out
	}
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			continue // not TCP
		}
		out[link] = [2]uint64{info.Bytes_acked, info.Bytes_received}
	}
	return out
}

// tcpDelta sums the traffic between two tcpBytes snapshots; sockets new in
// after count from zero.
func tcpDelta(before, after map[string][2]uint64) (sent, recv uint64) {
	for k, a := range after {
		b := before[k]
		if a[0] >= b[0] && a[1] >= b[1] {
			sent += a[0] - b[0]
			recv += a[1] - b[1]
		}
	}
	return sent, recv
}
