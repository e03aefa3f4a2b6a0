package wire

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
)

// Welcomes (docs/PROTOCOL.md §24.3): a member's whole log, for a member
// it distributes to for the first time, in as many control bodies as it
// takes.
const (
	welcomeType = 0x02
	// MaxWelcomeParts bounds the bodies of one welcome.
	MaxWelcomeParts = 64
	labelG1Welcome  = "dhtchat/g1 welcome"
	welcomeHeadSize = 1 + 16 + 32 + 1 + 1                    // type, group, digest, index, count
	maxWelcomeBytes = (MaxBody - len(prefixWelcome)) / 4 * 3 // 5988 bytes in one body
	maxWelcomeChunk = maxWelcomeBytes - welcomeHeadSize      // 5937
	minOpEntry      = 2 + opHeadSize                         // u16 len, the smallest operation
	welcomeLogHead  = 4                                      // u32 count
)

// WelcomePart is one body of a welcome: which group, the digest of the
// whole log, its place among the parts, and its bytes of the log.
type WelcomePart struct {
	Group  GroupID
	Digest [32]byte
	Index  int
	Count  int
	chunk  []byte
}

// welcomeDigest binds the parts of one log together:
// SHA-256("dhtchat/g1 welcome" || log).
func welcomeDigest(log []byte) [32]byte {
	return sha256.Sum256(append([]byte(labelG1Welcome), log...))
}

// WelcomeBodies returns the control bodies of a welcome to group g: the
// log u32(count) || count × (u16(len) || operation), cut into parts of
// 5937 bytes (the last shorter), each in its own body. Send them all;
// the receiver reassembles them in any order (AssembleWelcome).
func WelcomeBodies(g GroupID, ops []GroupOp) ([]string, error) {
	log := binary.BigEndian.AppendUint32(nil, uint32(len(ops)))
	for i := range ops {
		enc, err := ops[i].Encode()
		if err != nil {
			return nil, err
		}
		if ops[i].Group != g {
			return nil, fmt.Errorf("wire: welcome: operation %d is of group %v, not %v", i, ops[i].Group, g)
		}
		log = append(binary.BigEndian.AppendUint16(log, uint16(len(enc))), enc...)
	}
	count := (len(log) + maxWelcomeChunk - 1) / maxWelcomeChunk
	if count > MaxWelcomeParts {
		return nil, fmt.Errorf("wire: welcome: a log of %d bytes needs %d bodies, at most %d", len(log), count, MaxWelcomeParts)
	}
	digest := welcomeDigest(log)
	bodies := make([]string, count)
	for i := range bodies {
		chunk := log[i*maxWelcomeChunk : min(len(log), (i+1)*maxWelcomeChunk)]
		b := append([]byte{welcomeType}, g[:]...)
		b = append(append(b, digest[:]...), byte(i), byte(count))
		bodies[i] = prefixWelcome + base64.RawStdEncoding.EncodeToString(append(b, chunk...))
	}
	return bodies, nil
}

// ParseWelcomePart parses one welcome body: exactly one encoding (parts
// before the last are full, the last is not empty).
func ParseWelcomePart(body string) (WelcomePart, error) {
	b, err := controlBytes(body, prefixWelcome, "welcome")
	if err != nil {
		return WelcomePart{}, err
	}
	if len(b) <= welcomeHeadSize || len(b) > maxWelcomeBytes || b[0] != welcomeType {
		return WelcomePart{}, fmt.Errorf("%w: welcome part of %d bytes", ErrMalformed, len(b))
	}
	p := WelcomePart{Index: int(b[49]), Count: int(b[50]), chunk: b[welcomeHeadSize:]}
	copy(p.Group[:], b[1:])
	copy(p.Digest[:], b[17:])
	switch {
	case p.Count < 1 || p.Count > MaxWelcomeParts || p.Index >= p.Count:
		return WelcomePart{}, fmt.Errorf("%w: welcome part %d of %d", ErrMalformed, p.Index, p.Count)
	case p.Index < p.Count-1 && len(p.chunk) != maxWelcomeChunk:
		return WelcomePart{}, fmt.Errorf("%w: welcome part %d of %d is not full", ErrMalformed, p.Index, p.Count)
	}
	return p, nil
}

// Body returns the part's body again.
func (p *WelcomePart) Body() string {
	b := append([]byte{welcomeType}, p.Group[:]...)
	b = append(append(b, p.Digest[:]...), byte(p.Index), byte(p.Count))
	return prefixWelcome + base64.RawStdEncoding.EncodeToString(append(b, p.chunk...))
}

// AssembleWelcome joins the parts of one welcome (any order, duplicates
// allowed) and parses the log: every part of 0…Count−1 must be there,
// with one group and one digest, and the log must hash to it and hold
// only operations of that group. The new member runs Converge on the
// union of its welcomes and checks that it is a member; the log is as
// its sender gives it (the operations of others are not signed).
func AssembleWelcome(parts []WelcomePart) ([]GroupOp, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no welcome parts", ErrTruncated)
	}
	first := parts[0]
	chunks := make([][]byte, first.Count)
	for _, p := range parts {
		if p.Group != first.Group || p.Digest != first.Digest || p.Count != first.Count || p.Index >= len(chunks) {
			return nil, fmt.Errorf("%w: parts of different welcomes", ErrMismatch)
		}
		chunks[p.Index] = p.chunk
	}
	if i := slices.IndexFunc(chunks, func(c []byte) bool { return c == nil }); i >= 0 {
		return nil, fmt.Errorf("%w: welcome part %d of %d missing", ErrTruncated, i, len(chunks))
	}
	log := slices.Concat(chunks...)
	if welcomeDigest(log) != first.Digest {
		return nil, fmt.Errorf("%w: welcome parts do not hash to their digest", ErrMismatch)
	}
	return parseWelcomeLog(first.Group, log)
}

// parseWelcomeLog parses an assembled log: operations of group g only,
// nothing after them.
func parseWelcomeLog(g GroupID, log []byte) ([]GroupOp, error) {
	if len(log) < welcomeLogHead {
		return nil, fmt.Errorf("%w: welcome log of %d bytes", ErrTruncated, len(log))
	}
	count := int(binary.BigEndian.Uint32(log))
	rest := log[welcomeLogHead:]
	if count > len(rest)/minOpEntry {
		return nil, fmt.Errorf("%w: %d operations in %d bytes", ErrMalformed, count, len(rest))
	}
	ops := make([]GroupOp, 0, count)
	for j := range count {
		if len(rest) < 2 || len(rest) < 2+int(binary.BigEndian.Uint16(rest)) {
			return nil, fmt.Errorf("%w: welcome operation %d", ErrTruncated, j)
		}
		size := int(binary.BigEndian.Uint16(rest))
		op, err := ParseGroupOp(rest[2 : 2+size])
		if err != nil {
			return nil, fmt.Errorf("welcome operation %d: %w", j, err)
		}
		if op.Group != g {
			return nil, fmt.Errorf("%w: welcome operation %d of group %v in a welcome to %v", ErrMalformed, j, op.Group, g)
		}
		ops, rest = append(ops, op), rest[2+size:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the welcome's operations", ErrMalformed, len(rest))
	}
	return ops, nil
}
