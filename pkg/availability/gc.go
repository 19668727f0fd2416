package availability

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// Memberships, checks of batches, garbage collection and recovery.

// learnVoters records the voters of epoch, which ISS handed in a local
// event (trusted).
func (m *Module) learnVoters(epoch stdtypes.EpochNr, voters membership.Voters) {
	if epoch < m.low && epoch < m.latest {
		return
	}
	if _, ok := m.voters[epoch]; !ok {
		m.voters[epoch] = voters
	}
	m.latest = max(m.latest, epoch)
}

// votersOf returns the voters of epoch if this node knows them, else
// those of the latest epoch it knows.
func (m *Module) votersOf(epoch stdtypes.EpochNr) membership.Voters {
	if v, ok := m.voters[epoch]; ok {
		return v
	}
	return m.voters[m.latest]
}

// knownNode reports whether id is a voter of an epoch this node keeps.
func (m *Module) knownNode(id stdtypes.NodeID) bool {
	for _, v := range m.voters {
		if v.Contains(id) {
			return true
		}
	}
	return false
}

// errOutsideBuckets is what checkTxs reports of a transaction outside the
// batch's buckets.
var errOutsideBuckets = errors.New("outside the buckets")

// checkBuckets checks a list of buckets: 1 to MaxBuckets of them, each
// below MaxBuckets, increasing.
func (m *Module) checkBuckets(buckets []int) error {
	if len(buckets) == 0 || len(buckets) > m.params.MaxBuckets {
		return fmt.Errorf("%d buckets, want 1 to %d", len(buckets), m.params.MaxBuckets)
	}
	for i, b := range buckets {
		if b < 0 || b >= m.params.MaxBuckets || i > 0 && b <= buckets[i-1] {
			return fmt.Errorf("buckets %v: each must be below %d, and increasing", buckets, m.params.MaxBuckets)
		}
	}
	return nil
}

// checkTxs checks a batch against the size limits and, with BucketOf,
// its buckets; the reason says which check failed.
func (m *Module) checkTxs(txs []mempool.Tx, buckets []int) (reason, error) {
	if len(txs) == 0 {
		return rMalformed, errors.New("empty batch")
	}
	if len(txs) > m.params.MaxBatchTxs {
		return rOversize, fmt.Errorf("%d transactions, at most %d", len(txs), m.params.MaxBatchTxs)
	}
	total := 0
	for i, tx := range txs {
		n := len(tx.ClientID) + len(tx.Data)
		if n > m.params.MaxTxBytes {
			return rOversize, fmt.Errorf("transaction %d of %d bytes, at most %d", i, n, m.params.MaxTxBytes)
		}
		if total += n; total > m.params.MaxBatchBytes {
			return rOversize, fmt.Errorf("batch of more than %d bytes", m.params.MaxBatchBytes)
		}
		if m.params.BucketOf != nil {
			if _, ok := slices.BinarySearch(buckets, m.params.BucketOf(tx)); !ok {
				return rOutsideBuckets, fmt.Errorf("transaction %d: %w %v", i, errOutsideBuckets, buckets)
			}
		}
	}
	return 0, nil
}

// stableCheckpoint: "availability deletes a batch once a stable
// checkpoint covers ... the epoch it was certified in, after
// RetainedEpochs". At the checkpoint of epoch e it keeps the epochs from
// e+1-RetainedEpochs on: it truncates its WAL records below, then records
// the new low, so that a restart keeps it.
func (m *Module) stableCheckpoint(out *stdtypes.EventList, epoch stdtypes.EpochNr) {
	m.endEpochs(out, epoch)
	if uint64(epoch)+1 <= m.params.RetainedEpochs {
		return
	}
	low := epoch + 1 - stdtypes.EpochNr(m.params.RetainedEpochs)
	if low <= m.low {
		return
	}
	m.low = low
	for _, key := range slices.Sorted(maps.Keys(m.store)) {
		if b := m.store[key]; b.epoch < low {
			delete(m.store, key)
			m.counters.inc(rCollected)
			if b.leader != m.self {
				if m.perSender[b.leader]--; m.perSender[b.leader] == 0 {
					delete(m.perSender, b.leader)
				}
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(m.fetches)) {
		// No node needs the batch of a collected epoch: its slot is below a
		// stable checkpoint, which the batch fetcher skips too.
		if f := m.fetches[key]; f.cert.Epoch < low {
			m.endFetch(f)
		}
	}
	for e := range m.voters {
		if e < low && e != m.latest {
			delete(m.voters, e)
		}
	}
	for _, e := range slices.Sorted(maps.Keys(m.sigEpochs)) {
		if e < low {
			delete(m.sigEpochs, e)
			emit(out, reliablenet.NewCancelPrefix(m.mc.ReliableNet, m.mc.Self, reliablenet.MsgID(strconv.FormatUint(uint64(e), 10)+"/")))
		}
	}
	rec := &CollectedRecord{Header: stdtypes.NewHeader(m.mc.Self), Low: low}
	emit(out,
		wal.NewTruncate(m.mc.WAL, m.mc.Self, stdtypes.RetentionIndex(low)),
		wal.NewAppend(m.mc.WAL, rec, stdtypes.RetentionIndex(low)))
}

// endEpochs settles this node's proposals of the epochs up to epoch,
// whose checkpoint is stable: the batch fetcher forwards it once it asked
// for the transactions of every slot below it, so the epochs' slots are
// all delivered, and no orderer of them asks or proposes any more. A
// batch whose certificate an orderer took and the batch fetcher did not
// ask for was not delivered (its slot ended ⊥ after a view change): its
// transactions go back to the mempool, as do those of a batch kept after
// a cancellation. (A slot that a restored state skipped may have
// delivered one: the batch fetcher gave the mempool the state's executed
// transactions before, which it does not take back.)
func (m *Module) endEpochs(out *stdtypes.EventList, epoch stdtypes.EpochNr) {
	for _, key := range slices.Sorted(maps.Keys(m.proposed)) {
		if p := m.proposed[key]; p.epoch <= epoch {
			delete(m.proposed, key)
			m.counters.inc(rLost)
			m.returnTxs(out, p.txs)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.own)) {
		p := m.own[id]
		switch {
		case p.epoch > epoch:
			continue
		case p.digest == nil:
			m.cancelBatch(out, p)
		case p.cancelled || !p.answered:
			m.returnTxs(out, p.txs)
		}
		m.closeProposal(p)
	}
}

// recoverBatch: a batch the WAL hands back at a restart, before any
// input. The node stored it before it signed it; it keeps it and serves
// it again, and signs it again if its leader asks again.
func (m *Module) recoverBatch(ev *BatchRecord) {
	if ev.Epoch < m.low {
		return
	}
	key := string(BatchDigest(ev.Epoch, ev.Leader, ev.Buckets, ev.Txs))
	if _, ok := m.store[key]; ok {
		return
	}
	m.store[key] = &batch{epoch: ev.Epoch, leader: ev.Leader, buckets: ev.Buckets, txs: ev.Txs, persisted: true}
	if ev.Leader != m.self {
		m.perSender[ev.Leader]++
	}
}
