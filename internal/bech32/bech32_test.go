package bech32

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// The valid and invalid checksum vectors of BIP 173.
var validBIP173 = []string{
	"A12UEL5L",
	"a12uel5l",
	"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
	"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
	"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
}

func TestDecodeValidBIP173(t *testing.T) {
	for _, s := range validBIP173 {
		hrp, data, err := Decode(s)
		if err != nil {
			t.Errorf("Decode(%q) error: %v", s, err)
			continue
		}
		if want := strings.ToLower(s[:strings.LastIndexByte(s, '1')]); hrp != want {
			t.Errorf("Decode(%q) hrp = %q, want %q", s, hrp, want)
		}
		// Re-encoding gives back the string (in the case of its prefix).
		prefix := hrp
		if s == strings.ToUpper(s) {
			prefix = strings.ToUpper(hrp)
		}
		got, err := Encode(prefix, data)
		if err != nil {
			t.Errorf("Encode(%q, %x) error: %v", prefix, data, err)
			continue
		}
		if got != s {
			t.Errorf("Encode(Decode(%q)) = %q", s, got)
		}
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"\x201nwldj5", ErrInvalidHRP},          // HRP character out of range
		{"\x7f1axkwrx", ErrInvalidHRP},          // HRP character out of range
		{"pzry9x0s0muk", ErrNoSeparator},        // no separator
		{"1pzry9x0s0muk", ErrInvalidHRP},        // empty HRP
		{"x1b4n0q5v", ErrInvalidChar},           // invalid data character
		{"li1dgmt3", ErrTooShort},               // checksum too short
		{"de1lg7wt\xff", ErrInvalidChar},        // invalid character in checksum
		{"A1G7SGD8", ErrChecksum},               // checksum computed with upper-case HRP
		{"10a06t8", ErrInvalidHRP},              // empty HRP
		{"1qzzfhee", ErrInvalidHRP},             // empty HRP
		{"a12UEL5L", ErrMixedCase},              // mixed case
		{"a12uel5m", ErrChecksum},               // one character changed
		{strings.Repeat("a", 2000), ErrTooLong}, // bounded input
	}
	for _, tt := range tests {
		_, _, err := Decode(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("Decode(%q) error = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for n := range 70 {
		data := bytes.Repeat([]byte{byte(n*37 + 1)}, n)
		for _, hrp := range []string{"dhtchat", "DHTCHAT-SECRET-KEY-"} {
			s, err := Encode(hrp, data)
			if err != nil {
				t.Fatalf("Encode(%q, %d bytes) error: %v", hrp, n, err)
			}
			gotHRP, got, err := Decode(s)
			if err != nil {
				t.Fatalf("Decode(%q) error: %v", s, err)
			}
			if gotHRP != strings.ToLower(hrp) || !bytes.Equal(got, data) {
				t.Fatalf("Decode(Encode(%q, %x)) = %q, %x", hrp, data, gotHRP, got)
			}
		}
	}
}

// TestEveryTypoDetected flips each character of an encoding to every other
// character of the alphabet: Bech32 detects all single substitutions.
func TestEveryTypoDetected(t *testing.T) {
	s, err := Encode("dhtchat", bytes.Repeat([]byte{0xa5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for i := len("dhtchat1"); i < len(s); i++ {
		for _, c := range charset {
			if byte(c) == s[i] {
				continue
			}
			typo := s[:i] + string(c) + s[i+1:]
			if _, _, err := Decode(typo); err == nil {
				t.Fatalf("Decode(%q) accepted a one-character typo of %q", typo, s)
			}
		}
	}
}

func TestEncodeInvalidHRP(t *testing.T) {
	for _, hrp := range []string{"", "Mixed", "sp ace"} {
		if _, err := Encode(hrp, []byte{1}); err == nil {
			t.Errorf("Encode(%q) succeeded, want an error", hrp)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range validBIP173 {
		f.Add(s)
	}
	f.Add("dhtchat1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq3cx7ee")
	f.Fuzz(func(t *testing.T, s string) {
		hrp, data, err := Decode(s)
		if err != nil {
			return
		}
		prefix := hrp
		if s == strings.ToUpper(s) && s != strings.ToLower(s) {
			prefix = strings.ToUpper(hrp)
		}
		again, err := Encode(prefix, data)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)) error: %v", s, err)
		}
		if again != s {
			t.Fatalf("Encode(Decode(%q)) = %q", s, again)
		}
	})
}
