package main

import (
	"os"
	"testing"
)

// TestStatusAndDraft: the live section reads the path and the draft off a
// UI screen as capture-pane prints it.
func TestStatusAndDraft(t *testing.T) {
	scr := "" +
		"│ Chats            │ bob  fingerprint 1234\n" +
		"│ bob              │ hello\n" +
		"│ ● online · live  │\n" +
		"> live bench direct 007\n"
	if got := statusOf(scr); got != "● online · live" {
		t.Errorf("statusOf = %q, want %q", got, "● online · live")
	}
	if got := draftOf(scr); got != "> live bench direct 007" {
		t.Errorf("draftOf = %q", got)
	}
	if got := statusOf("○ connecting…\n> \n"); got != "" {
		t.Errorf("statusOf of a connecting screen = %q, want empty", got)
	}
}

// TestProcCPU: the CPU time of this process is read from /proc and grows.
func TestProcCPU(t *testing.T) {
	before := procCPU(os.Getpid())
	for i := 0; procCPU(os.Getpid()) == before; i++ {
		_ = make([]byte, 1<<16) // burn CPU until a tick passes
	}
	if procCPU(os.Getpid()) <= 0 {
		t.Fatal("procCPU is 0 for a process that used CPU")
	}
	if procCPU(-1) != 0 {
		t.Error("procCPU of no process is not 0")
	}
}
