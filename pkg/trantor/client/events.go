package client

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// The names are part of every encoding (event logs): renaming one makes
// recorded data unreadable. Executed keeps the name it had when package
// trantor defined it (trantor.Executed is an alias of it).
var (
	_ = codec.Register[Reply]("trantorclient.Reply")
	_ = codec.Register[Executed]("trantor.Executed")
)

// Reply asks the server (its destination) to send a transaction's result
// to the client that submitted it: to the connection that last submitted
// a transaction of ClientID. A module that answers one transaction at a
// time emits it; Trantor's application module emits Executed. A reply for
// a client with no connection is dropped and counted
// (ServerMetrics.RepliesDropped): the client resends what is unanswered
// when it reconnects.
type Reply struct {
	stdtypes.Header
	ClientID string
	TxNo     uint64
	Result   []byte
}

// NewReply returns a Reply to the server module dest.
func NewReply(dest stdtypes.ModuleID, clientID string, txNo uint64, result []byte) *Reply {
	return &Reply{Header: stdtypes.NewHeader(dest), ClientID: clientID, TxNo: txNo, Result: result}
}

// Executed tells the server (its destination) that the transactions of
// slot SeqNr of epoch Epoch were executed, in order, with Results[i] the
// result of Txs[i]: the server sends each result to the client of its
// transaction, as for a Reply, and the client accepts a result once f+1
// nodes sent the same one. Trantor's application module emits one per
// slot it applies (package trantor calls it trantor.Executed). Every
// correct node emits the same Executed for a slot it executes (a node
// that catches up by state transfer emits none for the slots the state
// covers). Txs share memory with the batch availability stores: the
// receiver must not modify them.
//
// An Executed whose Results and Txs differ in length is an error of the
// module that emitted it, which stops the node.
type Executed struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	SeqNr   stdtypes.SeqNr
	Txs     []mempool.Tx
	Results [][]byte
}
