package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoNeedsTerminal: without a terminal the demo says so, as a usage
// error, and leaves nothing behind.
func TestDemoNeedsTerminal(t *testing.T) {
	tmp := t.TempDir()
	cmd := execCommand(filepath.Join(t.TempDir(), "home"), "demo")
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != exitUsage {
		t.Fatalf("dhtchat demo without a terminal: exit %d (%v), want %d", code, err, exitUsage)
	}
	if !strings.Contains(stderr.String(), "dhtchat: the demo is a full-screen chat and needs a terminal") {
		t.Errorf("stderr = %q", stderr.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the demo left %v in TMPDIR", left)
	}
}

// TestDemoInTerminal runs "dhtchat demo" as a newcomer would: echo greets,
// answers a message through the local DHT, and quitting restores the
// terminal and removes the demo's temporary directory.
func TestDemoInTerminal(t *testing.T) {
	t.Parallel()
	requireTmux(t)
	bin, err := exec.LookPath("dhtchat")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	term := newTmux(t, 80, 24, []string{"TMPDIR=" + tmp}, bin+" demo --servers 4")
	term.waitText("● online")
	scr := term.waitText("Hi! I'm echo")
	if !strings.Contains(scr, "local demo network") {
		t.Errorf("the status bar does not say it is a local demo network:\n%s", scr)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 || !strings.HasPrefix(left[0].Name(), "dhtchat-demo-") {
		t.Errorf("while running, TMPDIR holds %v, want one dhtchat-demo-* directory", left)
	}
	term.typeText("ping 👋 42")
	term.keys("Enter")
	term.waitText("echo: ping 👋 42")
	term.waitText("ping 👋 42 ✓✓")

	term.keys("C-c")
	term.waitText("EXITED 0")
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("after the demo, TMPDIR holds %v", left)
	}
}
