package keyring

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/internal/bech32"
)

// fixedSecret is the scalar 0x01, 0x02, …, 0x20. Its public key,
// 07a37cbc…1c7c, is the X25519 base-point multiple that other test suites
// (age's among them) also use, an independent check of Public.
func fixedSecret(t testing.TB) SecretKey {
	t.Helper()
	var b [KeySize]byte
	for i := range b {
		b[i] = byte(i + 1)
	}
	s, err := SecretKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	fixedSecretText = "DHTCHAT-SECRET-KEY-1QYPQXPQ9QCRSSZG2PVXQ6RS0ZQG3YYC5Z5TPWXQERGD3C8G7RUSQ7WNF23"
	fixedPublicHex  = "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c"
	fixedPublicText = "dhtchat1q73he0q5yzfu3d64msd3p6rvksnrwjk3d2598mgtmlqt9wrdr37qpnnete"
	fixedFingerprnt = "61bb af10 fcef 34d6 b191"
)

// TestEncodingPinned pins the text encodings: changing them would make
// every key ever shared unreadable.
func TestEncodingPinned(t *testing.T) {
	s := fixedSecret(t)
	if got := s.EncodeSecret(); got != fixedSecretText {
		t.Errorf("EncodeSecret() = %s, want %s", got, fixedSecretText)
	}
	p := s.Public()
	if got := hex.EncodeToString(p.k[:]); got != fixedPublicHex {
		t.Errorf("Public() = %s, want %s", got, fixedPublicHex)
	}
	if got := p.String(); got != fixedPublicText {
		t.Errorf("String() = %s, want %s", got, fixedPublicText)
	}
	if got := p.Fingerprint(); got != fixedFingerprnt {
		t.Errorf("Fingerprint() = %q, want %q", got, fixedFingerprnt)
	}
	p2, err := ParsePublicKey(fixedPublicText)
	if err != nil || !p2.Equal(p) {
		t.Errorf("ParsePublicKey(%s) = %v, %v", fixedPublicText, p2, err)
	}
	s2, err := ParseSecretKey(fixedSecretText)
	if err != nil || s2.Bytes() != s.Bytes() {
		t.Errorf("ParseSecretKey(fixed) failed: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	for range 20 {
		s, err := GenerateSecretKey()
		if err != nil {
			t.Fatal(err)
		}
		p := s.Public()
		p2, err := ParsePublicKey(" \n" + p.String() + "\t\n")
		if err != nil || !p2.Equal(p) {
			t.Fatalf("ParsePublicKey(%s) = %v, %v", p, p2, err)
		}
		p3, err := ParsePublicKey(strings.ToUpper(p.String()))
		if err != nil || !p3.Equal(p) {
			t.Fatalf("ParsePublicKey(upper) = %v, %v", p3, err)
		}
		s2, err := ParseSecretKey(s.EncodeSecret() + "\n")
		if err != nil || s2 != s {
			t.Fatalf("ParseSecretKey round trip: %v", err)
		}
		var p4 PublicKey
		if err := p4.UnmarshalText([]byte(p.String())); err != nil || !p4.Equal(p) {
			t.Fatalf("UnmarshalText: %v", err)
		}
	}
}

func TestSharedSecretAgrees(t *testing.T) {
	a, _ := GenerateSecretKey()
	b, _ := GenerateSecretKey()
	ab, err := a.SharedSecret(b.Public())
	if err != nil {
		t.Fatal(err)
	}
	ba, err := b.SharedSecret(a.Public())
	if err != nil {
		t.Fatal(err)
	}
	if ab != ba {
		t.Error("shared secrets differ")
	}
	if _, err := a.SharedSecret(PublicKey{}); !errors.Is(err, ErrLowOrder) {
		t.Errorf("SharedSecret(zero) = %v, want ErrLowOrder", err)
	}
}

func mustEncode(t testing.TB, hrp string, data []byte) string {
	t.Helper()
	s, err := bech32.Encode(hrp, data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParsePublicKeyErrors(t *testing.T) {
	s := fixedSecret(t)
	pub := s.Public().String()
	// flip one data character to another of the charset
	typo := pub[:20] + string("qp"[strings.IndexByte("q", pub[20])+1]) + pub[21:]
	if typo == pub {
		t.Fatal("typo construction failed")
	}
	secretTypo := fixedSecretText[:30] + "Q" + fixedSecretText[31:]
	var zero [32]byte
	var one [32]byte
	one[0] = 1
	nonCanon := s.Public().Bytes()
	nonCanon[31] |= 0x80

	tests := []struct {
		name, in string
		want     error  // errors.Is target
		msg      string // substring of the message
	}{
		{"empty", "", errEmpty, "empty"},
		{"spaces", "   ", errEmpty, "empty"},
		{"mixed case", pub[:10] + strings.ToUpper(pub[10:]), bech32.ErrMixedCase, "mixed upper and lower case"},
		{"checksum", typo, bech32.ErrChecksum, "checksum mismatch; check for a typo"},
		{"truncated", pub[:len(pub)-10], bech32.ErrChecksum, "too short (56 characters, want 66); was it cut short?"},
		{"very truncated", pub[:11], bech32.ErrTooShort, "too short"},
		{"secret key", fixedSecretText, ErrSecretAsPublic, "this is a secret key, not a public key; never share it"},
		{"secret key lower", strings.ToLower(fixedSecretText), ErrSecretAsPublic, "never share it"},
		{"secret key with typo", secretTypo, ErrSecretAsPublic, "never share it"},
		{"age key", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", ErrWrongPrefix, `unknown prefix "age"`},
		{"garbage", "helloworld", bech32.ErrNoSeparator, "not a key"},
		{"space", "hello world", bech32.ErrInvalidChar, "invalid character ' ' at position 5"},
		{"extra", fixedPublicText + "qq", bech32.ErrChecksum, "too long (68 characters, want 66)"},
		{"bad char", "dhtchat1qqqqqbqqqqqq", bech32.ErrInvalidChar, "invalid character"},
		{"short payload", mustEncode(t, "dhtchat", make([]byte, 31)), ErrKeyLength, "wrong length (31 bytes, want 32)"},
		{"long payload", mustEncode(t, "dhtchat", make([]byte, 33)), ErrKeyLength, "wrong length"},
		{"all zeros", mustEncode(t, "dhtchat", zero[:]), ErrLowOrder, "low-order point"},
		{"one", mustEncode(t, "dhtchat", one[:]), ErrLowOrder, "low-order point"},
		{"non-canonical", mustEncode(t, "dhtchat", nonCanon[:]), ErrNonCanonical, "non-canonical"},
		{"too long", strings.Repeat("q", 2000), bech32.ErrTooLong, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePublicKey(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePublicKey(%q) = %v, want *ParseError", tt.in, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ParsePublicKey(%q) = %v, want errors.Is %v", tt.in, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "keyring: invalid public key: ") {
				t.Errorf("ParsePublicKey(%q) = %q, want it to contain %q", tt.in, err, tt.msg)
			}
			if strings.Contains(strings.ToUpper(err.Error()), fixedSecretText[20:]) {
				t.Errorf("error %q contains the secret key", err)
			}
		})
	}
}

func TestParseSecretKeyErrors(t *testing.T) {
	typo := fixedSecretText[:30] + "Q" + fixedSecretText[31:]
	tests := []struct {
		name, in string
		want     error
		msg      string
	}{
		{"empty", "", errEmpty, "empty"},
		{"public key", fixedPublicText, ErrPublicAsSecret, "this is a public key"},
		{"checksum", typo, bech32.ErrChecksum, "checksum mismatch"},
		{"mixed", fixedSecretText[:25] + strings.ToLower(fixedSecretText[25:]), bech32.ErrMixedCase, "mixed"},
		{"truncated", fixedSecretText[:len(fixedSecretText)-8], nil, "cut short"},
		{"zero", mustEncode(t, secretHRP, make([]byte, 32)), ErrZeroSecretKey, "all zeros"},
		{"wrong prefix", mustEncode(t, "AGE-SECRET-KEY-", make([]byte, 32)), ErrWrongPrefix, "unknown prefix"},
		{"bad char", fixedSecretText[:40] + "B" + fixedSecretText[41:], bech32.ErrInvalidChar, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSecretKey(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseSecretKey = %v, want *ParseError", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ParseSecretKey = %v, want errors.Is %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "keyring: invalid secret key: ") {
				t.Errorf("ParseSecretKey = %q, want it to contain %q", err, tt.msg)
			}
			if strings.Contains(strings.ToUpper(err.Error()), "QYPQXPQ9") {
				t.Errorf("error %q contains part of the secret key", err)
			}
		})
	}
}

func TestPublicKeyFromBytes(t *testing.T) {
	var zero [32]byte
	if _, err := PublicKeyFromBytes(zero); !errors.Is(err, ErrLowOrder) {
		t.Errorf("PublicKeyFromBytes(zero) = %v, want ErrLowOrder", err)
	}
	b, _ := hex.DecodeString(fixedPublicHex)
	p, err := PublicKeyFromBytes([32]byte(b))
	if err != nil || p.String() != fixedPublicText {
		t.Errorf("PublicKeyFromBytes(fixed) = %v, %v", p, err)
	}
	// p itself (2^255-19) is non-canonical and low-order (it is 0);
	// p+2 is non-canonical 2 (a twist point, not low order).
	pPlus2 := [32]byte{0xef}
	for i := 1; i < 31; i++ {
		pPlus2[i] = 0xff
	}
	pPlus2[31] = 0x7f
	if _, err := PublicKeyFromBytes(pPlus2); !errors.Is(err, ErrNonCanonical) {
		t.Errorf("PublicKeyFromBytes(p+2) = %v, want ErrNonCanonical", err)
	}
	two := [32]byte{2}
	if _, err := PublicKeyFromBytes(two); err != nil {
		t.Errorf("PublicKeyFromBytes(2) = %v, want ok", err)
	}
}

func TestSecretKeyNeverPrints(t *testing.T) {
	s := fixedSecret(t)
	type wrapper struct {
		Identity SecretKey
		P        *SecretKey
	}
	w := wrapper{s, &s}
	j, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		s.String(), s.GoString(),
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", w, w, w), fmt.Sprintf("%v", &s),
		string(j),
	}
	raw := s.Bytes()
	for _, o := range outs {
		if strings.Contains(strings.ToUpper(o), fixedSecretText[19:]) ||
			strings.Contains(o, hex.EncodeToString(raw[:])) ||
			strings.Contains(strings.ToUpper(o), strings.ToUpper(hex.EncodeToString(raw[:]))) ||
			strings.Contains(o, "[1 2 3 4") || strings.Contains(o, string(raw[:8])) {
			t.Errorf("secret key leaked: %q", o)
		}
	}
	if !strings.Contains(fmt.Sprint(s), "redacted") {
		t.Errorf("fmt.Sprint(secret) = %q, want redacted", fmt.Sprint(s))
	}
}

func TestPublicKeyJSON(t *testing.T) {
	p := fixedSecret(t).Public()
	j, err := json.Marshal(map[string]PublicKey{"k": p})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"k":"` + fixedPublicText + `"}`; string(j) != want {
		t.Errorf("json = %s, want %s", j, want)
	}
	var back map[string]PublicKey
	if err := json.Unmarshal(j, &back); err != nil || !back["k"].Equal(p) {
		t.Errorf("json round trip: %v", err)
	}
	if _, err := json.Marshal(PublicKey{}); err == nil {
		t.Error("json.Marshal(zero PublicKey) succeeded")
	}
}

func TestFingerprintFormat(t *testing.T) {
	s, _ := GenerateSecretKey()
	fp := s.Public().Fingerprint()
	if len(fp) != 24 || strings.Count(fp, " ") != 4 {
		t.Errorf("Fingerprint() = %q, want five groups of four hex digits", fp)
	}
}
