// Package rbc is a small Byzantine reliable broadcast, Bracha's protocol
// (G. Bracha, "Asynchronous Byzantine agreement protocols", Information and
// Computation 75(2), 1987), made to run over a lossy network: it is the
// protocol on which the tests of packages deploytest and testsim show that
// the simulation finds real bugs. It is not meant for production.
//
// n nodes, of which at most f are Byzantine, n >= 3f+1. Each node can
// broadcast values, each under a sequence number of its own; an instance
// of the protocol is the pair (origin, sequence number). For each
// instance, every correct node delivers at most one value; if a correct
// node delivers a value, every correct node does, the same (agreement and
// totality); if the origin is correct, every correct node delivers what it
// broadcast (validity).
//
// Bracha's rules, per instance:
//
//	origin, on broadcast(v):          send SEND(v) to all
//	on SEND(v) from the origin:       if not echoed, send ECHO(v) to all
//	on ECHO(v) from ceil((n+f+1)/2):  if not readied, send READY(v) to all
//	on READY(v) from f+1:             if not readied, send READY(v) to all
//	on READY(v) from 2f+1:            deliver v
//
// Messages get lost, so a node periodically resends its messages of each
// instance to the peers that have not told it that they delivered (every
// message carries that bit); a node that delivered answers a peer that has
// not with its READY. Once every peer has delivered, an instance is
// quiet.
//
// ModuleParams.Broken turns on a deliberate bug: a node delivers as soon
// as f+1 ECHOs agree, skipping the READY phase. An origin that equivocates
// then makes correct nodes deliver different values, which the simulation
// tests catch.
package bracha
