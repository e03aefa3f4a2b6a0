// Package chat is the dhtchat conversation protocol: the pure, deterministic
// core that turns two X25519 public keys and their Diffie-Hellman secret into
// everything a chat needs, and the byte formats that travel through the DHT.
//
// The pieces, in the order a conversation uses them:
//
//   - [DerivePairKey] turns the raw X25519 shared secret of two parties into
//     their [PairKey]; [DirectionOf] tells a party which of the two
//     [Direction]s it writes.
//   - [NewChatKey] makes a fresh random chat identifier and its [ChatKey],
//     the text that `start` prints and `respond` takes ([ParseChatKey]).
//     [ChatKey.Keys] checks that the chat key was made for this pair and
//     derives the chat's [Keys]: a message key per direction and an Ed25519
//     signing key per slot (the slot's IPNS name is that key's name).
//   - [Keys.Seal] and [Keys.Open] seal and open one message.
//   - [Pack] decides which sealed messages fit into which slot (slot 0
//     gets the oldest), [Keys.EncodeSlot] builds a slot's record payload
//     and [Keys.DecodeSlot] checks and opens one; [SlotHeader.CheckSeq]
//     rejects rolled-back and replayed records, and [SlotHeader.WantsSlot] tells a reader
//     which further slots to fetch. A reader delivers each message once,
//     in order: those numbered one above what it has received, in turn.
//
// The package keeps no state: the caller (the engine) persists the
// outbox, the per-slot sequence numbers, the highest accepted sequence
// number of each slot it reads, and the number of messages received.
//
// docs/PROTOCOL.md in the repository specifies all of it byte for byte, with
// test vectors that this package's tests check against the document itself.
//
// The package does no I/O and prints nothing. Secret-holding types
// ([PairKey], [Keys]) format as a redacted placeholder whatever the verb.
// Every parser of untrusted bytes returns a typed error (see the Err*
// variables and [UnknownVersionError]) and never panics or returns partial
// results.
package wire
