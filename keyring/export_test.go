package keyring

import "strings"

// The methods and constants below serve only the tests.

// SafetyNumberDigits is the number of decimal digits of a safety number.
const SafetyNumberDigits = 60

// Dir returns the directory of the keyring file.
func (f *File) Dir() string { return f.dir }

// Bytes returns the raw 32-byte scalar, for nacl/box.
func (s SecretKey) Bytes() [KeySize]byte { return s.k }

// KeyHistory returns the ended bindings of name (ignoring case), oldest
// first: the keys a friend of that name had before.
func (k *Keyring) KeyHistory(name string) []PastKey {
	var out []PastKey
	for _, p := range k.PastKeys {
		if strings.EqualFold(p.Name, name) {
			out = append(out, p)
		}
	}
	return out
}
