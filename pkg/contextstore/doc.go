// Package contextstore keeps what a protocol module needs to finish a
// request it sent to another module, until the answer comes back.
//
// A module that asks the crypto module to verify a signature must know,
// when the VerifyResult arrives, which message and which sender the
// signature belonged to. It keeps that context in a Store and puts the ID
// the Store returns in the request (crypto.Origin.ID); the answer carries
// the ID back, and Recover returns the context and forgets it:
//
//	id := verifying.Store(echoContext{instance: inst, from: from})
//	dsl.EmitEvent(m, crypto.NewVerifyRequest(mc.Crypto, crypto.Origin{Module: mc.Self, ID: id}, item))
//	...
//	dsl.UponEvent(m, func(res *crypto.VerifyResult) error {
//		c, ok := verifying.Recover(res.Origin.ID)
//		...
//	})
//
// Keeping the context in the module, rather than in the request, keeps
// requests small and encodable (an event log records a number, not a
// closure), and lets the module decide what an answer still means once the
// protocol has moved on.
//
// # Garbage collection
//
// An entry lives until it is recovered or disposed of (Recover, Dispose),
// or collected in bulk: DisposeIf removes the entries a predicate selects,
// and GarbageCollect those stored with a retention index (an epoch, an
// instance number) below a given one, as a module does when it learns
// that everything older is finished. The answer to a request whose context
// is gone finds nothing (Recover reports false) and is ignored.
//
// # Determinism
//
// IDs are 1, 2, 3, ... in the order of Store; 0 is never an ID, so a
// zero Origin.ID stands for "no context". Iteration and bulk removal go in
// ID order. A Store starts no goroutines and is not safe for concurrent
// use, like the passive module that owns it.
package contextstore
