// Package stdmodules holds the standard modules most Mir nodes run: the
// Timer, which turns wall-clock time into events, and the Factory, which
// creates and garbage-collects submodules at run time.
//
// # Timer
//
// Protocol modules are deterministic and never read the clock. To act later
// (a view-change timeout, a periodic retransmission), a module asks the
// timer, an active module, to hand events back to it:
//
//	stdevents.NewTimerDelay("timer", 500*time.Millisecond, timeout)
//	stdevents.NewTimerRepeat("timer", time.Second, epoch, retransmit)
//	stdevents.NewTimerGarbageCollect("timer", epoch) // stops repeats below epoch
//
// The timer emits the events on its EventsOut channel when they are due;
// the node routes them like any other event. In a simulation, a simulated
// timer with the same events stands in for it.
//
// # Factory
//
// A protocol often runs one instance of a sub-protocol per epoch or per
// sequence number: an orderer per epoch of ISS, a broadcast per batch. A
// Factory with ID "iss/ord" creates such instances on request,
//
//	stdevents.NewNewSubmodule("iss/ord/5", 5, params)
//
// gives each an Init before anything else, routes events for "iss/ord/5/..."
// to it, and removes it once a stdevents.GarbageCollect passes its
// retention index. Events that still arrive for a removed instance are
// dropped and counted. Factories nest: a submodule may itself be a factory.
//
// The Example functions show a protocol's side of both.
package stdmodules
