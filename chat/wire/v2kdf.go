package wire

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
)

// The HKDF labels of protocol version 2 (docs/PROTOCOL.md §11). They are
// part of the wire format.
const (
	labelV2Root      = "dhtchat/v2 root"
	labelV2BootChain = "dhtchat/v2 boot chain"
	labelV2BootName  = "dhtchat/v2 boot name"
	labelV2Header    = "dhtchat/v2 header"
	labelV2Step      = "dhtchat/v2 step"
	labelV2Chain     = "dhtchat/v2 chain"
	labelV2Msg       = "dhtchat/v2 msg"
	labelV2Slot      = "dhtchat/v2 slot"
)

// key32 is a 32-byte secret: a root, chain, message or header key.
type key32 = [32]byte

// hkdf64 is HKDF-SHA256 with a 64-byte output, split into two keys.
func hkdf64(secret, salt []byte, info string) (key32, key32) {
	out, err := hkdf.Key(sha256.New, secret, salt, info, 64)
	if err != nil {
		panic("wire: hkdf: " + err.Error()) // only for outputs over 8160 bytes
	}
	return key32(out[:32]), key32(out[32:])
}

// rootKey0 is RK_0, the root of a chat's ratchet: version 1's pair key
// (the static X25519 agreement) bound to the chat.
//
//	RK_0 = HKDF(pair_key, salt = chat_id, info = "dhtchat/v2 root")
func rootKey0(p PairKey, id ChatID) key32 {
	return hkdf32(p.k[:], id[:], labelV2Root)
}

// bootChain is the chain key of direction d's bootstrap epoch.
func bootChain(rk0 *key32, d Direction) key32 {
	return hkdf32(rk0[:], nil, labelV2BootChain+string([]byte{byte(d)}))
}

// bootSeed is the signing seed of slot i of direction d's bootstrap names.
// Both parties can derive it: the bootstrap names have version 1's
// weakness that the reader could sign under them.
func bootSeed(rk0 *key32, d Direction, i int) key32 {
	return hkdf32(rk0[:], nil, labelV2BootName+string([]byte{byte(d), byte(i)}))
}

// headerKey is HK[d][e], the key that seals the slot records of writer d
// in epoch e. prev is RK_0 for epoch 0 and RK_{e-1} otherwise: the newest
// root that the reader knows before it reads epoch e.
func headerKey(prev *key32, d Direction, e uint32) key32 {
	info := binary.BigEndian.AppendUint32([]byte(labelV2Header+string([]byte{byte(d)})), e)
	return hkdf32(prev[:], nil, string(info))
}

// stepKDF is the root step of epoch e: the X25519 secret and the ML-KEM
// secret together, salted with the previous root and bound to the step's
// public transcript (the new X25519 public key and the KEM ciphertext).
//
//	(RK_e, CK_e) = split(HKDF(dh || ss, salt = RK_{e-1}, info = "dhtchat/v2 step" || u32(e) || X_e || ct_e, 64))
func stepKDF(rk *key32, e uint32, dh, ss []byte, pubX, ct []byte) (root, chain key32) {
	ikm := make([]byte, 0, len(dh)+len(ss))
	ikm = append(append(ikm, dh...), ss...)
	info := binary.BigEndian.AppendUint32([]byte(labelV2Step), e)
	info = append(append(info, pubX...), ct...)
	return hkdf64(ikm, rk[:], string(info))
}

// chainStep advances a symmetric chain by one message: the message key of
// the current index and the chain key of the next. The old chain key
// must be overwritten by the caller: the chain is one-way.
//
//	(MK_j, CK_{j+1}) = split(HKDF(CK_j, salt = "", info = "dhtchat/v2 chain", 64))
func chainStep(ck *key32) (mk, next key32) {
	return hkdf64(ck[:], nil, labelV2Chain)
}

// edPublic is the Ed25519 public key of a 32-byte seed.
func edPublic(seed *key32) [32]byte {
	return [32]byte(ed25519.NewKeyFromSeed(seed[:])[ed25519.SeedSize:])
}
