package main

import (
	"context"
	"flag"
	"text/tabwriter"
	"time"

	"github.com/dhtchat/dhtchat/keyring"
)

var friendsCmd = &command{
	name:  "friends",
	short: "List your friends: name, fingerprint, public key",
	long: `Examples:
  dhtchat friends
  dhtchat friends --json | jq -r .name`,
	nargs: exactly(0),
	setup: func(*flag.FlagSet) runFunc { return runFriends },
}

// friendJSON is a friend in --json output and in export files.
type friendJSON struct {
	Name        string     `json:"name"`
	PublicKey   string     `json:"public_key"`
	Fingerprint string     `json:"fingerprint,omitempty"`
	Verified    bool       `json:"verified"`
	AddedAt     *time.Time `json:"added_at,omitempty"`
	// KeyChange is only in the output of friends (not of export-friends):
	// the name had another key before and the new one is not verified.
	KeyChange *keyChangeJSON `json:"key_change,omitempty"`
}

func newFriendJSON(f keyring.Friend) friendJSON {
	j := friendJSON{Name: f.Name, PublicKey: f.Key.String(), Fingerprint: f.Key.Fingerprint(), Verified: f.Verified}
	if !f.AddedAt.IsZero() {
		t := f.AddedAt.UTC()
		j.AddedAt = &t
	}
	return j
}

func runFriends(_ context.Context, e *env, _ []string) error {
	k, err := e.loadKeyring()
	if err != nil {
		return err
	}
	if e.json {
		for _, f := range k.Friends {
			j := newFriendJSON(f)
			j.KeyChange = newKeyChangeJSON(f.KeyChange)
			if err := e.printJSON(j); err != nil {
				return err
			}
		}
		return nil
	}
	if len(k.Friends) == 0 {
		e.notef("no friends yet")
		e.hintf("add one with 'dhtchat add-friend NAME PUBKEY'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	tw.Write([]byte("NAME\tFINGERPRINT\tVERIFIED\tPUBLIC KEY\n"))
	var changed []keyring.Friend
	for _, f := range k.Friends {
		v := "no"
		switch f.Trust() {
		case keyring.Verified:
			v = "yes"
		case keyring.KeyChanged:
			v = "KEY CHANGED"
			changed = append(changed, f)
		}
		tw.Write([]byte(f.Name + "\t" + f.Key.Fingerprint() + "\t" + v + "\t" + f.Key.String() + "\n"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range changed {
		e.warnf("the key of %s changed on %s; verify it: dhtchat verify %s",
			f.Name, f.KeyChange.ChangedAt.Local().Format("2006-01-02"), f.Name)
	}
	return nil
}
