// Command dhtchat is an end-to-end encrypted terminal chat with no servers and
// no accounts: every conversation lives in a mailbox on the libp2p Kademlia
// DHT. Run "dhtchat --help" for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(report(os.Stderr, err))
}
