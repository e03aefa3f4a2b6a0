package dht

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	recpb "github.com/libp2p/go-libp2p-record/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// putQuorum is how many of the closest peers must have stored a record
// before Put returns; the PUT_VALUEs to the others go on in the
// background. kad-dht's PutValue waits for all 20, so that one silent
// peer holds it for kad-dht's 10 s request timeout.
//
// Half of the 20: a Get returns after DefaultQuorum+1 = 4 answers with
// a record, old or new, so while only these hold the new one (the rest
// still in flight, or cut off when a one-shot command closes its node),
// the chance that a reader's four answers all carry an older record is
// C(10,4)/C(20,4) ≈ 4 %, against 10 % with 8; the poll after sees it.
const putQuorum = bucketSize / 2

// lookupMajority is how many peers must have answered a lookup before
// watchLookup may cut it: the silent ones left behind are then a
// minority, and what the lookup found is what a complete one would have
// found but for them. A lookup in a network smaller than that is never
// cut: there every peer's answer counts (a reader that missed the one
// server holding the newest record would publish under a stale sequence
// number), and kad-dht's own timeouts are all that bound it.
const lookupMajority = bucketSize / 2

// watchLookup returns a context for one kad-dht lookup under ctx, which
// is cancelled once the lookup stalls: lookupMajority peers answered, and
// then no peer answered for Timeouts.Slow or for twice the slowest answer
// so far, whichever is longer. kad-dht ends a lookup only when the closest peers
// it heard of have answered or failed, and then asks the 20 closest once
// more and waits for all of them; a peer that accepts the request and
// never answers holds both for kad-dht's 10 s request timeout. Cancelled,
// kad-dht's lookups return what they found so far.
//
// stalled reports whether the watch cancelled the lookup; stop must be
// called when the lookup has returned.
func (n *Node) watchLookup(ctx context.Context) (_ context.Context, stalled func() bool, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ectx, events := routing.RegisterForQueryEvents(ctx)
	var (
		cut atomic.Bool
		wg  sync.WaitGroup
	)
	wg.Go(func() {
		timer := time.NewTimer(0)
		timer.Stop()
		defer timer.Stop()
		asked := make(map[peer.ID]time.Time)
		var slowest time.Duration
		answers := 0
		// events is closed once ctx is done: drain it until then, for
		// kad-dht blocks on a full channel.
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					return
				}
				switch ev.Type {
				case routing.SendingQuery:
					asked[ev.ID] = time.Now()
				case routing.PeerResponse, routing.QueryError:
					if t, ok := asked[ev.ID]; ok {
						slowest = max(slowest, time.Since(t))
						delete(asked, ev.ID)
					}
					if ev.Type == routing.PeerResponse {
						answers++
					}
					if answers >= lookupMajority {
						timer.Reset(max(n.timeouts.Slow, 2*slowest))
					}
				}
			case <-timer.C:
				n.log.Debug("lookup stalled: leaving silent peers behind", "waiting_for", len(asked))
				cut.Store(true)
				cancel()
			}
		}
	})
	return ectx, cut.Load, func() {
		cancel()
		wg.Wait()
	}
}

// closestPeers returns the peers closest to key, as kad-dht's
// GetClosestPeers finds them, but without waiting for peers that do not
// answer (see watchLookup).
func (n *Node) closestPeers(ctx context.Context, key string) ([]peer.ID, error) {
	lctx, stalled, stop := n.watchLookup(ctx)
	peers, err := n.kad.GetClosestPeers(lctx, key)
	stop()
	if err != nil && stalled() && ctx.Err() == nil && len(peers) > 0 {
		return peers, nil
	}
	return peers, err
}

// sendRecord sends rec to peers, all in parallel, and returns how many
// stored it once putQuorum of them have, once every peer answered, or once
// lookupMajority answered and the others are slow: no answer for
// Timeouts.Slow, or for as long as the sends had taken when the last
// answer came, whichever is longer. (With fewer peers than
// lookupMajority, it waits for every one of them.) The
// sends still in flight go on in the background, each bounded by
// Timeouts.Put and ended by Close. A peer stores a record when it
// validates and is newer than what the peer holds; the refusals and
// failures of the others are returned joined, for the log. Only the end
// of ctx makes it fail.
func (n *Node) sendRecord(ctx context.Context, rec *recpb.Record, peers []peer.ID) (stored int, failed, err error) {
	type result struct {
		p   peer.ID
		err error
	}
	// Buffered for every peer: a send that finishes after sendRecord
	// returned never blocks.
	results := make(chan result, len(peers))
	for _, p := range peers {
		n.background(n.timeouts.Put, func(ctx context.Context) {
			results <- result{p, n.pm.PutValue(ctx, p, rec)}
		})
	}
	start := time.Now()
	timer := time.NewTimer(0)
	timer.Stop()
	defer timer.Stop()
	want := min(putQuorum, len(peers))
	answered := 0
	var errs []error
wait:
	for stored < want && answered < len(peers) {
		select {
		case r := <-results:
			answered++
			if r.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.p, r.err))
			} else {
				stored++
			}
			if answered >= lookupMajority {
				timer.Reset(max(n.timeouts.Slow, time.Since(start)))
			}
		case <-timer.C:
			n.log.Debug("put: leaving slow peers behind", "stored", stored, "answered", answered, "of", len(peers))
			break wait
		case <-ctx.Done():
			return stored, errors.Join(errs...), ctx.Err()
		}
	}
	return stored, errors.Join(errs...), nil
}
