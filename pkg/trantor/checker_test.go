package trantor_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// checker is the property every simulation checks on every event: the
// nodes execute the same transactions, with the same results, in the
// same order, each once. It records, for the whole deployment, the
// digest of each slot executed (its epoch, transactions and results)
// and the slot of each transaction; and for each node's current
// incarnation the slot it restored (a state transfer, or its restart
// from a checkpoint) and the last slot it executed.
//
// A violation is:
//   - a slot a node executes differently from another node (agreement,
//     and since results are hash chains, the same history before it);
//   - a transaction executed in two slots, or twice in one (no
//     duplication: a retry, or two leaders proposing it, execute once);
//   - a slot executed, in one incarnation, not after the last one
//     executed and the state restored (total order);
//   - an Executed without a result per transaction, or with none.
type checker struct {
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

func newChecker() *checker {
	return &checker{
		slots: make(map[stdtypes.SeqNr][]byte), txSlot: make(map[mempool.TxID]stdtypes.SeqNr),
		nodes: make(map[stdtypes.NodeID]*nodeRun), executed: make(map[stdtypes.NodeID]int),
	}
}

func (c *checker) Name() string { return "trantor" }

func (c *checker) Observe(o *testsim.Observation) error {
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

func (c *checker) executedSlot(node stdtypes.NodeID, run *nodeRun, ev *trantor.Executed) error {
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

// isExecuted reports whether some node executed tx.
func (c *checker) isExecuted(tx mempool.TxID) bool {
	_, ok := c.txSlot[tx]
	return ok
}

// doneFunc returns a function that reports whether each of nodes, in its
// current incarnation, has executed or restored the slots of every
// transaction of txs. It is called after every step of a simulation: it
// walks txs once over the run, not at every call.
func (c *checker) doneFunc(txs []mempool.TxID, nodes []stdtypes.NodeID) func() bool {
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

// missing returns the transactions of txs no node executed, at most 10.
func (c *checker) missing(txs []mempool.TxID) []mempool.TxID {
	var out []mempool.TxID
	for _, tx := range txs {
		if !c.isExecuted(tx) && len(out) < 10 {
			out = append(out, tx)
		}
	}
	return out
}

// reached returns the first slot each node has not executed nor
// restored, sorted by node.
func (c *checker) reached() []string {
	var out []string
	for id, run := range c.nodes {
		out = append(out, fmt.Sprintf("%s:%d", id, run.next))
	}
	slices.Sort(out)
	return out
}

// TestCheckerCatches: the checker finds each violation it names, in a
// history fed to it by hand.
func TestCheckerCatches(t *testing.T) {
	exec := func(node stdtypes.NodeID, inc int, sn stdtypes.SeqNr, data string, ids ...uint64) *testsim.Observation {
		ev := &trantor.Executed{Header: stdtypes.NewHeader(trantor.ClientsID), SeqNr: sn}
		for _, id := range ids {
			ev.Txs = append(ev.Txs, mempool.Tx{TxID: mempool.TxID{ClientID: "c", TxNo: id}, Data: []byte(data)})
			ev.Results = append(ev.Results, []byte("r"))
		}
		return &testsim.Observation{Node: node, Incarnation: inc, Event: ev}
	}
	restore := func(node stdtypes.NodeID, inc int, sn stdtypes.SeqNr) *testsim.Observation {
		return &testsim.Observation{Node: node, Incarnation: inc, Event: &batchfetcher.RestoreApp{Header: stdtypes.NewHeader(trantor.AppID), SeqNr: sn}}
	}
	for _, tc := range []struct {
		name    string
		history []*testsim.Observation
		want    string // "" for a correct history
	}{
		{"correct", []*testsim.Observation{exec("0", 1, 1, "a", 1), exec("1", 1, 1, "a", 1), exec("0", 1, 3, "b", 2),
			exec("0", 2, 1, "a", 1), restore("1", 2, 3), exec("1", 2, 3, "b", 2)}, ""},
		{"disagreement", []*testsim.Observation{exec("0", 1, 1, "a", 1), exec("1", 1, 1, "b", 1)}, "differently"},
		{"duplicate across slots", []*testsim.Observation{exec("0", 1, 1, "a", 1), exec("0", 1, 2, "a", 1)}, "executed in slot"},
		{"duplicate in a slot", []*testsim.Observation{exec("0", 1, 1, "a", 1, 1)}, "executed in slot"},
		{"out of order", []*testsim.Observation{exec("0", 1, 2, "a", 1), exec("0", 1, 1, "a", 2)}, "after it reached"},
		{"twice", []*testsim.Observation{exec("0", 1, 2, "a", 1), exec("0", 1, 2, "a", 1)}, "after it reached"},
		{"below the restored state", []*testsim.Observation{restore("0", 1, 5), exec("0", 1, 2, "a", 1)}, "after it reached"},
		{"restore backwards", []*testsim.Observation{exec("0", 1, 5, "a", 1), restore("0", 1, 2)}, "restores"},
		{"no results", []*testsim.Observation{{Node: "0", Incarnation: 1, Event: &trantor.Executed{Txs: txs(1)}}}, "results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker()
			var err error
			for _, o := range tc.history {
				if err = c.Observe(o); err != nil {
					break
				}
			}
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
