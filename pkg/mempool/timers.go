package mempool

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// The mempool's own timer events: it asks the timer (ModuleConfig.Timer)
// to send them back to it after BatchTimeout (stdevents.TimerDelay). The
// names are part of every encoding, as in events.go.
var (
	_ = codec.Register[TxsWaited]("mempool.TxsWaited")
	_ = codec.Register[RequestWaited]("mempool.RequestWaited")
)

// TxsWaited tells the mempool that the transactions it accepted up to
// arrival number Arrival (it numbers them from 1 as it accepts them) have
// waited BatchTimeout. The mempool sets such a timer at the end of each
// batch of events (ApplyEvents) that brought it transactions.
type TxsWaited struct {
	stdtypes.Header
	Arrival uint64
}

// RequestWaited tells the mempool that its request number Request (it
// numbers the RequestBatch events it holds from 1, as Refs may be reused)
// has waited BatchTimeout.
type RequestWaited struct {
	stdtypes.Header
	Request uint64
}
