// Package dsl writes a protocol module as a set of handlers, each under
// the line of pseudocode it implements: "upon event ...", "upon receiving
// message ... from p", "upon exists ... such that ...".
//
// A Module is a passive module (modules.PassiveModule). Its logic is
// registered on it when it is built:
//
//   - UponInit, UponEvent[E]: handlers of local events, by type;
//   - UponMessageReceived[M]: handlers of messages from other nodes, by
//     message type, with the sender;
//   - UponCondition: checks run after each batch of events, for rules
//     that fire when the state reaches some condition rather than on an
//     event.
//
// Handlers change the protocol's state, which is plain Go variables that
// the handlers share (a struct, or locals of the constructor), and emit
// events with EmitEvent, EmitEvents, SendMessage and SendMessageTo. The
// module returns what they emitted as its output.
//
//	func NewModule(mc ModuleConfig, params ModuleParams) *dsl.Module {
//		m := dsl.NewModule(mc.Self)
//		var sentEcho bool
//
//		// upon event <al, Deliver | p, [SEND, m]> such that p = s and sentecho = FALSE do
//		dsl.UponMessageReceived(m, func(from stdtypes.NodeID, msg *StartMessage) error {
//			if from != params.Leader {
//				return dsl.Drop("SEND from %s, who is not the leader", from)
//			}
//			if sentEcho {
//				return nil
//			}
//			sentEcho = true
//			...
//		})
//		return m
//	}
//
// # Dispatch
//
// Each event goes to the handlers registered for its dynamic type, in
// the order they were registered; a MessageReceived goes to the handlers
// of its message's type. Generics give each handler its concrete type,
// without type assertions in protocol code and without reflection or
// generated code: finding the handlers of an event is a short scan of the
// registered types' descriptors, and the handlers are called directly
// (BenchmarkDSLDispatch). After the last event of a batch, every
// condition runs once, in the order of registration.
//
// # Errors and untrusted input
//
// A handler's error stops the node: it means a bug or a local module
// misbehaving (DESIGN rule 2). The error names the module, the type the
// handler handles and the file and line where it was registered.
//
// Input from other nodes must never stop the node. A received message of
// a type no handler takes (or a nil one) is dropped and counted. A handler
// that finds its message invalid returns Drop("reason"): the message is
// dropped, counted (Stats) and, with WithLogger, logged with the handler
// and the reason; the batch goes on. The same holds for a local event that
// carries another node's input, such as the result of verifying a peer's
// signature. A local event of a type nobody handles is an error, except
// Init, which every module receives and may ignore.
//
// # Determinism
//
// A Module starts no goroutines and reads no clock; its output is a
// function of its state and its input as long as its handlers are. They
// must not let map iteration order reach their output (sort the keys).
package dsl
