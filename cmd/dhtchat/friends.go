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
			if err := e.printJSON(newFriendJSON(f)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(k.Friends) == 0 {
		e.notef("No friends yet. Add one with: dhtchat add-friend NAME PUBKEY\n")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	tw.Write([]byte("NAME\tFINGERPRINT\tVERIFIED\tPUBLIC KEY\n"))
	for _, f := range k.Friends {
		v := "no"
		if f.Verified {
			v = "yes"
		}
		tw.Write([]byte(f.Name + "\t" + f.Key.Fingerprint() + "\t" + v + "\t" + f.Key.String() + "\n"))
	}
	return nil
}
