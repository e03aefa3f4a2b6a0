// Package bech32 implements the Bech32 encoding of BIP 173, which dhtchat
// uses for every key a person reads, types or pastes: a human-readable prefix
// names the kind of key and a BCH checksum catches typos.
//
// Unlike BIP 173 it has no 90-character limit (as in age), because a payload
// here is a 32-byte key, not a bitcoin address. We keep our own small copy,
// as age does, rather than import a cryptocurrency module graph for sixty
// lines of well-specified code; the BIP 173 test vectors pin its behaviour.
package bech32

import (
	"errors"
	"fmt"
	"strings"
)

const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// maxLen bounds the input so that decoding work is bounded whatever is pasted.
const maxLen = 1024

var generator = [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}

// Errors returned by Decode, so callers can turn each into a precise message.
var (
	ErrMixedCase   = errors.New("bech32: mixed upper and lower case")
	ErrChecksum    = errors.New("bech32: invalid checksum")
	ErrNoSeparator = errors.New("bech32: missing separator '1'")
	ErrInvalidChar = errors.New("bech32: invalid character")
	ErrTooShort    = errors.New("bech32: too short")
	ErrTooLong     = errors.New("bech32: too long")
	ErrInvalidBits = errors.New("bech32: invalid padding")
	ErrInvalidHRP  = errors.New("bech32: invalid human-readable prefix")
)

func polymod(values []byte) uint32 {
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= generator[i]
			}
		}
	}
	return chk
}

func hrpExpand(hrp string) []byte {
	out := make([]byte, 0, len(hrp)*2+1)
	for i := range len(hrp) {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := range len(hrp) {
		out = append(out, hrp[i]&31)
	}
	return out
}

func verifyChecksum(hrp string, data []byte) bool {
	return polymod(append(hrpExpand(hrp), data...)) == 1
}

func createChecksum(hrp string, data []byte) []byte {
	values := append(hrpExpand(hrp), data...)
	values = append(values, make([]byte, 6)...)
	mod := polymod(values) ^ 1
	ret := make([]byte, 6)
	for i := range ret {
		ret[i] = byte(mod>>uint(5*(5-i))) & 31
	}
	return ret
}

// convertBits regroups a slice of fromBits-bit values into toBits-bit values.
func convertBits(data []byte, fromBits, toBits uint, pad bool) ([]byte, error) {
	var acc uint32
	var bits uint
	maxv := uint32(1)<<toBits - 1
	out := make([]byte, 0, len(data)*int(fromBits)/int(toBits)+1)
	for _, b := range data {
		if uint32(b)>>fromBits != 0 {
			return nil, ErrInvalidChar
		}
		acc = acc<<fromBits | uint32(b)
		bits += fromBits
		for bits >= toBits {
			bits -= toBits
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(toBits-bits)&maxv))
		}
	} else if bits >= fromBits || acc<<(toBits-bits)&maxv != 0 {
		return nil, ErrInvalidBits
	}
	return out, nil
}

func validHRP(hrp string) bool {
	if hrp == "" {
		return false
	}
	for i := range len(hrp) {
		if hrp[i] < 33 || hrp[i] > 126 {
			return false
		}
	}
	return true
}

// Encode encodes data with the human-readable prefix hrp. The result is in
// lower case if hrp is, and in upper case if hrp is upper case.
func Encode(hrp string, data []byte) (string, error) {
	if !validHRP(hrp) {
		return "", ErrInvalidHRP
	}
	lower := strings.ToLower(hrp)
	if hrp != lower && hrp != strings.ToUpper(hrp) {
		return "", ErrMixedCase
	}
	values, err := convertBits(data, 8, 5, true)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(lower)
	b.WriteByte('1')
	for _, v := range append(values, createChecksum(lower, values)...) {
		b.WriteByte(charset[v])
	}
	if hrp != lower {
		return strings.ToUpper(b.String()), nil
	}
	return b.String(), nil
}

// Decode decodes s, returning its human-readable prefix in lower case and
// its data. Strings in all upper case are accepted; mixed case is not.
func Decode(s string) (hrp string, data []byte, err error) {
	if len(s) > maxLen {
		return "", nil, ErrTooLong
	}
	for i := range len(s) {
		if s[i] < 33 || s[i] > 126 {
			if i < strings.LastIndexByte(s, '1') {
				return "", nil, ErrInvalidHRP
			}
			return "", nil, fmt.Errorf("%w %q at position %d", ErrInvalidChar, s[i], i)
		}
	}
	lower := strings.ToLower(s)
	if s != lower && s != strings.ToUpper(s) {
		return "", nil, ErrMixedCase
	}
	pos := strings.LastIndexByte(lower, '1')
	if pos < 0 {
		return "", nil, ErrNoSeparator
	}
	hrp = lower[:pos]
	if !validHRP(hrp) {
		return "", nil, ErrInvalidHRP
	}
	if len(lower)-pos-1 < 6 {
		return "", nil, ErrTooShort
	}
	values := make([]byte, 0, len(lower)-pos-1)
	for i := pos + 1; i < len(lower); i++ {
		c := strings.IndexByte(charset, lower[i])
		if c < 0 {
			return "", nil, fmt.Errorf("%w %q at position %d", ErrInvalidChar, lower[i], i)
		}
		values = append(values, byte(c))
	}
	if !verifyChecksum(hrp, values) {
		return "", nil, ErrChecksum
	}
	data, err = convertBits(values[:len(values)-6], 5, 8, false)
	if err != nil {
		return "", nil, err
	}
	return hrp, data, nil
}
