package main

import "context"

// runUI runs "dhtchat" with no command. The full-screen UI is not built yet;
// until it is, it prints the usage.
func runUI(_ context.Context, e *env) error {
	printUsage(e.stdout)
	return nil
}
