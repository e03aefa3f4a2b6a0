// Package wire is the dhtchat conversation protocol as pure functions: how
// two parties turn their X25519 keys into the keys and DHT names of their
// chats, how a message is sealed, and how a party's messages are laid out
// in its slot records (IPNS records in the DHT) and read back. It is the
// reference implementation of docs/PROTOCOL.md, and what a second client
// reads beside that document: derive.go is its §2–3 (directions and
// derivations), chatkey.go §4 (the chat key), message.go §5 (sealing),
// slot.go §6 (the slot record codec) and errors.go the rejections of §6.4
// and §7. The test vectors at the end of the document
// are checked by this package's tests against the document itself.
//
// The pieces, in the order a conversation uses them:
//
//   - [DerivePairKey] turns the raw X25519 shared secret of two parties into
//     their [PairKey]; [DirectionOf] tells a party which of the two
//     [Direction]s it writes.
//   - [NewChatKey] makes a fresh random [ChatID] and its [ChatKey], the text
//     that `start` prints and `respond` takes ([ParseChatKey]).
//     [ChatKey.Keys] checks that the chat key was made for this pair and
//     derives the chat's [Keys]: a message key per direction and an Ed25519
//     signing key per slot (the slot's IPNS name is that key's name).
//     [DeriveKeys] and [ChatKeyFor] do the same, unchecked, for a chat the
//     caller already knows.
//   - [Keys.Seal] and [Keys.Open] seal and open one [Message].
//   - [Pack] decides which sealed messages fit into which slot (slot 0
//     gets the oldest), [Keys.EncodeSlot] builds a slot's record payload
//     and [Keys.DecodeSlot] checks and opens one; [SlotHeader.CheckSeq]
//     rejects rolled-back and replayed records, and [SlotHeader.WantsSlot]
//     tells a reader which further slots to fetch. A reader delivers each
//     message once, in order: those numbered one above what it has
//     received, in turn.
//   - The live path (live.go, §17): [Keys.SealAnnouncement] and
//     [Keys.OpenAnnouncement] seal and open where a party's live host can
//     be reached ([Announcement]), [Keys.HelloTag] names the chat in a
//     stream's first frame, and [AppendLiveFrame], [LiveFrameLen] and
//     [DecodeLiveFrame] are the frames of a /dhtchat/live/1 stream.
//   - Pair conversations and invites (pair.go, invite.go, §18–22):
//     [PairChatID] and [PairChatKeys] give the chat that two friends find
//     with no chat key; [NewInvite], [Invite.Text] and [ParseInvite] are
//     the "dhtchat-invite1…" string; [Invite.Rendezvous] derives the keys
//     of the rendezvous record, in which the acceptor's
//     [RendezvousKeys.SealAcceptance] puts its public key for the
//     inviter's [RendezvousKeys.OpenAcceptance]; [RendezvousKeys.SealUsed]
//     and [RendezvousKeys.SealCancelled] close the invite, and
//     [RendezvousKeys.OpenRecord] lets an acceptor see why.
//
// The package does no I/O, reads no clock and keeps no state. Time is a
// parameter (a message's SentAt, chosen by the caller); the only
// randomness is crypto/rand, for nonces and new chat identifiers. The
// caller (package chat, the engine) persists everything else: the outbox,
// the sequence number of each slot it writes, the highest accepted
// sequence number of each slot it reads, and how many messages it has
// received. It imports nothing of dhtchat but internal helpers (a test
// enforces it): no store, no DHT.
//
// Every parser of untrusted bytes returns a typed error (the Err*
// variables, compared with errors.Is, and [UnknownVersionError]) and never
// panics or returns partial results. Secret-holding types ([PairKey],
// [Keys], [Invite], [RendezvousKeys]) format as a redacted placeholder
// whatever the verb.
//
// [MessagePlaintext], [Keys.SealPlaintext] and [Keys.EncodeSlotUnchecked]
// are the unchecked halves of Seal and EncodeSlot. A client never needs
// them; they build the authentic but invalid records that a reader's
// tests feed it.
//
// Protocol version 1's labels contain "dhtchat/v1" and a version byte
// leads every message plaintext and slot record, so a record of another
// version is rejected with an [UnknownVersionError], never misread.
//
// Version 2 sits beside it (docs/PROTOCOL.md §10–16): a hybrid double
// ratchet in which every step mixes a fresh X25519 secret and a fresh
// ML-KEM-768 secret, one-way message chains, per-epoch header keys and
// per-epoch slot names whose signing keys only the writer holds, and
// records of one size. v2kdf.go is its key schedule (§11), v2ratchet.go
// the ratchet (§12), v2message.go its messages (§13), v2slot.go its
// records (§14) and v2state.go the stored state (§15). A
// [RatchetState] is a value: [NewRatchetState] starts one,
// [RatchetState.Seal] seals a message into a [Frame] for the outbox,
// [PackV2] and [RatchetState.EncodeSlot] make the records of the current
// epoch (signed with [RatchetState.SlotSigningKey]), and
// [RatchetState.DecodeSlot] reads a record of one of the epochs that
// [RatchetState.Watches] lists, making the ratchet steps. Each returns a
// new state and leaves the old one as it was; the caller stores the new
// one ([RatchetState.Marshal]) with what it belongs to. Version 2 draws
// randomness only from an io.Reader the caller passes (nil: crypto/rand).
//
// Groups build on version 2 (docs/PROTOCOL.md §24–26): group.go has the
// ids ([DeriveGroupID], [MemberID], [GroupPairChatID]) and the
// membership operations ([GroupOp], [NewCreateOp], [ParseGroupOp]);
// groupstate.go the state machine ([GroupState.Apply] rejects what its
// proposer may not do) and [Converge], the one order that makes members
// agree whatever order operations arrived in; groupchain.go the sender
// keys ([NewSenderKey], [SenderKey.Rotate], [SenderKey.SealText],
// [SenderKey.SealOp]) and the chains that read them ([NewReceiverChain],
// [ReceiverChain.Open]); groupcontrol.go the bodies that travel over the
// pairwise sessions ([SenderKeyDistribution.Body],
// [ParseSenderKeyDistribution]) and groupwelcome.go the log for a new
// member ([WelcomeBodies], [ParseWelcomePart], [AssembleWelcome]);
// groupslot.go the records ([PackGroup], [SenderKey.EncodeSlot],
// [ReceiverChain.DecodeSlot]); groupstore.go their stored forms. They are
// values, as RatchetState is.
package wire
