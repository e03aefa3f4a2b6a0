package wire

// The pair conversation (docs/PROTOCOL.md §18): one chat per pair of
// friends whose identifier both derive from their pair key, so that no chat
// key has to travel between them.

// labelPairChat is the info of the pair conversation's identifier.
const labelPairChat = "dhtchat/v1 pair-chat"

// PairChatID returns the identifier of the pair conversation of the pair
// whose pair key is p: the chat that both parties find without a chat key.
//
//	pair_chat_id = HKDF(pair_key, salt = "", info = "dhtchat/v1 pair-chat")[:16]
//
// It is a chat identifier like a random one (every derivation of section 3
// applies to it), but it is secret: it comes from the pair key, so a DHT
// observer cannot compute it from the two public keys, and it differs from
// every random identifier except with probability 2^-128.
func PairChatID(p PairKey) ChatID {
	full := hkdf32(p.k[:], nil, labelPairChat)
	return ChatID(full[:16])
}

// PairChatKeys returns the keys of the pair conversation of the pair whose
// pair key is p: DeriveKeys(p, PairChatID(p)).
func PairChatKeys(p PairKey) *Keys {
	return DeriveKeys(p, PairChatID(p))
}

// IsPairChat reports whether id is the pair conversation's identifier for
// the pair key p, for a client that meets a chat key carrying it.
func IsPairChat(p PairKey, id ChatID) bool {
	return PairChatID(p) == id
}
