package wire

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"crypto/rand"
	"fmt"
	"io"
	"time"
)

// MaxSkip bounds the message keys a version 2 reader derives ahead for one
// record, and the skipped keys it keeps in all (docs/PROTOCOL.md §12.4). A
// writer's outbox (16 slots) never needs more.
const MaxSkip = 2048

// Sizes of the ratchet's public values.
const (
	x25519Size  = 32
	mlkemEKSize = mlkem.EncapsulationKeySize768 // 1184
	mlkemCTSize = mlkem.CiphertextSize768       // 1088
	mlkemSeed   = mlkem.SeedSize                // 64
	namesSize   = MaxSlots * ed25519.PublicKeySize
	// ratchetBlockSize is slot 0's X || ek || ct || next_names.
	ratchetBlockSize = x25519Size + mlkemEKSize + mlkemCTSize + namesSize // 2816
)

// Frame is a sealed version 2 message as its writer stores it until it is
// acknowledged: the epoch and number it was sealed under, and the sealed
// bytes. A writer seals a message once (RatchetState.Seal) and publishes
// the same Frame in every record until the reader acknowledges N.
type Frame struct {
	Epoch  uint32
	N      uint64
	Sealed []byte
}

// skippedKey is the key of a message the reader has not opened yet.
type skippedKey struct {
	epoch uint32
	n     uint64
	mk    key32
}

// RatchetState is one party's complete version 2 state for one chat: its
// root key, its sending chain and ratchet keys, its receiving chain and
// skipped keys, and the names and header keys of both directions. It is a
// value: every operation returns a new state and leaves its receiver
// unchanged, so that a client stores the new state in the same
// transaction as what the operation produced, or nothing. Marshal and
// UnmarshalRatchetState turn it into bytes and back (docs/PROTOCOL.md §15).
// It formats as a redacted placeholder.
type RatchetState struct {
	id   ChatID
	self Direction
	rk   key32 // the newest root key

	sendEpoch  uint32
	sendCK     key32
	sendHK     key32
	sendFirstN uint64
	nextN      uint64            // the next message number to seal
	sendNames  [MaxSlots]key32   // signing seeds of sendEpoch's names
	hasNext    bool              // nextNames is set (all but from-lo's epoch 0)
	nextNames  [MaxSlots]key32   // signing seeds announced for sendEpoch+2
	hasKeys    bool              // myX and myDK are set
	myX        [x25519Size]byte  // X25519 private key of sendEpoch
	myDK       [mlkemSeed]byte   // ML-KEM-768 seed of sendEpoch
	sendCT     [mlkemCTSize]byte // the KEM ciphertext of sendEpoch's step

	recvEpoch  uint32
	recvCK     key32  // chain key of number recvNextN
	recvFirstN uint64 // first_n of recvEpoch
	recvNextN  uint64
	recvHK     key32
	recvNames  [MaxSlots][32]byte // public keys of the peer's names of recvEpoch
	peerNext   bool               // the peer's next epoch's header key and names are known
	nextHK     key32
	nextPeer   [MaxSlots][32]byte
	skipped    []skippedKey // sorted by (epoch, n)
}

// randOr returns r, or crypto/rand's reader for nil.
func randOr(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

func readRand(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("wire: random source: %w", err)
	}
	return nil
}

// writerOf returns the direction that makes step e ≥ 1.
func writerOf(e uint32) Direction {
	if e%2 == 1 {
		return FromLo
	}
	return FromHi
}

// isEpochOf reports whether e is an epoch of writer d: 0, or one of d's steps.
func isEpochOf(d Direction, e uint32) bool { return e == 0 || writerOf(e) == d }

// nextEpochOf is the epoch of writer d after its epoch e: from-lo goes
// 0, 1, 3, 5, …; from-hi 0, 2, 4, ….
func nextEpochOf(d Direction, e uint32) uint32 {
	if d == FromLo && e == 0 {
		return 1
	}
	return e + 2
}

// NewRatchetState starts the version 2 state of the chat id for the party
// writing direction self, from the pair key of the two parties (version 1's
// static X25519 agreement: the bootstrap epoch has version 1's properties,
// docs/PROTOCOL.md §12.1). from-hi draws its first ratchet keys and the
// seeds of its epoch-2 names from rand (nil: crypto/rand).
func NewRatchetState(rand io.Reader, p PairKey, id ChatID, self Direction) (*RatchetState, error) {
	if !self.valid() {
		return nil, errDirection(self)
	}
	rand = randOr(rand)
	rk0 := rootKey0(p, id)
	peer := self.Other()
	s := &RatchetState{
		id: id, self: self, rk: rk0,
		sendCK: bootChain(&rk0, self), sendHK: headerKey(&rk0, self, 0),
		sendFirstN: 1, nextN: 1,
		recvCK: bootChain(&rk0, peer), recvHK: headerKey(&rk0, peer, 0),
		recvFirstN: 1, recvNextN: 1,
	}
	for i := range MaxSlots {
		s.sendNames[i] = bootSeed(&rk0, self, i)
		seed := bootSeed(&rk0, peer, i)
		s.recvNames[i] = edPublic(&seed)
	}
	if self == FromHi {
		// from-lo's epoch 1 is sealed with HK[lo][1] from RK_0, on its
		// bootstrap names.
		s.peerNext, s.nextHK, s.nextPeer = true, headerKey(&rk0, peer, 1), s.recvNames
		if err := readRand(rand, s.myX[:]); err != nil {
			return nil, err
		}
		if err := readRand(rand, s.myDK[:]); err != nil {
			return nil, err
		}
		s.hasKeys = true
		if err := s.drawNextNames(rand); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *RatchetState) drawNextNames(rand io.Reader) error {
	for i := range s.nextNames {
		if err := readRand(rand, s.nextNames[i][:]); err != nil {
			return err
		}
	}
	s.hasNext = true
	return nil
}

// clone returns a deep copy of s.
func (s *RatchetState) clone() *RatchetState {
	c := *s
	c.skipped = append([]skippedKey(nil), s.skipped...)
	return &c
}

// ChatID returns the chat's identifier.
func (s *RatchetState) ChatID() ChatID { return s.id }

// Direction returns the direction this party writes.
func (s *RatchetState) Direction() Direction { return s.self }

// SendEpoch returns the epoch this party writes in now.
func (s *RatchetState) SendEpoch() uint32 { return s.sendEpoch }

// RecvEpoch returns the epoch of the peer that this party reads now.
func (s *RatchetState) RecvEpoch() uint32 { return s.recvEpoch }

// NextN returns the number the next sealed message will get.
func (s *RatchetState) NextN() uint64 { return s.nextN }

// Seal seals one message with the next key of the sending chain and
// returns the new state and the frame to store in the outbox. The key is
// deleted from the new state: the frame is the only way to this message,
// so the caller stores both in one transaction and never seals it again.
func (s *RatchetState) Seal(rand io.Reader, sentAt time.Time, body string) (*RatchetState, Frame, error) {
	if err := checkV2Body(body); err != nil {
		return nil, Frame{}, err
	}
	return s.sealPlain(rand, v2Plaintext(sentAt.UnixMilli(), body))
}

// sealPlain seals any plaintext, for Seal and for a reader's tests.
func (s *RatchetState) sealPlain(rand io.Reader, plain []byte) (*RatchetState, Frame, error) {
	c := s.clone()
	mk, next := chainStep(&c.sendCK)
	c.sendCK = next
	n := c.nextN
	c.nextN++
	sealed, err := v2Seal(randOr(rand), &mk, plain, v2MsgAD(c.id, c.self, c.sendEpoch, n))
	if err != nil {
		return nil, Frame{}, err
	}
	return c, Frame{Epoch: c.sendEpoch, N: n, Sealed: sealed}, nil
}

// SlotSigningKey returns the Ed25519 key that signs slot i of this party's
// current epoch; the slot's IPNS name is its public key's. It panics if i
// is out of range.
func (s *RatchetState) SlotSigningKey(i int) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(s.sendNames[i][:])
}

// SlotName returns the public key naming slot i of this party's current epoch.
func (s *RatchetState) SlotName(i int) ed25519.PublicKey {
	return s.SlotSigningKey(i).Public().(ed25519.PublicKey)
}

// Watch is an epoch of the peer that a reader fetches records of, and the
// public keys naming its slots.
type Watch struct {
	Epoch uint32
	Names [MaxSlots]ed25519.PublicKey
}

// Watches returns the peer epochs whose records the reader fetches: the one
// it reads and, once known, the next (docs/PROTOCOL.md §12.2). On from-lo's
// bootstrap names both epoch 0 and epoch 1 are watched, with the same names.
func (s *RatchetState) Watches() []Watch {
	mk := func(e uint32, names *[MaxSlots][32]byte) Watch {
		w := Watch{Epoch: e}
		for i := range names {
			w.Names[i] = bytes.Clone(names[i][:])
		}
		return w
	}
	ws := []Watch{mk(s.recvEpoch, &s.recvNames)}
	if s.peerNext {
		ws = append(ws, mk(nextEpochOf(s.self.Other(), s.recvEpoch), &s.nextPeer))
	}
	return ws
}

// ratchetBlock returns the public ratchet values that this party's slot 0
// records carry in its current epoch: X || ek || ct || next_names.
func (s *RatchetState) ratchetBlock() []byte {
	b := make([]byte, 0, ratchetBlockSize)
	if s.hasKeys {
		x, err := ecdh.X25519().NewPrivateKey(s.myX[:])
		if err != nil {
			panic("wire: " + err.Error()) // any 32 bytes are an X25519 key
		}
		dk, err := mlkem.NewDecapsulationKey768(s.myDK[:])
		if err != nil {
			panic("wire: " + err.Error()) // any 64 bytes are a seed
		}
		b = append(b, x.PublicKey().Bytes()...)
		b = append(b, dk.EncapsulationKey().Bytes()...)
	} else {
		b = append(b, make([]byte, x25519Size+mlkemEKSize)...)
	}
	b = append(b, s.sendCT[:]...)
	for i := range s.nextNames {
		if s.hasNext {
			pub := edPublic(&s.nextNames[i])
			b = append(b, pub[:]...)
		} else {
			b = append(b, make([]byte, 32)...)
		}
	}
	return b
}

// step makes this party's ratchet step after the peer's epoch peerEpoch,
// whose slot 0 carried the X25519 public key peerX and the ML-KEM
// encapsulation key peerEK (docs/PROTOCOL.md §11, §12.3). It draws, in
// order, x (32 bytes), the encapsulation's m (32), the new ML-KEM seed
// (64) and 16 name seeds (32 each). next are the names the peer announced
// for its next epoch.
func (s *RatchetState) step(rand io.Reader, peerEpoch uint32, peerX, peerEK []byte, next *[MaxSlots][32]byte) error {
	e := peerEpoch + 1
	var x [x25519Size]byte
	var m [32]byte
	if err := readRand(rand, x[:]); err != nil {
		return err
	}
	if err := readRand(rand, m[:]); err != nil {
		return err
	}
	dh, err := x25519(x[:], peerX)
	if err != nil {
		return err
	}
	ek, err := mlkem.NewEncapsulationKey768(peerEK)
	if err != nil {
		return fmt.Errorf("%w: ML-KEM key: %v", ErrMalformed, err)
	}
	// FIPS 203's Encaps is Encaps_internal with 32 random bytes m; m is
	// read from the caller's source so that every step is reproducible
	// from it (the test vectors). Go offers Encaps_internal only here.
	ss, ct, err := mlkemtest.Encapsulate768(ek, m[:])
	if err != nil {
		return fmt.Errorf("wire: ML-KEM encapsulation: %w", err)
	}
	xpriv, _ := ecdh.X25519().NewPrivateKey(x[:])
	prev := s.rk
	s.rk, s.sendCK = stepKDF(&prev, e, dh, ss, xpriv.PublicKey().Bytes(), ct)
	s.sendHK = headerKey(&prev, s.self, e)
	s.sendEpoch, s.sendFirstN = e, s.nextN
	s.myX = x
	if err := readRand(rand, s.myDK[:]); err != nil {
		return err
	}
	s.hasKeys = true
	copy(s.sendCT[:], ct)
	if e != 1 { // from-lo's epoch 1 stays on its bootstrap names
		s.sendNames = s.nextNames
	}
	if err := s.drawNextNames(rand); err != nil {
		return err
	}
	s.peerNext, s.nextHK, s.nextPeer = true, headerKey(&s.rk, s.self.Other(), e+1), *next
	return nil
}

// receiveStep computes the root and chain of the peer's step e from its
// public values and this party's own keys of epoch e-1, which it then
// deletes.
func (s *RatchetState) receiveStep(e uint32, peerX, ct []byte) error {
	if !s.hasKeys {
		return fmt.Errorf("%w: a step of epoch %d before this party's keys", ErrEpoch, e)
	}
	dh, err := x25519(s.myX[:], peerX)
	if err != nil {
		return err
	}
	dk, err := mlkem.NewDecapsulationKey768(s.myDK[:])
	if err != nil {
		panic("wire: " + err.Error())
	}
	ss, err := dk.Decapsulate(ct)
	if err != nil {
		return fmt.Errorf("%w: ML-KEM ciphertext: %v", ErrMalformed, err)
	}
	prev := s.rk
	s.rk, s.recvCK = stepKDF(&prev, e, dh, ss, peerX, ct)
	s.myX, s.myDK, s.hasKeys = [x25519Size]byte{}, [mlkemSeed]byte{}, false
	return nil
}

// x25519 computes a validated X25519 secret: crypto/ecdh rejects the
// all-zero result of a low-order point.
func x25519(priv, pub []byte) ([]byte, error) {
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		panic("wire: " + err.Error())
	}
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: X25519 key: %v", ErrMalformed, err)
	}
	dh, err := k.ECDH(p)
	if err != nil {
		return nil, fmt.Errorf("%w: X25519 key: %v", ErrMalformed, err)
	}
	return dh, nil
}

// String returns a placeholder: ratchet states are never printed.
func (RatchetState) String() string { return "wire.RatchetState{REDACTED}" }

// GoString returns a placeholder: ratchet states are never printed.
func (RatchetState) GoString() string { return "wire.RatchetState{REDACTED}" }

// Format prints the placeholder for every verb.
func (s RatchetState) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }
