package tui

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS // TCSANOW: what is queued stays queued
	ioctlInQueue    = unix.TIOCINQ
)
