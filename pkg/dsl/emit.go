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
	EmitEvent(m, stdevents.NewSendMessage(transport, msg, stdevents.To(m.id, destinations...)))
}

// SendMessageTo asks the transport module to send msg to the recipients,
// another module than this one, say. The module the message is for comes
// inside to (stdevents.To), so that it cannot be swapped with transport
// unnoticed:
//
//	dsl.SendMessageTo(m, mc.Net, &Request{...}, stdevents.To(mc.Server, server))
func SendMessageTo(m *Module, transport stdtypes.ModuleID, msg stdtypes.Message, to stdevents.Recipients) {
	EmitEvent(m, stdevents.NewSendMessage(transport, msg, to))
}
