// Package scenario keeps simulated runs of a protocol as data: a small
// text file names the nodes, the seeds, the faults, the Byzantine nodes
// and the inputs of a run, and the outcome it must have; one test plays
// every file of a directory. A bug found in simulation becomes a file,
// and stays fixed; a known attack on the protocol is a file too. It is the
// simulated counterpart of etcd raft's interaction tests.
//
// A protocol plugs in with a Protocol: the deployment of its nodes (a
// deploytest.Config), and tables that map the names a scenario uses to
// inputs and adversaries. Its test is then a few lines:
//
//	func TestScenarios(t *testing.T) {
//		scenario.RunDir(t, "testdata/scenarios", scenario.Protocol{
//			Config: func(nodes []stdtypes.NodeID, params *scenario.Args) (deploytest.Config, error) {
//				return myConfig(nodes, params.Int("f", 1)), nil
//			},
//			Inputs: map[string]scenario.Input{
//				"broadcast": func(node stdtypes.NodeID, a *scenario.Args) ([]stdtypes.Event, error) {
//					return []stdtypes.Event{myproto.NewBroadcast("proto", a.Uint("seq", 1), a.String("value", ""))}, nil
//				},
//			},
//			Adversaries: map[string]scenario.AdversaryMaker{
//				"equivocate": func(*scenario.Args) (sim.Adversary, error) { return myEquivocation(), nil },
//			},
//		})
//	}
//
// # The format
//
// A file is a script, a line "----", and the expected outcome. In the
// script, # starts a comment; each other line is a directive:
//
//	nodes 0 1 2 3                 the nodes' IDs: first, and once
//	seed 1 2 3                    one run per seed, in turn
//	params f=1 broken=true        handed to Protocol.Config
//	link loss=0.1 latency=uniform(1ms,5ms)
//	                              every link, from the start; keys: latency
//	                              (fixed(1ms) or 1ms, uniform(LO,HI),
//	                              pareto(LO,ALPHA,HI)), loss, duplicate,
//	                              reorder (probabilities), bandwidth (bytes/s)
//	link 0->3 latency=50ms        one directed link, from the start
//	link [0->3] at 3s loss=0      a link, or every one, from a time on
//	partition 200ms..2s 0,1 2,3   groups cut off from each other for a while
//	                              (nodes in no group form one more)
//	crash 2 at 100ms              a node crashes at a time,
//	crash 3 event 500             or just before its 500th event
//	restart 2 at 1s               and comes back, built anew
//	adversary 0 equivocate        node 0 is Byzantine: the protocol's
//	                              adversary of that name, or the library's
//	                              (drop p=P, delay by=DELAY, duplicate
//	                              copies=K); to=1,2 restricts it to the
//	                              messages to those nodes; several lines
//	                              for a node chain their adversaries
//	faulty 3                      a node the checkers do not vouch for,
//	                              besides those with an adversary
//	submit 0,1 at 10ms broadcast seq=1 value="a b"
//	                              the protocol's input of that name, to
//	                              each node listed (* for all) that is up
//	                              then
//	run 5s                        run until a time, then check liveness;
//	run healed+3s                 or until 3s after the last fault healed
//	expect verdict                leave the history out of the outcome
//	wal flip=0.5 keep=prefix      every node gets a WAL module (pkg/wal) on
//	                              a simulated disk, which a restarted node
//	                              recovers from; a crash keeps the writes
//	                              not synced as keep says (random, none,
//	                              all, prefix; default random), flips a bit
//	                              with probability flip (default 0.25), and
//	                              a sync takes sync=DELAY
//
// Parameters are key=value, a value with spaces in Go quotes. An unknown
// directive, key or node, a value that does not parse, a name that no
// table has, are errors that name the file and the line.
//
// The outcome is, for each seed, the verdict of the checkers (ok, or the
// first property violated, when, where and why) and the history, the
// delivered items (testsim.Delivery) of each node in order, a restarted
// node's under NODE#INCARNATION:
//
//	----
//	seed 1: ok
//	  0: 0/1 "a b"
//	  1: 0/1 "a b"
//	seed 2: agreement violated at 3.072247ms on node 2: node 2 delivered "v" for item "0/1", node 3 delivered "v (forged)"
//	  3: 0/1 "v (forged)"
//
// The checkers are Protocol.Properties, by default
// testsim.BroadcastProperties, with the nodes that have an adversary or a
// faulty line as the faulty ones. Protocol.History can make the history of
// other events.
//
// # Writing the expected outcome
//
// Write the script, run the test with -sim.rewrite, and read what it wrote
// after "----": that is what the scenario now pins down. After a change of
// behaviour that is meant, -sim.rewrite rewrites every file, and the diff
// shows what changed. Without the flag, a run that differs fails with the
// first line that differs and the whole outcome.
//
// # State across runs
//
// Play builds the adversaries and the properties once per scenario and
// hands them to each seed in turn, as a test looping over seeds would, and
// plays each seed after the first again with new ones: the two runs must
// be the same. A scenario with several seeds thus also checks that no
// adversary or property keeps state from one run to the next (see
// sim.Adversary and testsim.PerRun).
package scenario
