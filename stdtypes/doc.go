// Package stdtypes holds the types every part of Mir shares: node and module
// identifiers, the Event interface with its embedded Header, event lists,
// messages, retention indices and durations.
//
// Events and messages are plain Go structs. An event type embeds Header,
// which gives it a destination module and follow-up events; a message type
// embeds MessageBase. Neither needs generated code:
//
//	type Ping struct {
//		stdtypes.Header
//		Seq uint64
//	}
//
//	ev := &Ping{Header: stdtypes.NewHeader("pingpong"), Seq: 1}
//
// Events travel inside a node as Go values and are serialized only at the
// edges (network, event log, write-ahead log) by package codec.
package stdtypes
