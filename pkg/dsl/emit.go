package dsl

import (
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// EmitEvent appends ev to the module's output. The node routes it to its
// destination once the current ApplyEvents returns. Events emitted outside
// ApplyEvents (in a constructor, say) go out with the output of the next
// one.
//
// An emitted event belongs to the node: do not change it afterwards.
func EmitEvent(m *Module, ev stdtypes.Event) {
	if m.out == nil {
		m.out = stdtypes.ListOf(ev)
		return
	}
	m.out.PushBack(ev)
}

// EmitEvents appends evs to the module's output, in order.
func EmitEvents(m *Module, evs ...stdtypes.Event) {
	if len(evs) == 0 {
		return
	}
	if m.out == nil {
		m.out = stdtypes.ListOf(evs...)
		return
	}
	m.out.PushBackSlice(evs)
}

// SendMessage asks the transport module to send msg to this module (the
// module with m's ID) on each of the destination nodes, which may include
// this node. It copies destinations.
//
//	dsl.SendMessage(m, mc.Net, &EchoMessage{...}, leader)
func SendMessage(m *Module, transport stdtypes.ModuleID, msg stdtypes.Message, destinations ...stdtypes.NodeID) {
	EmitEvent(m, stdevents.NewSendMessage(transport, m.id, msg, destinations...))
}

// SendMessageTo is SendMessage to another module than this one, msgDest,
// on each of the destination nodes.
func SendMessageTo(m *Module, transport, msgDest stdtypes.ModuleID, msg stdtypes.Message, destinations ...stdtypes.NodeID) {
	EmitEvent(m, stdevents.NewSendMessage(transport, msgDest, msg, destinations...))
}
