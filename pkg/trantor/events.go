package trantor

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// The events the application module emits. The name is part of every
// encoding: renaming it makes recorded data unreadable.
var _ = codec.Register[Executed]("trantor.Executed")

// Executed tells the client server (AppModuleConfig.Clients) that the
// transactions of slot SeqNr of epoch Epoch were executed, in order, with
// Results[i] the result of Txs[i]: what it sends back to each client, who
// accepts a result once f+1 nodes sent the same one. Every correct node
// emits the same Executed for a slot it executes (a node that catches up
// by state transfer executes no Executed for the slots the state covers).
// Txs share memory with the batch availability stores: the receiver must
// not modify them.
type Executed struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	SeqNr   stdtypes.SeqNr
	Txs     []mempool.Tx
	Results [][]byte
}
