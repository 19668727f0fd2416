package eventlog

import (
	"time"

	"github.com/mirframework/mir/stdtypes"
)

// Interceptor sees every event a node dispatches, in dispatch order: the
// node calls Intercept with each batch just before handing it to the batch's
// destination module.
//
// Intercept runs on the node's event loop, so it should be quick: a
// recorder copies the events to its own goroutine. The list is the node's
// and is reused after Intercept returns; the events in it may be kept, as
// events are never modified once emitted. An error stops the node.
type Interceptor interface {
	Intercept(events *stdtypes.EventList) error
}

// InterceptorFunc lets a function be an Interceptor.
type InterceptorFunc func(events *stdtypes.EventList) error

// Intercept calls f(events).
func (f InterceptorFunc) Intercept(events *stdtypes.EventList) error { return f(events) }

// An InputInterceptor is an Interceptor that also learns which events of
// each batch are inputs of the node's passive modules: events that entered
// from outside them (emitted by an active module, injected, the Init events,
// follow-ups released once an active module processed their parent), as
// opposed to outputs, which a passive module produced (including follow-ups
// it released). Passive modules are deterministic, so their outputs follow
// from their inputs; this split is what lets a recorded run be replayed and
// checked event by event.
//
// The node calls InterceptInputs instead of Intercept. inputs[i] tells
// whether the i-th event of the batch is an input; like events, the slice is
// the node's and is reused after the call.
type InputInterceptor interface {
	Interceptor
	InterceptInputs(events *stdtypes.EventList, inputs []bool) error
}

// A TimedInterceptor is an InputInterceptor that can be told the time of
// each batch by whatever drives the node, instead of reading the wall
// clock. A simulation (package testsim) calls InterceptInputsAt with the
// simulated time of the batch, so that a recording of a simulated node
// carries the times of the simulation, the ones its failure reports
// print; a real node calls InterceptInputs, and the interceptor reads the
// clock. A Recorder is one.
type TimedInterceptor interface {
	InputInterceptor
	InterceptInputsAt(at time.Time, events *stdtypes.EventList, inputs []bool) error
}
