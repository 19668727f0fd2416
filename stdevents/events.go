package stdevents

import (
	"slices"
	"time"

	"github.com/mirframework/mir/stdtypes"
)

// Init is the first event every module receives, before any other.
type Init struct {
	stdtypes.Header
}

// NewInit returns an Init event for dest.
func NewInit(dest stdtypes.ModuleID) *Init {
	return &Init{Header: stdtypes.NewHeader(dest)}
}

// SendMessage asks a transport module (its destination) to send Msg to the
// module MsgDest of each node in Destinations. Transports may lose messages;
// protocols retransmit where they need to.
type SendMessage struct {
	stdtypes.Header
	// MsgDest is the module that receives the message on each destination node.
	MsgDest stdtypes.ModuleID
	// Destinations are the nodes to send to. A node may send to itself.
	Destinations []stdtypes.NodeID
	// Msg is the message.
	Msg stdtypes.Message
}

// Recipients are where a message goes: the module Module on each of
// Nodes. To makes one.
type Recipients struct {
	// Module receives the message on each node.
	Module stdtypes.ModuleID
	// Nodes are the nodes to send to. A node may send to itself.
	Nodes []stdtypes.NodeID
}

// To returns the recipients module on each of nodes, with a copy of nodes,
// so that the caller may reuse its slice. The constructors that take
// Recipients keep Nodes as they are: the one copy is made here, where the
// compiler can see that the variadic list does not outlive the call and
// keep it on the caller's stack (a copy in the constructor would make the
// list escape with the rest of the struct: two allocations per message
// instead of one).
func To(module stdtypes.ModuleID, nodes ...stdtypes.NodeID) Recipients {
	return Recipients{Module: module, Nodes: cloneNodes(nodes)}
}

// NewSendMessage returns an event asking transport to send msg to the
// recipients, which To makes (with a copy of the nodes, so that the caller
// may reuse its slice); the event keeps to.Nodes as it is:
//
//	stdevents.NewSendMessage(mc.Net, &Ping{Seq: 1}, stdevents.To(mc.Self, peers...))
//
// The transport and the module the message is for are both module IDs;
// the second comes wrapped in Recipients, next to the nodes it is on, so
// that passing them the wrong way round does not compile. (Swapped, they
// would address the event to the protocol module and the message to the
// transport of every peer.)
func NewSendMessage(transport stdtypes.ModuleID, msg stdtypes.Message, to Recipients) *SendMessage {
	return &SendMessage{
		Header:       stdtypes.NewHeader(transport),
		MsgDest:      to.Module,
		Destinations: to.Nodes,
		Msg:          msg,
	}
}

// cloneNodes copies nodes into a new slice. Unlike slices.Clone, whose
// result, to the compiler, may share its argument's array, it does not
// make the argument escape.
func cloneNodes(nodes []stdtypes.NodeID) []stdtypes.NodeID {
	if nodes == nil {
		return nil
	}
	out := make([]stdtypes.NodeID, len(nodes))
	copy(out, nodes)
	return out
}

// MessageReceived delivers a message that arrived from another node (or from
// this node to itself). Its content is untrusted: validate before use.
type MessageReceived struct {
	stdtypes.Header
	// From is the node that sent the message, as authenticated by the transport.
	From stdtypes.NodeID
	// Msg is the message.
	Msg stdtypes.Message
}

// NewMessageReceived returns an event delivering msg from node from to dest.
func NewMessageReceived(dest stdtypes.ModuleID, from stdtypes.NodeID, msg stdtypes.Message) *MessageReceived {
	return &MessageReceived{Header: stdtypes.NewHeader(dest), From: from, Msg: msg}
}

// TimerDelay asks a timer module (its destination) to emit Events once, after
// Delay has passed.
type TimerDelay struct {
	stdtypes.Header
	// Events are emitted when the delay has passed.
	Events []stdtypes.Event
	// Delay is how long to wait.
	Delay time.Duration
}

// NewTimerDelay returns an event asking timer to emit events after delay.
func NewTimerDelay(timer stdtypes.ModuleID, delay time.Duration, events ...stdtypes.Event) *TimerDelay {
	return &TimerDelay{Header: stdtypes.NewHeader(timer), Events: slices.Clone(events), Delay: delay}
}

// TimerRepeat asks a timer module (its destination) to emit Events every
// Period, until a TimerGarbageCollect with a higher retention index.
type TimerRepeat struct {
	stdtypes.Header
	// Events are emitted every period.
	Events []stdtypes.Event
	// Period is the time between two emissions; the first is one period
	// after the request.
	Period time.Duration
	// RetentionIndex ties the timer to, e.g., an epoch: a
	// TimerGarbageCollect with a higher index stops it.
	RetentionIndex stdtypes.RetentionIndex
}

// NewTimerRepeat returns an event asking timer to emit events every period
// until garbage-collected below retIdx.
func NewTimerRepeat(timer stdtypes.ModuleID, period time.Duration, retIdx stdtypes.RetentionIndex, events ...stdtypes.Event) *TimerRepeat {
	return &TimerRepeat{Header: stdtypes.NewHeader(timer), Events: slices.Clone(events), Period: period, RetentionIndex: retIdx}
}

// TimerGarbageCollect stops every repeating timer whose retention index is
// lower than RetentionIndex.
type TimerGarbageCollect struct {
	stdtypes.Header
	// RetentionIndex is the lowest index whose timers are kept.
	RetentionIndex stdtypes.RetentionIndex
}

// NewTimerGarbageCollect returns an event stopping timer's repeating timers
// with an index below retIdx.
func NewTimerGarbageCollect(timer stdtypes.ModuleID, retIdx stdtypes.RetentionIndex) *TimerGarbageCollect {
	return &TimerGarbageCollect{Header: stdtypes.NewHeader(timer), RetentionIndex: retIdx}
}

// NewSubmodule asks a factory module (its destination) to create the
// submodule SubmoduleID from Params. The submodule then receives an Init.
type NewSubmodule struct {
	stdtypes.Header
	// SubmoduleID is the path of the new submodule. It must lie below the
	// factory's own ID.
	SubmoduleID stdtypes.ModuleID
	// RetentionIndex ties the submodule to, e.g., an epoch: a
	// GarbageCollect with a higher index removes it.
	RetentionIndex stdtypes.RetentionIndex
	// Params is passed to the factory's generator. To be recorded and
	// replayed it must be a type registered with package codec; pass it by
	// value, as a decoded recording holds a value.
	Params any
}

// NewNewSubmodule returns an event asking the factory that is id's parent
// (id.Parent(): "iss/ord" for "iss/ord/5") to create submodule id from
// params, to be removed once garbage collection passes retIdx. A factory
// creates submodules exactly one segment below itself, so the submodule's
// ID names the factory too: the constructor takes one ID, not two that
// could be passed the wrong way round (an event for the submodule, which
// does not exist yet, would be dropped). A single-segment id has no
// parent: the event's destination is empty, no module has it, and the node
// stops with an error.
func NewNewSubmodule(id stdtypes.ModuleID, retIdx stdtypes.RetentionIndex, params any) *NewSubmodule {
	return &NewSubmodule{Header: stdtypes.NewHeader(id.Parent()), SubmoduleID: id, RetentionIndex: retIdx, Params: params}
}

// GarbageCollect asks a module (a factory, a buffer) to drop state tied to
// retention indices lower than RetentionIndex.
type GarbageCollect struct {
	stdtypes.Header
	// RetentionIndex is the lowest index whose state is kept.
	RetentionIndex stdtypes.RetentionIndex
}

// NewGarbageCollect returns an event asking dest to drop state below retIdx.
func NewGarbageCollect(dest stdtypes.ModuleID, retIdx stdtypes.RetentionIndex) *GarbageCollect {
	return &GarbageCollect{Header: stdtypes.NewHeader(dest), RetentionIndex: retIdx}
}
