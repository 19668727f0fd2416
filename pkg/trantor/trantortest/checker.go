package trantortest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// Checker is the property a System checks on every event: the nodes
// execute the same transactions, with the same results, in the same
// order, each once. It records, for the whole deployment, the digest of
// each slot executed (its epoch, transactions and results) and the slot
// of each transaction; and for each node's current incarnation the slot
// it restored (a state transfer, or its restart from a checkpoint) and
// the last slot it executed.
//
// A violation is:
//   - a slot a node executes differently from another node (agreement:
//     the same transactions, in the same order, with the same results);
//   - a transaction executed in two slots, or twice in one (no
//     duplication: a retry, or two leaders proposing it, execute once);
//   - a slot executed, in one incarnation, not after the last one
//     executed and the state restored (total order);
//   - an Executed without a result per transaction, or with none.
//
// That no transaction is lost is checked at the end of a run: every
// transaction submitted was executed (Missing), by every node that must
// have (DoneFunc).
type Checker struct {
	slots  map[stdtypes.SeqNr][]byte
	txSlot map[mempool.TxID]stdtypes.SeqNr
	nodes  map[stdtypes.NodeID]*nodeRun
	// executed counts, per node and over its incarnations, the slots it
	// executed.
	executed map[stdtypes.NodeID]int
}

// nodeRun is what the checker knows of one incarnation of a node.
type nodeRun struct {
	incarnation int
	// next is the first slot the node has not executed, nor restored.
	next stdtypes.SeqNr
}

// NewChecker returns a checker that has seen nothing.
func NewChecker() *Checker {
	return &Checker{
		slots: make(map[stdtypes.SeqNr][]byte), txSlot: make(map[mempool.TxID]stdtypes.SeqNr),
		nodes: make(map[stdtypes.NodeID]*nodeRun), executed: make(map[stdtypes.NodeID]int),
	}
}

// Name implements testsim.Property.
func (c *Checker) Name() string { return "trantor" }

// Observe implements testsim.Property.
func (c *Checker) Observe(o *testsim.Observation) error {
	run := c.nodes[o.Node]
	if run == nil || run.incarnation != o.Incarnation {
		run = &nodeRun{incarnation: o.Incarnation}
		c.nodes[o.Node] = run
	}
	switch ev := o.Event.(type) {
	case *trantor.Executed:
		return c.executedSlot(o.Node, run, ev)
	case *batchfetcher.RestoreApp:
		if ev.SeqNr < run.next {
			return fmt.Errorf("node %s restores the state before slot %d after it reached slot %d", o.Node, ev.SeqNr, run.next)
		}
		run.next = ev.SeqNr
	}
	return nil
}

func (c *Checker) executedSlot(node stdtypes.NodeID, run *nodeRun, ev *trantor.Executed) error {
	switch {
	case len(ev.Txs) == 0 || len(ev.Results) != len(ev.Txs):
		return fmt.Errorf("node %s: slot %d executed with %d transactions and %d results", node, ev.SeqNr, len(ev.Txs), len(ev.Results))
	case ev.SeqNr < run.next:
		return fmt.Errorf("node %s executes slot %d after it reached slot %d", node, ev.SeqNr, run.next)
	}
	run.next = ev.SeqNr + 1
	c.executed[node]++
	d := slotDigest(ev)
	if prev, ok := c.slots[ev.SeqNr]; ok {
		if !bytes.Equal(prev, d) {
			return fmt.Errorf("node %s executes slot %d (epoch %d, %d transactions) differently from a node before it", node, ev.SeqNr, ev.Epoch, len(ev.Txs))
		}
		return nil
	}
	c.slots[ev.SeqNr] = d
	for i, tx := range ev.Txs {
		if sn, ok := c.txSlot[tx.TxID]; ok {
			return fmt.Errorf("node %s: transaction %v executed in slot %d (its %dth) and in slot %d", node, tx.TxID, ev.SeqNr, i, sn)
		}
		c.txSlot[tx.TxID] = ev.SeqNr
	}
	return nil
}

// slotDigest hashes what must be the same for a slot on every node.
func slotDigest(ev *trantor.Executed) []byte {
	h := sha256.New()
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(ev.Epoch)))
	for i, tx := range ev.Txs {
		for _, b := range [][]byte{[]byte(tx.ClientID), tx.Data, ev.Results[i]} {
			h.Write(binary.AppendUvarint(nil, uint64(len(b))))
			h.Write(b)
		}
		h.Write(binary.BigEndian.AppendUint64(nil, tx.TxNo))
	}
	return h.Sum(nil)
}

// IsExecuted reports whether some node executed tx.
func (c *Checker) IsExecuted(tx mempool.TxID) bool {
	_, ok := c.txSlot[tx]
	return ok
}

// Executed returns the number of slots node executed, over its
// incarnations (a restart executes some again).
func (c *Checker) Executed(node stdtypes.NodeID) int { return c.executed[node] }

// DoneFunc returns a function that reports whether each of nodes, in its
// current incarnation, has executed or restored the slots of every
// transaction of txs. It is meant for WaitFor, which calls it after
// every step of a simulation: it walks txs once over the run, not at
// every call.
func (c *Checker) DoneFunc(txs []mempool.TxID, nodes []stdtypes.NodeID) func() bool {
	next, last := 0, stdtypes.SeqNr(0)
	return func() bool {
		for ; next < len(txs); next++ {
			sn, ok := c.txSlot[txs[next]]
			if !ok {
				return false
			}
			last = max(last, sn)
		}
		for _, id := range nodes {
			if run := c.nodes[id]; run == nil || run.next <= last {
				return false
			}
		}
		return true
	}
}

// Missing returns the transactions of txs no node executed, at most 10.
func (c *Checker) Missing(txs []mempool.TxID) []mempool.TxID {
	var out []mempool.TxID
	for _, tx := range txs {
		if !c.IsExecuted(tx) && len(out) < 10 {
			out = append(out, tx)
		}
	}
	return out
}

// Reached returns the first slot each node has not executed nor
// restored, as "node:slot", sorted by node.
func (c *Checker) Reached() []string {
	var out []string
	for id, run := range c.nodes {
		out = append(out, fmt.Sprintf("%s:%d", id, run.next))
	}
	slices.Sort(out)
	return out
}
