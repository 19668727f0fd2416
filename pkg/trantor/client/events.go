package client

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// The name is part of every encoding (event logs): renaming it makes
// recorded data unreadable.
var _ = codec.Register[Reply]("trantorclient.Reply")

// Reply asks the server (its destination) to send a transaction's result
// to the client that submitted it: to the connection that last submitted
// a transaction of ClientID. The module that executes transactions emits
// it. A reply for a client with no connection is dropped and counted
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
