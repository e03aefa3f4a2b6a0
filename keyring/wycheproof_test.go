package keyring

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"
)

// TestWycheproofX25519 runs every X25519 vector of Project Wycheproof
// (testdata/wycheproof, Apache 2.0) through PublicKeyFromBytes and
// SharedSecret. Our policy, stricter than RFC 7748 requires:
//
//   - "valid" vectors, and "acceptable" twist points in canonical form,
//     are accepted and give exactly the expected shared secret;
//   - LowOrderPublic / ZeroSharedSecret vectors are refused with
//     ErrLowOrder by PublicKeyFromBytes, before any key agreement;
//   - NonCanonicalPublic vectors (top bit set or value ≥ 2^255-19) are
//     refused with ErrNonCanonical (or ErrLowOrder if the point they stand
//     for is low order): RFC 7748 suggests accepting them, but one point
//     with several encodings would be one friend with several identities,
//     and no honest implementation produces them.
func TestWycheproofX25519(t *testing.T) {
	data, err := os.ReadFile("../testdata/wycheproof/x25519_test.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		NumberOfTests int
		TestGroups    []struct {
			Curve string
			Tests []struct {
				TcID                    int `json:"tcId"`
				Comment                 string
				Flags                   []string
				Public, Private, Shared string
				Result                  string
			}
		}
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	unhex := func(s string) [32]byte {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("bad hex %q", s)
		}
		return [32]byte(b)
	}
	ran, accepted := 0, 0
	for _, g := range file.TestGroups {
		if g.Curve != "curve25519" {
			t.Fatalf("unexpected curve %q", g.Curve)
		}
		for _, tc := range g.Tests {
			ran++
			lowOrder := slices.Contains(tc.Flags, "LowOrderPublic") || slices.Contains(tc.Flags, "ZeroSharedSecret")
			nonCanonical := slices.Contains(tc.Flags, "NonCanonicalPublic")
			pub, err := PublicKeyFromBytes(unhex(tc.Public))
			switch {
			case lowOrder:
				if !errors.Is(err, ErrLowOrder) {
					t.Errorf("tc %d (%s, %v): PublicKeyFromBytes = %v, want ErrLowOrder", tc.TcID, tc.Comment, tc.Flags, err)
				}
				continue
			case nonCanonical:
				if !errors.Is(err, ErrNonCanonical) {
					t.Errorf("tc %d (%s, %v): PublicKeyFromBytes = %v, want ErrNonCanonical", tc.TcID, tc.Comment, tc.Flags, err)
				}
				continue
			case tc.Result == "invalid":
				if err == nil {
					t.Errorf("tc %d (%s): invalid public key accepted", tc.TcID, tc.Comment)
				}
				continue
			case err != nil:
				t.Errorf("tc %d (%s, %s %v): PublicKeyFromBytes = %v", tc.TcID, tc.Comment, tc.Result, tc.Flags, err)
				continue
			}
			// Wycheproof private keys are not always clamped; X25519
			// clamps them, as nacl/box does.
			sk, err := SecretKeyFromBytes(unhex(tc.Private))
			if err != nil {
				t.Errorf("tc %d: SecretKeyFromBytes = %v", tc.TcID, err)
				continue
			}
			shared, err := sk.SharedSecret(pub)
			if err != nil {
				t.Errorf("tc %d (%s): SharedSecret = %v", tc.TcID, tc.Comment, err)
				continue
			}
			if shared != unhex(tc.Shared) {
				t.Errorf("tc %d (%s): shared = %x, want %s", tc.TcID, tc.Comment, shared, tc.Shared)
			}
			// Accepted keys survive the text encoding.
			if p2, err := ParsePublicKey(pub.String()); err != nil || !p2.Equal(pub) {
				t.Errorf("tc %d: ParsePublicKey(String()) = %v", tc.TcID, err)
			}
			accepted++
		}
	}
	if ran != file.NumberOfTests || ran != 518 {
		t.Errorf("ran %d vectors, file says %d, want 518", ran, file.NumberOfTests)
	}
	t.Logf("%d vectors, %d accepted and agreed", ran, accepted)
}
