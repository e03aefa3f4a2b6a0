//go:build !unix

package keyring

import "errors"

// lock is not implemented outside Unix: without it two processes could
// lose each other's updates, so the keyring refuses to work at all.
func (f *File) lock(exclusive bool) (unlock func(), err error) {
	return nil, errors.New("keyring: file locking is not supported on this operating system")
}
