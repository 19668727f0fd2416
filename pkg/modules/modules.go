// Package modules defines the two kinds of module a Mir node runs, passive
// and active, and helpers to build them: routing to submodules, a null
// module, and mock modules for tests.
//
// # Who gets messages from other nodes
//
// A message from another node reaches a module as a
// stdevents.MessageReceived whose destination the sender chose. So that no
// peer can address a module that has no use for messages (a timer, a
// crypto module, the transport itself) and make it fail, a module declares
// that it takes messages by implementing MessageReceiver. The node hands a
// MessageReceived only to such modules; one for any other module is
// dropped and counted (mir.ModuleStats.DroppedMessages), never an error. A
// Router does the same for its submodules. Protocol modules implement
// MessageReceiver, and so do dsl.Module, Router and stdmodules.Factory;
// modules that serve their own node only do not.
package modules

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Module is a PassiveModule or an ActiveModule. The node checks which when
// it is created; anything else is refused.
type Module any

// PassiveModule is where protocol logic lives: a deterministic function of
// its state and a list of input events to a new state and a list of output
// events. It starts no goroutines, reads no clock and does no I/O; that is
// what makes simulation and replay exact.
//
// The node calls ApplyEvents from one goroutine at a time. The input list is
// the node's and is reused after the call: keep events, not the list. The
// output list becomes the node's: do not touch it after returning it. A nil
// output is an empty one. An error stops the node; it must not be caused by
// input from the network, which is validated and dropped instead.
//
// A module that takes messages from other nodes (stdevents.MessageReceived)
// must also implement MessageReceiver: the node gives messages to no other
// module.
type PassiveModule interface {
	ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error)
}

// MessageReceiver is implemented by the modules that take messages from
// other nodes: the node routes a stdevents.MessageReceived only to a module
// that implements it, and drops and counts one for any other module. The
// sender of a message names the module it is for, so without this a peer
// could address any module, and one that treats a message as a wiring bug
// (a timer, a crypto module) would stop the node.
//
// A protocol module declares it with one method:
//
//	func (m *Module) ReceivesMessages() {}
//
// A module that routes events to submodules (Router, stdmodules.Factory)
// implements it and checks the submodule in turn; a module that wraps
// another (to log, to alter its output) must implement it if the wrapped
// one does, since embedding a PassiveModule interface hides the method.
type MessageReceiver interface {
	// ReceivesMessages marks the module; nobody calls it.
	ReceivesMessages()
}

// ReceivesMessages reports whether m takes messages from other nodes, that
// is whether it implements MessageReceiver.
func ReceivesMessages(m Module) bool {
	_, ok := m.(MessageReceiver)
	return ok
}

// StrayMessages counts the messages from other nodes that reached a module
// that does not take any (see MessageReceiver). The node does not route
// them there, but a module may be driven otherwise (by a Router, a test, a
// user's own driver): the standard modules drop such a message and count
// it here rather than fail, since a peer chose its destination. It is safe
// for concurrent use; the zero value is ready.
type StrayMessages struct{ n atomic.Uint64 }

// Drop reports whether ev is a stdevents.MessageReceived, which the module
// must then drop, and counts it if so.
func (s *StrayMessages) Drop(ev stdtypes.Event) bool {
	if _, ok := ev.(*stdevents.MessageReceived); ok {
		s.n.Add(1)
		return true
	}
	return false
}

// Count returns how many messages Drop dropped.
func (s *StrayMessages) Count() uint64 { return s.n.Load() }

// ActiveModule is the edge between the deterministic inside and the world:
// a network transport, a timer, a client receiver. Besides processing the
// events sent to it, it emits events on its own through EventsOut.
//
// The node calls ApplyEvents from one goroutine at a time, never
// concurrently with itself; it should not block for long, since events for
// this module queue up meanwhile. In particular it must not wait for a send
// on the module's own EventsOut channel to complete: while the node's buffer
// is full it does not read that channel until the buffer drains, which may
// need this very module. ctx ends when the node stops: goroutines the module
// started must end then, and ApplyEvents must return. An error stops the
// node.
type ActiveModule interface {
	ApplyEvents(ctx context.Context, events *stdtypes.EventList) error
	// EventsOut returns the channel the module emits events on. The node
	// stops reading it while its buffer is full (backpressure), so a module
	// must not assume that a send on it completes quickly.
	EventsOut() <-chan *stdtypes.EventList
}

// Modules is the set of modules a node runs, by ID. IDs are single path
// segments: a module's own submodules are below it ("iss/pbft").
type Modules map[stdtypes.ModuleID]Module

// Validate checks that every ID is a single, non-empty path segment and every
// module is a PassiveModule or an ActiveModule.
// Modules are checked in sorted order, so the same set reports the same
// error every time.
func (m Modules) Validate() error {
	ids := make([]stdtypes.ModuleID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		mod := m[id]
		if err := id.Validate(); err != nil {
			return err
		}
		if id.Sub() != "" {
			return fmt.Errorf("module ID %q: a node's modules are single path segments; %q belongs to module %q", id, id, id.Top())
		}
		switch mod.(type) {
		case PassiveModule, ActiveModule:
		case nil:
			return fmt.Errorf("module %q is nil", id)
		default:
			return fmt.Errorf("module %q: %T is neither a PassiveModule nor an ActiveModule", id, mod)
		}
	}
	return nil
}

// ApplyAllFunc adapts a per-event function to a PassiveModule's batch
// interface: it calls apply for each event in order and concatenates the
// output. The first error stops the batch. The lists apply returns become
// ApplyAllFunc's, which appends later output to the first of them: apply
// must return a fresh list each time, not one it keeps.
func ApplyAllFunc(events *stdtypes.EventList, apply func(stdtypes.Event) (*stdtypes.EventList, error)) (*stdtypes.EventList, error) {
	var out *stdtypes.EventList
	for _, ev := range events.Slice() {
		evOut, err := apply(ev)
		if err != nil {
			return nil, err
		}
		if evOut.Len() == 0 {
			continue
		}
		if out == nil {
			out = evOut
		} else {
			out.PushBackList(evOut)
		}
	}
	return out, nil
}

// StatsReporter is implemented by modules that keep statistics of their own,
// such as a transport's per-peer counters. The node includes what
// ReportStats returns in its Stats and in its periodic statistics log, so
// that one place shows everything about a running node. ReportStats is
// called from any goroutine at any time, so it must be safe for that, and
// should return a snapshot (a value, not a pointer into live state).
type StatsReporter interface {
	ReportStats() any
}

// Recoverer is implemented by a module that brings back, when its node
// starts, state from before the start: a write-ahead log (pkg/wal) hands
// back the records it finds on disk. The node calls Recovered once, when
// it starts (mir.Node.Run, a simulated node's every start), and the events
// it returns enter the node right after the Init events, before any other
// event: before anything an active module emits (a message from the
// network) and anything injected. They are inputs of the node, like
// events from outside, so a recorded run replays them. A node in debug
// mode does not call it: a replay takes those events from the recording.
//
// Each event must be addressed to a module of the node: one for a module
// the node does not have (a record whose owner was removed from the node)
// stops the node at start, with an error naming both modules, rather than
// dropping state that a module relied on.
type Recoverer interface {
	Recovered() []stdtypes.Event
}
