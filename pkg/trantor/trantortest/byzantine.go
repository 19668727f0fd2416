package trantortest

import (
	"math/rand/v2"
	"slices"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdtypes"
)

// Equivocation makes a node tell its Victims one thing and the other
// nodes another: what it sends to a victim passes through Forge.
// (sim.Equivocate chooses each peer's version at random, and may tell all
// the same: a fixed set of victims makes every run have an equivocation
// to survive.)
type Equivocation struct {
	// Forge returns the message a victim gets instead of msg (msg itself
	// to leave it alone): ForgeRequestSig, ForgePrePrepare.
	Forge func(msg stdtypes.Message) stdtypes.Message
	// Victims are told the forged version.
	Victims []stdtypes.NodeID
	// Changed counts the messages forged.
	Changed int
}

// Adversary returns the adversary of the Byzantine node, for
// Config.Adversaries.
func (e *Equivocation) Adversary() sim.Adversary {
	return sim.Rewrite(func(m sim.Outgoing, _ *rand.Rand) stdtypes.Message {
		if !slices.Contains(e.Victims, m.To) {
			return m.Msg
		}
		out := e.Forge(m.Msg)
		if out != m.Msg {
			e.Changed++
		}
		return out
	})
}

// ForgeRequestSig gives a node availability's REQUESTSIG of the sender's
// batch without its last transaction (still one the leader may propose),
// or with a transaction of its own if it has one only: an equivocating
// leader of a batch.
func ForgeRequestSig(msg stdtypes.Message) stdtypes.Message {
	dm, ok := msg.(*reliablenet.DataMsg)
	if !ok {
		return msg
	}
	rs, ok := dm.Msg.(*availability.RequestSigMsg)
	if !ok {
		return msg
	}
	// The message is the sender's, shared with its own state (the batch
	// it stored): the forgery must not write into it.
	forged := *rs
	forged.Txs = slices.Clone(rs.Txs[:len(rs.Txs)-1])
	if len(forged.Txs) == 0 {
		forged.Txs = []mempool.Tx{{TxID: rs.Txs[0].TxID, Data: append([]byte("forged"), rs.Txs[0].Data...)}}
	}
	c := *dm
	c.Msg = &forged
	return &c
}

// ForgePrePrepare gives a node PBFT's PREPREPARE of the empty value for
// every slot the sender proposes: an equivocating leader of a segment.
func ForgePrePrepare(msg stdtypes.Message) stdtypes.Message {
	dm, ok := msg.(*reliablenet.DataMsg)
	if !ok {
		return msg
	}
	pp, ok := dm.Msg.(*pbft.PrePrepareMsg)
	if !ok || pp.Aborted || len(pp.Value) == 0 {
		return msg
	}
	forged := *pp
	forged.Value = nil
	c := *dm
	c.Msg = &forged
	return &c
}
