package trantortest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// Load is an open-loop workload: Txs transactions of PayloadBytes random
// bytes from Clients clients, submitted at Rate per second of simulated
// time from Start, to every node (or to the nodes To). Like a client, the
// load submits again, every Retry (if positive), the transactions no node
// has executed yet.
type Load struct {
	Clients, Txs, PayloadBytes int
	Rate                       float64
	Start, Retry               time.Duration
	To                         []stdtypes.NodeID
}

// DefaultLoad is the workload of the fault scenarios: 4 clients, 300
// transactions at 150 per second, for 2 s of simulated time. (At such a
// rate most batches hold one transaction: the cost of a run is that of
// the batches' and certificates' signatures, real Ed25519 ones.)
var DefaultLoad = Load{Clients: 4, Txs: 300, PayloadBytes: 32, Rate: 150, Start: time.Millisecond, Retry: 500 * time.Millisecond}

// DefaultLimit bounds the simulated time of a wait (Config.Limit).
const DefaultLimit = 60 * time.Second

// Schedule submits the load, with payloads drawn from seed, and returns
// its transactions' IDs.
func (s *System) Schedule(l Load, seed uint64) []mempool.TxID {
	r := rand.New(rand.NewPCG(seed, 2))
	txs := make([]mempool.Tx, l.Txs)
	ids := make([]mempool.TxID, l.Txs)
	for i := range txs {
		data := make([]byte, l.PayloadBytes)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		txs[i] = mempool.Tx{TxID: mempool.TxID{ClientID: fmt.Sprintf("c%d", i%l.Clients), TxNo: uint64(i / l.Clients)}, Data: data}
		ids[i] = txs[i].TxID
	}
	for i := range txs {
		at := l.Start + time.Duration(float64(i)/l.Rate*float64(time.Second))
		s.Sim().At(at, func() { s.submit(l.To, txs[i:i+1]) })
	}
	var retry func()
	retry = func() {
		var left []mempool.Tx
		for _, tx := range txs {
			if !s.Checker.IsExecuted(tx.TxID) {
				left = append(left, tx)
			}
		}
		if len(left) > 0 {
			s.submit(l.To, left)
			s.Sim().After(l.Retry, retry)
		}
	}
	if l.Retry > 0 {
		end := l.Start + time.Duration(float64(l.Txs)/l.Rate*float64(time.Second))
		s.Sim().At(end+l.Retry, retry)
	}
	return ids
}

// submit hands txs to the mempools of the nodes to (every node if nil), as
// their client servers would.
func (s *System) submit(to []stdtypes.NodeID, txs []mempool.Tx) {
	if to == nil {
		to = s.Nodes()
	}
	for _, id := range to {
		// A node that is down misses them, as a client's message to a
		// crashed node is lost: the retries reach it later.
		_ = s.Submit(id, &mempool.NewTxs{Header: stdtypes.NewHeader(trantor.MempoolID), Txs: txs})
	}
}

// Run submits the load and waits until every node in want (all the
// voters of epoch 0 if none) has executed it (or restored a state that
// holds it), then checks that their Apps' snapshots are equal.
func (s *System) Run(l Load, seed uint64, want ...stdtypes.NodeID) error {
	ids := s.Schedule(l, seed)
	return s.WaitExecuted(ids, want...)
}

// WaitExecuted waits until every node in want (all the voters of epoch 0
// if none) has executed the transactions ids (or restored a state that
// holds them), then checks that their Apps' snapshots are equal.
func (s *System) WaitExecuted(ids []mempool.TxID, want ...stdtypes.NodeID) error {
	if len(want) == 0 {
		want = s.Voters()
	}
	if err := s.WaitFor(s.Checker.DoneFunc(ids, want), s.limit); err != nil {
		return fmt.Errorf("%w: reached %v; not executed anywhere: %v", err, s.Checker.Reached(), s.Checker.Missing(ids))
	}
	return s.SameState(want...)
}

// SameState checks that the Apps of nodes return the same snapshot.
func (s *System) SameState(nodes ...stdtypes.NodeID) error {
	var first []byte
	for i, id := range nodes {
		st, _, err := s.apps[id].Snapshot()
		if err != nil {
			return fmt.Errorf("node %s: snapshot: %w", id, err)
		}
		if i == 0 {
			first = st
		} else if !bytes.Equal(st, first) {
			return fmt.Errorf("node %s's application state differs from node %s's", id, nodes[0])
		}
	}
	return nil
}
