package chat

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// ChatID identifies a chat in a Client's database: a handle for the chat
// (friend, wire.ChatID), which nothing in the protocol uses. The
// protocol's wire.ChatID is unique only per pair of parties; use
// [Client.ChatWithKey] to find the chat a chat key names.
//
// It is derived from both parties' public keys and the wire.ChatID (see
// localChatID), so both friends' clients name a chat alike, joining a chat
// twice finds it, and another friend's chat with the same wire.ChatID has
// another ChatID. Chats stored before dhtchat told (friend, wire.ChatID)
// apart kept their wire.ChatID as their ChatID.
type ChatID [16]byte

// String returns the identifier in lower-case hex.
func (id ChatID) String() string { return hex.EncodeToString(id[:]) }

// labelLocalID prefixes what localChatID hashes. It is not part of the
// protocol: changing it would only change the IDs of chats created since.
const labelLocalID = "dhtchat local chat id"

// localChatID is the ChatID of the chat with wire.ChatID id between the
// parties with public keys a and b (in either order):
//
//	SHA-256("dhtchat local chat id" || pk_lo || pk_hi || id)[:16]
//
// Finding another pair's chat with the same ChatID is a second preimage
// of SHA-256 truncated to 128 bits.
func localChatID(a, b [32]byte, id wire.ChatID) ChatID {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	h := sha256.New()
	h.Write([]byte(labelLocalID))
	h.Write(a[:])
	h.Write(b[:])
	h.Write(id[:])
	return ChatID(h.Sum(nil)[:16])
}
