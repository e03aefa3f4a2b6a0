package dht

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	kad "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	kb "github.com/libp2p/go-libp2p-kbucket"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// Record format. Each record is a standard IPNS record (boxo/ipns), V1
// compatible so that pre-2023 DHT servers accept it too, whose value is
// ipns.NoopValue and whose signed DAG-CBOR data carries the payload as custom
// metadata under MetadataKey. DHT servers validate the signature, EOL and size
// and ignore the unknown field, as the IPNS spec requires.
const (
	// MetadataKey is the key of the payload in the record's signed DAG-CBOR
	// data. Custom keys start with "_", as the IPNS spec asks; it is short
	// because it is part of every record's 10 KiB budget.
	MetadataKey = "_d"
	// LiveKey is the key of the optional live-path announcement beside
	// the payload (docs/PROTOCOL.md §17): LiveSize opaque bytes that this
	// package carries without knowing what they mean. Readers that do not
	// know it ignore it, as the IPNS spec requires of unknown keys.
	LiveKey = "_l"
	// LiveSize is the only size of a live announcement that Put accepts
	// and Get returns (wire.SealedAnnouncementSize).
	LiveSize = 552
	// MaxPayloadLive is the largest payload Put accepts beside a live
	// announcement: the protocol's largest slot payload (9216 bytes) with
	// room to spare. The announcement costs its key and bytes and their
	// two CBOR heads (1 + 3 bytes); TestMaxPayloadLive checks it is exact.
	MaxPayloadLive = MaxPayload - LiveSize - len(LiveKey) - 4
	// RecordLifetime is how long after Put a record stays valid (its EOL).
	// It matches the 48 h for which DHT servers keep a record anyway
	// (ipns.DefaultRecordLifetime, amino.DefaultMaxRecordAge): a writer
	// must republish within that time whatever the EOL says.
	RecordLifetime = ipns.DefaultRecordLifetime
	// RecordTTL is the record's TTL, the time IPNS resolvers may cache it
	// before looking again. Records here change with every write, and Get
	// never caches, so it is short: it only tells other IPNS software (a
	// gateway, kubo's resolver) not to serve a stale copy for long.
	RecordTTL = time.Minute
	// MaxPayload is the largest payload Put accepts. It is what fits in
	// ipns.MaxRecordSize (10 KiB) with V1 compatibility on, for the longest
	// possible encoding of the other fields (the largest sequence number, an
	// EOL with nanoseconds); TestMaxPayload checks both that it fits and
	// that one more byte would not.
	MaxPayload = 9924
	// MaxSeq is the largest sequence number: IPNS carries it as a DAG-CBOR
	// integer, which boxo reads as an int64.
	MaxSeq = math.MaxInt64
)

// DefaultQuorum is Get's quorum: Get returns once
// more than this many peers have answered with a record, rather than after
// a full lookup (kad-dht's default, quorum 0). Put writes to the 20 closest
// peers and Select always keeps the highest sequence number, so a handful
// of answers from peers near the name is enough to see the newest record
// almost always; a poller sees anything missed on its next round. Small
// networks need no special case: with fewer answers than the quorum, the
// lookup simply runs to completion. (Put's and Get's time bounds are in
// Timeouts.)
const DefaultQuorum = 3

// More errors. They are wrapped with detail; test with errors.Is.
var (
	// ErrTooLarge means a payload does not fit in one record.
	ErrTooLarge = errors.New("dht: record too large")
	// ErrNotFound means no peer returned a valid record for the name.
	ErrNotFound = errors.New("dht: record not found")
	// ErrInvalidRecord means a record failed validation or does not carry
	// a payload.
	ErrInvalidRecord = errors.New("dht: invalid record")
	// ErrInvalidKey means a key is not a valid Ed25519 key.
	ErrInvalidKey = errors.New("dht: invalid Ed25519 key")
)

// Record is a record read back from the DHT.
type Record struct {
	// Seq is the record's sequence number.
	Seq uint64
	// Payload is the data given to Put.
	Payload []byte
	// EOL is when the record stops being valid.
	EOL time.Time
	// Live is the record's live announcement (LiveKey), if it carries one
	// of LiveSize bytes; nil otherwise (absent, or malformed: never a
	// reason to refuse the record).
	Live []byte
}

// Put publishes payload as the record of key's public key with sequence
// number seq, valid for RecordLifetime. It returns an error wrapping
// ErrTooLarge, before touching the network, if the payload exceeds
// MaxPayload.
//
// Put stores the record locally, looks up the 20 peers closest to the name
// and sends it to each, all in parallel. It returns once half of them
// stored it, or once every peer answered, or once ten answered and the
// peers yet to answer are slower than the rest by Timeouts.Slow; the sends still in flight go
// on in the background (bounded by Timeouts.Put, ended by Close), so that
// peers that vanished without closing their connections never hold the
// caller. The lookup leaves such peers behind the same way.
//
// Its nil error therefore means only that the lookup worked: a peer
// refuses a record whose sequence number is not higher than what it
// holds, and that is no error of Put's, so delivery can only be known by
// reading it back, or from the reader. Put fails if this node already
// holds a newer record for the key. It is bounded by Timeouts.Put. An
// empty routing table gives an error wrapping ErrNoPeers; a Node closed
// before or during the call, ErrClosed.
//
// Never reuse a sequence number with a different payload: peers holding the
// older record will keep it or not depending on its EOL and bytes.
func (n *Node) Put(ctx context.Context, key ed25519.PrivateKey, seq uint64, payload []byte) error {
	return n.PutLive(ctx, key, seq, payload, nil)
}

// PutLive is Put with a live announcement of LiveSize bytes stored beside
// the payload under LiveKey (none if live is nil); the payload is then
// bounded by MaxPayloadLive. Get returns it in Record.Live.
func (n *Node) PutLive(ctx context.Context, key ed25519.PrivateKey, seq uint64, payload, live []byte) error {
	n.stats.puts.Add(1)
	err := n.put(ctx, key, seq, payload, live)
	if err != nil {
		n.stats.putFailures.Add(1)
	}
	return err
}

func (n *Node) put(ctx context.Context, key ed25519.PrivateKey, seq uint64, payload, live []byte) error {
	data, pid, err := encodeRecordLive(key, seq, payload, live, time.Now())
	if err != nil {
		return err
	}
	ctx, done, err := n.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	name := nameOfID(pid)
	rk := routingKey(pid)
	putCtx, cancel := context.WithTimeout(ctx, n.timeouts.Put)
	defer cancel()
	start := time.Now()
	fail := func(err error) error {
		switch {
		case n.isClosing(ctx):
			err = ErrClosed
		case errors.Is(err, kb.ErrLookupFailure):
			// The routing table is empty: no peer to send it to.
			err = fmt.Errorf("%w: %w", ErrNoPeers, err)
		}
		return fmt.Errorf("dht: put %s seq %d: %w", name, seq, err)
	}
	// Stored here first, as kad-dht's PutValue does: Get finds it even
	// offline, and a server answers for it.
	rec := record.MakePutRecord(rk, data)
	if err := n.values.Put(putCtx, rk, rec); err != nil {
		if errors.Is(err, records.ErrOldRecord) {
			err = errors.New("this node holds a newer record for the name")
		}
		return fail(err)
	}
	peers, err := n.closestPeers(putCtx, rk)
	if err != nil {
		return fail(err)
	}
	if len(peers) == 0 {
		return fail(fmt.Errorf("%w: the lookup found none", ErrNoPeers))
	}
	stored, failed, err := n.sendRecord(putCtx, rec, peers)
	if err != nil {
		return fail(err)
	}
	n.log.Debug("put record", "name", name, "seq", seq, "bytes", len(data), "stored", stored, "of", len(peers),
		"took", time.Since(start).Round(time.Microsecond), "refused_or_failed", failed)
	return nil
}

// encodeRecord builds and marshals the signed IPNS record, and returns the
// peer ID that names it.
func encodeRecord(key ed25519.PrivateKey, seq uint64, payload []byte, now time.Time) ([]byte, peer.ID, error) {
	return encodeRecordLive(key, seq, payload, nil, now)
}

// encodeRecordLive is encodeRecord with a live announcement under LiveKey
// if live is not nil.
func encodeRecordLive(key ed25519.PrivateKey, seq uint64, payload, live []byte, now time.Time) ([]byte, peer.ID, error) {
	limit := MaxPayload
	if live != nil {
		if len(live) != LiveSize {
			return nil, "", fmt.Errorf("dht: live announcement is %d bytes, want %d", len(live), LiveSize)
		}
		limit = MaxPayloadLive
	}
	if len(payload) > limit {
		return nil, "", fmt.Errorf("%w: payload is %d bytes, at most %d fit", ErrTooLarge, len(payload), limit)
	}
	if seq > MaxSeq {
		return nil, "", fmt.Errorf("dht: sequence number %d out of range (max %d)", seq, uint64(MaxSeq))
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, "", fmt.Errorf("%w: private key is %d bytes, want %d", ErrInvalidKey, len(key), ed25519.PrivateKeySize)
	}
	// The copy keeps the libp2p key from aliasing the caller's slice.
	sk, err := crypto.UnmarshalEd25519PrivateKey(bytes.Clone(key))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	pid, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	value, err := path.NewPath(ipns.NoopValue)
	if err != nil {
		return nil, "", fmt.Errorf("dht: %w", err)
	}
	if payload == nil {
		payload = []byte{}
	}
	md := map[string]any{MetadataKey: payload}
	if live != nil {
		md[LiveKey] = live
	}
	rec, err := ipns.NewRecord(sk, value, seq, now.Add(RecordLifetime), RecordTTL,
		ipns.WithV1Compatibility(true),
		ipns.WithMetadata(md))
	if err != nil {
		return nil, "", fmt.Errorf("dht: build record: %w", err)
	}
	data, err := ipns.MarshalRecord(rec)
	if err != nil {
		return nil, "", fmt.Errorf("dht: marshal record: %w", err)
	}
	// MaxPayload is computed for the worst case, so this cannot happen; it
	// guards against a change in boxo's encoding.
	if len(data) > ipns.MaxRecordSize {
		return nil, "", fmt.Errorf("%w: record is %d bytes, the limit is %d", ErrTooLarge, len(data), ipns.MaxRecordSize)
	}
	return data, pid, nil
}

// GetOption changes how Get searches. The options (another quorum,
// another bound) serve the tests, which ask for a full lookup or a shorter
// wait: they are defined in export_test.go, and the engine calls Get
// without any.
type GetOption func(*getOptions)

type getOptions struct {
	quorum  int
	timeout time.Duration
}

// Get fetches the best record for the name of pub: the one with the highest
// sequence number (then the latest EOL) among the valid records that peers
// returned. It validates it again with ipns.ValidateWithName (signature
// against the name, EOL, size) and returns its sequence number, payload and
// EOL.
//
// Get returns once more than DefaultQuorum peers answered with a record,
// or once the lookup is done, or once ten peers answered and those yet to
// answer are slower than the rest by Timeouts.Slow (see Timeouts), or at
// Timeouts.Get:
// whichever comes first.
//
// It returns an error wrapping ErrNotFound if no peer had a valid record,
// including when the time ran out before any was found (the error then also
// wraps context.DeadlineExceeded); ErrNoPeers if the routing table is empty;
// ErrInvalidRecord if the record carries no payload; ErrClosed if the Node
// was closed before or during the call.
func (n *Node) Get(ctx context.Context, pub ed25519.PublicKey, opts ...GetOption) (Record, error) {
	n.stats.gets.Add(1)
	rec, err := n.get(ctx, pub, opts...)
	if err != nil {
		n.stats.getFailures.Add(1)
		if errors.Is(err, ErrNotFound) {
			n.stats.getNotFound.Add(1)
		}
	}
	return rec, err
}

func (n *Node) get(ctx context.Context, pub ed25519.PublicKey, opts ...GetOption) (Record, error) {
	o := getOptions{quorum: DefaultQuorum, timeout: n.timeouts.Get}
	for _, opt := range opts {
		opt(&o)
	}
	pid, err := peerID(pub)
	if err != nil {
		return Record{}, err
	}
	ctx, done, err := n.begin(ctx)
	if err != nil {
		return Record{}, err
	}
	defer done()
	name := nameOfID(pid)
	getCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	start := time.Now()
	lookupCtx, stalled, stop := n.watchLookup(getCtx)
	data, err := n.kad.GetValue(lookupCtx, routingKey(pid), kad.Quorum(o.quorum))
	stop()
	cut := err != nil && stalled() && getCtx.Err() == nil
	switch {
	case err == nil:
	case n.isClosing(ctx):
		return Record{}, fmt.Errorf("dht: get %s: %w", name, ErrClosed)
	case ctx.Err() != nil:
		// The caller gave up: that is not "not found".
		return Record{}, fmt.Errorf("dht: get %s: %w", name, ctx.Err())
	case data != nil && (getCtx.Err() != nil || cut):
		// Our own timeout hit, or the peers yet to answer are silent,
		// after a valid record arrived: use the best one found, as a
		// quorum would have.
		n.log.Debug("get ended early, using best record found", "name", name, "stalled", cut)
	case cut:
		return Record{}, fmt.Errorf("%w: %s: none of the peers that answered had it", ErrNotFound, name)
	case getCtx.Err() != nil:
		return Record{}, fmt.Errorf("%w: %s: nothing found within %v: %w", ErrNotFound, name, o.timeout, getCtx.Err())
	case errors.Is(err, kb.ErrLookupFailure):
		return Record{}, fmt.Errorf("%w: get %s: %w", ErrNoPeers, name, err)
	case errors.Is(err, routing.ErrNotFound) && n.PeerCount() == 0:
		// kad-dht drops the lookup's own error (kb.ErrLookupFailure when
		// the routing table is empty) and reports "not found"; an offline
		// node must not tell the caller that nobody wrote the record.
		return Record{}, fmt.Errorf("%w: get %s: routing table is empty", ErrNoPeers, name)
	case errors.Is(err, routing.ErrNotFound):
		return Record{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	default:
		return Record{}, fmt.Errorf("dht: get %s: %w", name, err)
	}
	rec, err := decodeRecord(data, pid)
	if err != nil {
		return Record{}, fmt.Errorf("dht: get %s: %w", name, err)
	}
	n.log.Debug("got record", "name", name, "seq", rec.Seq, "bytes", len(data), "quorum", o.quorum,
		"took", time.Since(start).Round(time.Microsecond))
	return rec, nil
}

// decodeRecord parses and validates a marshalled IPNS record named by pid and
// extracts its payload.
func decodeRecord(data []byte, pid peer.ID) (Record, error) {
	rec, err := ipns.UnmarshalRecord(data)
	if err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	if err := ipns.ValidateWithName(rec, ipns.NameFromPeer(pid)); err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	seq, err := rec.Sequence()
	if err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	eol, err := rec.Validity()
	if err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	md, err := rec.Metadata(MetadataKey)
	if err != nil {
		return Record{}, fmt.Errorf("%w: no payload: %w", ErrInvalidRecord, err)
	}
	payload, err := md.AsBytes()
	if err != nil {
		return Record{}, fmt.Errorf("%w: payload is %s, not bytes", ErrInvalidRecord, md.Kind())
	}
	out := Record{Seq: seq, Payload: payload, EOL: eol}
	// The live announcement is optional and never fails the record: a
	// malformed one is as if absent.
	if lv, err := rec.Metadata(LiveKey); err == nil {
		if b, err := lv.AsBytes(); err == nil && len(b) == LiveSize {
			out.Live = b
		}
	}
	return out, nil
}

func nameOfID(pid peer.ID) string { return ipns.NamespacePrefix + pid.String() }

func routingKey(pid peer.ID) string { return string(ipns.NameFromPeer(pid).RoutingKey()) }

func peerID(pub ed25519.PublicKey) (peer.ID, error) {
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("%w: public key is %d bytes, want %d", ErrInvalidKey, len(pub), ed25519.PublicKeySize)
	}
	pk, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	pid, err := peer.IDFromPublicKey(pk)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return pid, nil
}
