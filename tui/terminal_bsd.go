//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package tui

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA // TCSANOW: what is queued stays queued
	// ioctlInQueue is FIONREAD, _IOR('f', 127, int) on every BSD;
	// golang.org/x/sys/unix does not name it there.
	ioctlInQueue = 0x4004667f
)
