package keyring

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

var digits = regexp.MustCompile(`[0-9]+`)

// secretMessages are all the messages ParseSecretKey may give, numbers
// replaced by N.
var secretMessages = map[string]bool{
	"empty": true,
	"mixed upper and lower case; keys are all lower case (or all upper case)": true,
	"checksum mismatch; check for a typo":                                     true,
	"too short; was it cut short?":                                            true,
	"too long":                                                                true,
	"wrong length; was it cut short?":                                         true,
	"not a key (no recognizable prefix)":                                      true,
	"invalid character; check for a typo":                                     true,
	"not a key":                                                               true,
	"this is a public key, not a secret key":                                  true,
	`unknown prefix, want a key starting with "DHTCHAT-SECRET-KEY-N"`:         true,
	"wrong length (N bytes, want N); was it cut short?":                       true,
	"all zeros": true,
	"too short (N characters, want N); was it cut short?":         true,
	"too long (N characters, want N); check for extra characters": true,
}

func FuzzParsePublicKey(f *testing.F) {
	f.Add(fixedPublicText)
	f.Add(strings.ToUpper(fixedPublicText))
	f.Add(fixedSecretText)
	f.Add(fixedPublicText[:40])
	f.Add("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
	f.Add("dhtchat1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqn7wq8r")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePublicKey(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "keyring: ") {
				t.Fatalf("ParsePublicKey(%q) = %v, not a *ParseError", s, err)
			}
			return
		}
		if _, err := PublicKeyFromBytes(p.Bytes()); err != nil {
			t.Fatalf("ParsePublicKey(%q) accepted an invalid key: %v", s, err)
		}
		if got := p.String(); got != strings.ToLower(strings.TrimSpace(s)) {
			t.Fatalf("ParsePublicKey(%q).String() = %q", s, got)
		}
		if _, err := ParseSecretKey(s); err == nil {
			t.Fatalf("%q parses as both a public and a secret key", s)
		}
	})
}

func FuzzParseSecretKey(f *testing.F) {
	f.Add(fixedSecretText)
	f.Add(strings.ToLower(fixedSecretText))
	f.Add(fixedPublicText)
	f.Add(fixedSecretText[:50])
	f.Add("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseSecretKey(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "keyring: ") {
				t.Fatalf("ParseSecretKey = %v, not a *ParseError", err)
			}
			// Errors never echo the input (a secret key with a typo is
			// still a secret): every message is one of a fixed set.
			if !secretMessages[digits.ReplaceAllString(pe.Msg, "N")] {
				t.Fatalf("ParseSecretKey: unexpected message %q", pe.Msg)
			}
			return
		}
		if k.IsZero() {
			t.Fatal("ParseSecretKey returned the zero key")
		}
		if got := k.EncodeSecret(); got != strings.ToUpper(strings.TrimSpace(s)) {
			t.Fatalf("ParseSecretKey(%q).EncodeSecret() = %q", s, got)
		}
		if _, err := ParsePublicKey(s); err == nil {
			t.Fatalf("%q parses as both a secret and a public key", s)
		}
	})
}

// FuzzParseKeyring fuzzes the plaintext keyring parser: it must never
// panic, and whatever it accepts must encode back to a file that parses
// to the same keyring.
func FuzzParseKeyring(f *testing.F) {
	k := &Keyring{Identity: fixedSecret(f)}
	k.AddFriend("alice", mustKey())
	k.AddFriend("bob.b", mustKey())
	k.SetVerified("bob.b", true)
	seed, err := marshalKeyring(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	// Version 2: a key change and past keys.
	k.RemoveFriend("alice")
	k.AddFriend("alice", mustKey())
	k.RenameFriend("bob.b", "bob")
	seed2, err := marshalKeyring(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed2)
	f.Add([]byte(`{"version":1,"identity":"` + fixedSecretText + `","friends":[]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add(seed[:len(seed)/2])
	f.Add([]byte(`{"version":1,"identity":"` + fixedSecretText + `","friends":[{"name":"a","public_key":"` + fixedPublicText + `"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseKeyring(data)
		if err != nil {
			if strings.Contains(strings.ToUpper(err.Error()), "DHTCHAT-SECRET-KEY-1") {
				t.Fatalf("error contains a secret key: %v", err)
			}
			return
		}
		out, err := marshalKeyring(k)
		if err != nil {
			t.Fatalf("accepted keyring does not encode: %v", err)
		}
		k2, err := parseKeyring(out)
		if err != nil {
			t.Fatalf("re-encoded keyring does not parse: %v\n%s", err, out)
		}
		out2, err := marshalKeyring(k2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding not stable:\n%s\n%s", out, out2)
		}
	})
}
