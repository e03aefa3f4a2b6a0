package wire

import (
	"bytes"
	"testing"
)

// The root step depends on each of its inputs: changing the X25519
// secret, the ML-KEM secret, the previous root, the epoch or the
// transcript changes both outputs. (Dependence is necessary for the
// hybrid claim; TestV2PostQuantum shows the attack.)
func TestV2StepKDFDependsOnEveryInput(t *testing.T) {
	rk := key32{1}
	dh, ss := bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	x, ct := bytes.Repeat([]byte{4}, 32), bytes.Repeat([]byte{5}, 1088)
	r0, c0 := stepKDF(&rk, 1, dh, ss, x, ct)
	flip := func(b []byte) []byte { b = bytes.Clone(b); b[0] ^= 1; return b }
	rk2 := rk
	rk2[0] ^= 1
	for name, f := range map[string]func() (key32, key32){
		"dh":    func() (key32, key32) { return stepKDF(&rk, 1, flip(dh), ss, x, ct) },
		"ss":    func() (key32, key32) { return stepKDF(&rk, 1, dh, flip(ss), x, ct) },
		"root":  func() (key32, key32) { return stepKDF(&rk2, 1, dh, ss, x, ct) },
		"epoch": func() (key32, key32) { return stepKDF(&rk, 2, dh, ss, x, ct) },
		"X":     func() (key32, key32) { return stepKDF(&rk, 1, dh, ss, flip(x), ct) },
		"ct":    func() (key32, key32) { return stepKDF(&rk, 1, dh, ss, x, flip(ct)) },
	} {
		r, c := f()
		if r == r0 || c == c0 {
			t.Errorf("changing %s left an output of the step unchanged", name)
		}
	}
	if r0 == c0 {
		t.Error("root and chain keys of a step are equal")
	}
}

// A chain never repeats a key, and its message keys are not its chain
// keys: whoever holds a message key cannot continue the chain.
func TestV2ChainKeysDistinct(t *testing.T) {
	seen := map[key32]bool{}
	ck := key32{9}
	seen[ck] = true
	for range 1000 {
		mk, next := chainStep(&ck)
		if seen[mk] || seen[next] || mk == next {
			t.Fatal("a chain repeated a key")
		}
		seen[mk], seen[next] = true, true
		ck = next
	}
}

// Header keys differ per direction and epoch.
func TestV2HeaderKeysDistinct(t *testing.T) {
	rk := key32{7}
	seen := map[key32]bool{}
	for d := range Direction(2) {
		for e := range uint32(8) {
			k := headerKey(&rk, d, e)
			if seen[k] {
				t.Fatalf("header key of %v epoch %d repeats", d, e)
			}
			seen[k] = true
		}
	}
}
