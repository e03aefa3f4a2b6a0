package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// FuzzParseImport feeds arbitrary files to import-friends' parser: it
// never panics, fails only with a usage error (exit 2) that stays on one
// line and never echoes a secret key, and what it accepts is friends with
// valid names and keys, at most one per line.
func FuzzParseImport(f *testing.F) {
	const bob = "dhtchat1plsqp84mrwjazazvclhy7yspkqcrl42ndz40va9mh9efqkqd4e8swy5csf"
	const carol = "dhtchat1nle4hesumc4ey0kdkkda6zzn720dk4nm34fcpym0la4cljpduq7qg60e0f"
	f.Add([]byte(`{"name":"bob","public_key":"` + bob + `"}` + "\n"))
	f.Add([]byte(`{"name":"bob","public_key":"` + bob + `","fingerprint":"x","verified":true,"added_at":"2026-01-02T15:04:05Z"}` + "\n\n" +
		`{"name":"carol","public_key":"` + strings.ToUpper(carol) + `"}`))
	f.Add([]byte(`{"name":"bob"}`))
	f.Add([]byte(`{"name":"a b","public_key":"` + bob + `"}`))
	f.Add([]byte(`{"name":"x","public_key":"DHTCHAT-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQSE8RM4"}`))
	f.Add([]byte("not json\r\n{}"))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		friends, err := parseImport("in.jsonl", bytes.NewReader(data))
		if err != nil {
			var u *userr.Error
			if !errors.As(err, &u) || u.Kind != userr.Usage {
				t.Fatalf("parseImport error %v is not a usage error", err)
			}
			if strings.Contains(strings.ToUpper(err.Error()), "DHTCHAT-SECRET-KEY-1") {
				t.Fatalf("error echoes a secret key: %v", err)
			}
			if friends != nil {
				t.Fatalf("parseImport returned friends with an error")
			}
			return
		}
		if len(friends) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d friends from %d lines", len(friends), bytes.Count(data, []byte("\n"))+1)
		}
		for _, fr := range friends {
			if err := keyring.ValidName(fr.Name); err != nil {
				t.Fatalf("accepted an invalid name: %v", err)
			}
			back, err := keyring.ParsePublicKey(fr.Key.String())
			if err != nil || !back.Equal(fr.Key) {
				t.Fatalf("accepted a key that does not round-trip: %v", err)
			}
		}
	})
}
