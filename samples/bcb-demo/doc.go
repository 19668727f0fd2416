// Bcb-demo runs Byzantine consistent broadcast (pkg/bcb) among Mir nodes
// with real Ed25519 signatures: a leader broadcasts each command-line
// argument, or, without arguments, each line of standard input, as one
// instance, and every node prints what it delivers.
//
// # Four nodes in one process
//
// Without -membership, the program runs four nodes in one process, over
// the in-process transport (pkg/net/local), with keys derived from a fixed
// seed. Node 0 is the leader. The program exits 0 once every node has
// delivered everything, 1 if that takes longer than -timeout after the
// input ends.
//
//	go run ./samples/bcb-demo hello world
//	printf 'one\ntwo\n' | go run ./samples/bcb-demo
//
// # One node per process, over TCP
//
// With -membership FILE -id ID, the process runs node ID of the membership
// (pkg/membership) over the TCP transport (pkg/net/tcp). Its private key,
// which both the transport and the signatures use, is read from -key, by
// default node-ID.key next to the membership file: the layout `mir
// membership generate` writes. Four nodes on 127.0.0.1, ports 7000 to 7003:
//
//	go run ./cmd/mir membership generate -n 4 --dir /tmp/bcb
//	go build -o /tmp/bcb/bcb-demo ./samples/bcb-demo
//	/tmp/bcb/bcb-demo -membership /tmp/bcb/membership.json -id 1 -count 2 &
//	/tmp/bcb/bcb-demo -membership /tmp/bcb/membership.json -id 2 -count 2 &
//	/tmp/bcb/bcb-demo -membership /tmp/bcb/membership.json -id 3 &
//	printf 'one\ntwo\n' | /tmp/bcb/bcb-demo -membership /tmp/bcb/membership.json -id 0
//	kill %3    # node 3 runs until interrupted
//
// The leader is the membership's first node, or -leader. It alone reads
// the texts, and it exits once it has delivered all of them and every
// other node has acknowledged every one (bcb.AckMsg: the node delivered
// it): 0 then, 1 if that takes longer than -timeout after the input ends
// (a node is down, say) or it is interrupted first. The others run until
// interrupted (SIGINT, SIGTERM), and exit 0 then, once the leader has what
// they sent it (their echoes and acknowledgments), or -linger has passed:
// a transport that stops drops what it has not sent yet. With -count N,
// they run until they have delivered N of the leader's instances, then
// wait until the leader has left (its connection to them closes), at most
// -linger. A node with -count gives up, and exits 1, when the leader's
// instances stop coming for -timeout: the leader is gone.
//
// Nodes may start in any order: the transport keeps messages for a peer
// that is not up yet, and the reliablenet module retransmits what was
// lost.
//
// Nodes may also restart. A leader that restarts numbers its texts from 0
// again, in a new incarnation (the start time, bcb.ModuleParams.Incarnation):
// the others deliver them as new instances, and say that the leader
// restarted. A node that restarts has missed what the leader finished
// meanwhile: it reports those instances as missed once a later one has
// waited -gap-timeout for them, and goes on. It remembers nothing of its
// former run, so it may also deliver again what it delivered then: the
// leader sends the FINAL of an instance until the node acknowledges it,
// and a copy still on its way, or an acknowledgment the node took with it
// when it stopped (killed, or past -linger), brings it back. Consistent
// broadcast allows both: a node delivers an instance at most once in each
// of its runs, always the leader's payload.
//
// # Output
//
// Lines for people and for the tests; a node prints the instances of the
// leader in the order of their sequence numbers (see orderedPrinter),
// "leader/seq":
//
//	node 2 of 4 listening on 127.0.0.1:7002; node 0 broadcasts
//	node 2 delivered 0/0: one
//	node 2 delivered 0/1: two
//	node 2 delivered all 2
//	messages dropped: 0, of which invalid: 0
//
// and, when it is so,
//
//	node 3 missed 0/0 to 0/1
//	node 2: leader 0 restarted (incarnation 1764323412345678901); its instances start from 0 again
//
// The in-process mode prints the deliveries of its four nodes, then
// "every node delivered all 2"; the leader over TCP prints "node 0
// delivered all 2, and every node acknowledged them".
//
// # Modules
//
// Each node runs six modules:
//
//   - "bcb", the protocol: a deterministic passive module (pkg/bcb);
//   - "reliablenet", which sends bcb's messages and retransmits them until
//     they arrive (pkg/reliablenet), passive and deterministic too;
//   - "crypto", the worker-pool crypto module (pkg/crypto.NewPool), which
//     signs and verifies for it;
//   - "net", the node's transport: in the in-process network, or TCP;
//   - "timer", which drives retransmissions and bcb's garbage collection;
//   - "app", an active module of this program that hands the deliveries
//     to main, which prints them: printing is I/O, which has no place in
//     a protocol module.
//
// Over TCP the leader also watches, as the node's interceptor
// (eventlog.Interceptor), the acknowledgments that reach its bcb module
// (see ackTracker), which is how it knows when it may leave.
package main
