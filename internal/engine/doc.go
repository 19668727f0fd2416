// Package engine is the synchronous, single-threaded core of a Mir node:
// module queues, routing by destination, batching, follow-up events, the
// interceptor and per-module counters. It starts no goroutine and reads no
// input by itself; its drivers decide when what happens.
//
// Two drivers use it. Package mir's Node wraps it in an event loop with a
// goroutine per active module, for real runs. Package testsim drives it step
// by step in simulated time, with simulated twins of the active modules, so
// that a run is a function of its seed. Keeping the core apart is what lets
// both run the same protocol modules with the same semantics.
//
// Modules of two kinds live in a Core: passive ones, applied on the caller's
// goroutine by ApplyPassive, and external ones (a Node's active modules, a
// simulation's twins), whose batches the driver takes with TakeBatch, hands
// to the module however it likes, and gives back with Release, which lets
// the batch's follow-up events go.
//
// Routing is where the node keeps peers from stopping it: a message from
// another node (stdevents.MessageReceived) goes only to a module that takes
// messages (Spec.ReceivesMessages, modules.MessageReceiver), and an event
// an external module emits for a module that does not exist is dropped;
// both are counted (Counters), neither is an error.
package engine
