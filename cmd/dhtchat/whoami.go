package main

import (
	"context"
	"flag"
)

var whoamiCmd = &command{
	name:  "whoami",
	short: "Print your public key and its fingerprint",
	long: `Prints your public key on the first line and its fingerprint on the second.
Give the key to a friend; compare the fingerprint with them in person or over a
call you trust, to be sure nobody swapped the key on the way.

Examples:
  dhtchat whoami
  dhtchat whoami --json | jq -r .public_key`,
	nargs: exactly(0),
	setup: func(*flag.FlagSet) runFunc { return runWhoami },
}

func runWhoami(_ context.Context, e *env, _ []string) error {
	k, err := e.loadKeyring()
	if err != nil {
		return err
	}
	pk := k.Identity.Public()
	if e.json {
		return e.printJSON(struct {
			PublicKey   string `json:"public_key"`
			Fingerprint string `json:"fingerprint"`
		}{pk.String(), pk.Fingerprint()})
	}
	e.printf("%s\nfingerprint: %s\n", pk, pk.Fingerprint())
	return nil
}
