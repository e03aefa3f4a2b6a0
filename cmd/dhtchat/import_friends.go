package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// maxImport bounds an import file.
const maxImport = 4 << 20

var importFriendsCmd = &command{
	name:  "import-friends",
	args:  "FILE|-",
	short: "Add the friends listed in a file of JSON lines (- for stdin)",
	long: `Reads one JSON object per line with at least "name" and "public_key" (the
output of export-friends) and adds them all, or none: any invalid line, bad
key or conflict with an existing friend stops the import before anything is
stored. Friends already present with the same key are left as they are. A
"verified" mark is not imported: verifying is something you do yourself.

Examples:
  dhtchat import-friends friends.jsonl
  ssh old-laptop dhtchat export-friends | dhtchat import-friends -`,
	nargs: exactly(1),
	setup: func(*flag.FlagSet) runFunc { return runImportFriends },
}

type importLine struct {
	Name      *string `json:"name"`
	PublicKey *string `json:"public_key"`
}

func runImportFriends(_ context.Context, e *env, args []string) error {
	var r io.Reader = e.stdin
	src := "stdin"
	if args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return userr.Runtimef("cannot read %s: %v", args[0], errors.Unwrap(err))
		}
		defer f.Close()
		r, src = f, args[0]
	}
	friends, err := parseImport(src, r)
	if err != nil {
		return err
	}
	kf, err := e.keyringFile()
	if err != nil {
		return err
	}
	added := 0
	var changed []keyring.Friend // names that had another key before
	err = kf.Update(func(k *keyring.Keyring) error {
		added, changed = 0, nil
		for _, f := range friends {
			ok, err := k.AddFriend(f.Name, f.Key)
			if err != nil {
				u := userr.Explain(err)
				u.Msg = fmt.Sprintf("nothing imported: %s: %s", f.Name, u.Msg)
				return u
			}
			if ok {
				added++
				if now, _ := k.Friend(f.Name); now.KeyChange != nil {
					changed = append(changed, now)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(struct {
			Imported  int `json:"imported"`
			Unchanged int `json:"unchanged"`
		}{added, len(friends) - added})
	}
	e.printf("Imported %d friends (%d already present).\n", added, len(friends)-added)
	for _, f := range changed {
		// Loudly, as add-friend does: this is how a swapped key arrives.
		e.warnf("%s had another key before (old fingerprint %s); check it: dhtchat verify %s",
			f.Name, f.KeyChange.OldKey.Fingerprint(), f.Name)
	}
	return nil
}

// parseImport reads and validates every line before anything is stored.
func parseImport(src string, r io.Reader) ([]keyring.Friend, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImport+1))
	if err != nil {
		return nil, userr.Runtimef("cannot read %s: %v", src, err)
	}
	if len(data) > maxImport {
		return nil, userr.Usagef("%s is larger than %d bytes", src, maxImport)
	}
	var friends []keyring.Friend
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxImport)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var l importLine
		if err := json.Unmarshal(text, &l); err != nil {
			return nil, userr.Usagef("%s:%d: not a JSON object", src, line).WithHint("nothing was imported")
		}
		if l.Name == nil || l.PublicKey == nil {
			return nil, userr.Usagef("%s:%d: needs \"name\" and \"public_key\"", src, line).WithHint("nothing was imported")
		}
		if err := keyring.ValidName(*l.Name); err != nil {
			return nil, userr.Usagef("%s:%d: %s", src, line, userr.Msg(err)).WithHint("nothing was imported")
		}
		pk, err := keyring.ParsePublicKey(*l.PublicKey)
		if err != nil {
			return nil, userr.Usagef("%s:%d: %s", src, line, invalidKey(*l.Name, err).Msg).WithHint("nothing was imported")
		}
		friends = append(friends, keyring.Friend{Name: *l.Name, Key: pk})
	}
	if err := sc.Err(); err != nil {
		return nil, userr.Usagef("%s: %v", src, err)
	}
	return friends, nil
}
