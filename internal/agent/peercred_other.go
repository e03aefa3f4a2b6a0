//go:build !linux

package agent

import "net"

// sameUser: without SO_PEERCRED, the socket's file mode (0600) and its
// directory's (0700) are what keep other users out.
func sameUser(net.Conn) bool { return true }
