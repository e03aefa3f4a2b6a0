package keyring

import (
	"crypto/sha512"
	"encoding/binary"
	"strings"
)

// Safety numbers: what two people compare, in person or over a call they
// trust, to be sure that each holds the other's real public key and nobody
// in between swapped them. The design follows Signal's "numeric
// fingerprint" (libsignal NumericFingerprintGenerator) and is specified in
// docs/SECURITY.md, "Safety numbers":
//
//	h_0       = SHA-512(u16(version) || "dhtchat safety number" || key)
//	h_(i+1)   = SHA-512(h_i || key)                 for i = 0 … 5199
//	half(key) = for each of the first six 5-byte chunks c of h_5200:
//	            the 5 decimal digits of (c as a big-endian u40) mod 100000
//	safety    = the two 30-digit halves sorted as strings, concatenated,
//	            written as 12 groups of 5 digits separated by spaces
//
// Each half is about 99.7 bits of one key: an attacker who wants a key of
// their own whose half matches a victim's needs ~2^99.7 tries, each made
// 5200 hashes (~12 bits) dearer by the iteration. Sorting the halves makes
// the number the same on both sides; each party can also find their own
// half in it (it is the one their peer's screen shows as well).
const (
	safetyVersion    = 0
	safetyLabel      = "dhtchat safety number"
	safetyIterations = 5200
)

// SafetyNumber returns the safety number of the conversation between the
// holders of public keys a and b: 60 decimal digits in 12 groups of 5,
// separated by single spaces, e.g. "05239 72263 … 19876". It is the same
// for (a, b) and (b, a), and changes completely if either key changes.
// Two people compare it to verify each other's keys at once.
func SafetyNumber(a, b PublicKey) string {
	ha, hb := safetyHalf(a), safetyHalf(b)
	if ha > hb {
		ha, hb = hb, ha
	}
	digits := ha + hb
	var s strings.Builder
	for i := 0; i < len(digits); i += 5 {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(digits[i : i+5])
	}
	return s.String()
}

// SafetyNumberLines splits a safety number into lines of four groups, the
// way it is best read aloud and compared: three lines of 23 characters.
func SafetyNumberLines(safety string) []string {
	groups := strings.Fields(safety)
	var lines []string
	for len(groups) > 0 {
		n := min(4, len(groups))
		lines = append(lines, strings.Join(groups[:n], " "))
		groups = groups[n:]
	}
	return lines
}

// safetyHalf returns the 30 digits that stand for one key.
func safetyHalf(p PublicKey) string {
	h := sha512.New()
	var v [2]byte
	binary.BigEndian.PutUint16(v[:], safetyVersion)
	h.Write(v[:])
	h.Write([]byte(safetyLabel))
	h.Write(p.k[:])
	sum := h.Sum(nil)
	for range safetyIterations {
		h.Reset()
		h.Write(sum)
		h.Write(p.k[:])
		sum = h.Sum(sum[:0])
	}
	out := make([]byte, 0, 30)
	for i := range 6 {
		c := sum[i*5 : i*5+5]
		n := uint64(c[0])<<32 | uint64(c[1])<<24 | uint64(c[2])<<16 | uint64(c[3])<<8 | uint64(c[4])
		n %= 100000
		out = append(out, byte('0'+n/10000), byte('0'+n/1000%10), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
	}
	return string(out)
}
