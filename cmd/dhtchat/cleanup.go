package main

import "errors"

// A cleanup is a stack of things to close: each is pushed as soon as it is
// open, and close pops them all, the last opened first, so that nothing is
// closed while something opened after it still uses it (a chat client
// before its DHT node, the node before the log it writes its last line to).
type cleanup struct {
	fns []func() error
}

// push adds fn, to be called by close before everything pushed earlier.
func (c *cleanup) push(fn func() error) { c.fns = append(c.fns, fn) }

// close calls the functions pushed, in reverse order, and returns their
// errors joined. The stack is empty afterwards: a second close does
// nothing.
func (c *cleanup) close() error {
	var errs []error
	for i := len(c.fns) - 1; i >= 0; i-- {
		errs = append(errs, c.fns[i]())
	}
	c.fns = nil
	return errors.Join(errs...)
}
