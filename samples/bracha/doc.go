// Package bracha is Byzantine reliable broadcast, Bracha's protocol (G.
// Bracha, "Asynchronous Byzantine agreement protocols", Information and
// Computation 75(2), 1987), as the Authenticated Double-Echo Broadcast of
// Cachin, Guerraoui and Rodrigues, "Introduction to Reliable and Secure
// Distributed Programming" (2nd ed., Springer, 2011).
//
// It is the worked example of Mir's documentation (docs/tutorial.md,
// docs/simulation.md): small enough to read in one sitting, complete
// enough to run over TCP, in simulation under faults and Byzantine nodes,
// and under replay. It is not meant for production.
//
// # Properties
//
// n nodes, of which at most f are Byzantine, n ≥ 3f+1. Each node
// broadcasts values, each under a sequence number of its own; an instance
// of the protocol is the pair (origin, sequence number). For each
// instance:
//
//   - Agreement: no two correct nodes deliver different values.
//   - Integrity: a node delivers at most once.
//   - Validity: if the origin is correct, every correct node delivers
//     what it broadcast.
//   - Totality: if a correct node delivers, every correct node does.
//
// # The protocol, as the textbook writes it
//
// Each handler is registered under the lines it implements (bracha.go,
// register):
//
//	upon event <brb, Broadcast | v> do                        // only the origin s
//	    forall q ∈ Π do trigger <al, Send | q, [SEND, v]>
//	upon event <al, Deliver | p, [SEND, v]> such that p = s and sentecho = FALSE do
//	    sentecho := TRUE; forall q ∈ Π do trigger <al, Send | q, [ECHO, v]>
//	upon event <al, Deliver | p, [ECHO, v]> do
//	    if echos[p] = ⊥ then echos[p] := v
//	upon exists v such that #({p ∈ Π | echos[p] = v}) > (N+f)/2 and sentready = FALSE do
//	    sentready := TRUE; forall q ∈ Π do trigger <al, Send | q, [READY, v]>
//	upon event <al, Deliver | p, [READY, v]> do
//	    if readys[p] = ⊥ then readys[p] := v
//	upon exists v such that #({p ∈ Π | readys[p] = v}) > f and sentready = FALSE do
//	    sentready := TRUE; forall q ∈ Π do trigger <al, Send | q, [READY, v]>
//	upon exists v such that #({p ∈ Π | readys[p] = v}) > 2f and delivered = FALSE do
//	    delivered := TRUE; trigger <brb, Deliver | s, v>
//
// What differs, and why:
//
//   - Many instances run at once, each with the textbook's variables
//     (instance).
//   - The "upon exists" rules are checked where their counts change, in
//     the handler of ECHO or READY, rather than after every event.
//   - The textbook's authenticated links are perfect; transports lose
//     messages. The reliablenet module (pkg/reliablenet) makes up for it:
//     it sends each message until every destination has acknowledged it,
//     so the handlers send each message once.
//
// # Restarts
//
// The textbook's processes never restart; ours do, and lose their state.
// A node that restarts has lost what it had received, and its peers'
// reliablenet modules, which were acknowledged, will not send it again.
// So a node that starts says HELLO to the others (HelloMsg), and each
// sends it again every message it has sent, once per incarnation of the
// node (ModuleParams.Incarnation): the restarted node rebuilds its state
// from them, and delivers what the others deliver.
//
// What a node sent, though, it must not forget: a correct node that
// echoed one value and, restarted, echoes another for the same instance
// is a second equivocating node, and the thresholds assume at most f. An
// origin that lies to a peer that restarted gets just that out of it
// (LieWhenAsked; NoEquivocation catches it). So a node with a WAL
// (ModuleConfig.WAL, pkg/wal) persists each message before it sends it:
// the send is the follow-up of the Append, released once the message is
// durable (persisted, wal.go). When it restarts, the WAL module hands it
// back what it sent (Sent) right after Init, before any message from the
// network; the node restores those variables of the textbook, sends the
// messages again, and never sends another value for them. A node without
// a WAL must not broadcast again under the sequence numbers it used, or
// it would equivocate without knowing it; with one, a request to
// broadcast the same value again changes nothing.
//
// # Untrusted input
//
// Every message is validated before it changes anything: a sender or an
// origin outside the membership, a sequence number outside 1 to
// ModuleParams.MaxSeq, a value above MaxValueBytes make it dropped and
// counted (dsl.Module.Stats). Each node's first ECHO and first READY of an
// instance count, later ones do not; the origin of a SEND is its sender.
// Memory is bounded: at most MaxSeq instances per origin, and at most
// three messages per instance in flight to each node (ReliableNetParams
// sizes the reliablenet module for them). A Byzantine node can make a
// node send it everything again by saying HELLO with a higher
// incarnation each time; a production protocol would bound how often it
// answers.
//
// # The deliberate bug
//
// ModuleParams.Broken turns on a bug: a node delivers as soon as f+1
// ECHOs agree, skipping the READY phase. An origin that equivocates then
// makes correct nodes deliver different values, which the simulation
// tests catch (sim_test.go, testdata/scenarios).
//
// # Running it
//
// NewNodeModules builds a node's passive modules; DeployConfig deploys
// nodes in a simulation or in one process (pkg/deploytest); Scenarios
// plays the stored scenarios of testdata/scenarios (pkg/deploytest/scenario);
// ReplayBuilder rebuilds a recorded node for replay (pkg/eventlog/replay).
// The command samples/bracha/node runs one node per process over TCP, and
// samples/bracha/mircat is mircat with this protocol's replay builder.
package bracha
