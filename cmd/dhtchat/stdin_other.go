//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package main

import "io"

// stoppable returns r as it is: without poll(2), a Read of stdin in
// progress cannot be stopped, and the process ends it by exiting.
func stoppable(r io.Reader) (io.Reader, func()) { return r, func() {} }
