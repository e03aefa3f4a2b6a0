// Package live is dhtchat's live path: a libp2p host of its own over which
// two running clients exchange a chat's sealed messages and acks directly,
// in milliseconds, beside the DHT mailbox (docs/PROTOCOL.md §17,
// docs/LIVE.md).
//
// A [Host] is one process's live endpoint: a libp2p host with a fresh
// Ed25519 identity (never the DHT node's, see docs/LIVE.md), the circuit
// relay v2 client, AutoRelay through the user's relays and hole punching
// (DCUtR). The engine registers each chat with [Host.AddChat] and gets a
// [Chat]: the chat's sealed announcement, for its slot 0 record
// ([Chat.Announcement]), [Chat.Follow] to keep a stream to the friend's
// announced host up (or [Chat.Dial] for one attempt), and [Chat.Conns] for
// every new stream, followed or opened by the friend.
// Both kinds arrive as a [Conn]: Send and Ack write frames, Messages and
// Acks deliver what the friend sent, Done and Err report the end.
//
// A stream is accepted only from the peer the friend announced under the
// chat's keys, and only after each side proved, in its first frame, that
// it holds the chat's keys (a hello tag) and the peer ID it announced (a
// sealed announcement whose peer key equals the authenticated remote
// peer). Anyone else — a caller who knows an announcement but not the
// keys, an impostor with another peer ID — is reset without a word.
//
// What the package does not do is the engine's: ordering and exactly-once
// delivery across the live path and the DHT (skip what was received,
// deliver in order, ack), outbox and acks, and when to dial. Package live
// imports chat/wire and nothing of the engine.
//
// [NewRelay] runs a circuit relay v2 service on a host of its own, for
// `dhtchat node`.
package live
