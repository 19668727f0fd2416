// Chat-demo is a replicated chat on Trantor (pkg/trantor), the sample of
// the original Mir redone: each node is a process (pkg/trantor/replica)
// that reads lines from its standard input and submits each as a
// transaction; every node prints the chat, in the same order everywhere.
//
// Five nodes on 127.0.0.1, of which the first four start as members:
//
//	go run ./cmd/mir membership generate -n 5 --dir /tmp/chat
//	go build -o /tmp/chat/chat-demo ./samples/chat-demo
//	/tmp/chat/chat-demo -membership /tmp/chat/membership.json -voters 0,1,2,3 -id 0
//	... and the same with -id 1, -id 2, -id 3, each in a terminal of its own
//
// Type a line in any of them: all print it, prefixed with the node that
// sent it. Two commands change the members:
//
//	/add-node 4 127.0.0.1:7004
//	/remove-node 2
//
// Every node executes a command at the same point of the chat and prints
// what it did (or why it refused it). The chat is the application: its
// snapshot returns the members as the membership of a later epoch, which
// ISS applies ConfigOffset+1 epochs after the one that ends. Start node 4
// (with the same -voters), before or after the /add-node line: it is not a
// member of the first epochs, catches up by state transfer once it is one,
// prints the whole chat, and takes part from then on. A removed node stays
// where the chat was when it left.
//
// Kill a node (kill -9 included) and start it again with the same flags:
// its state is in -data (by default chat-ID next to the membership file):
// it recovers its WAL, catches up by state transfer, and prints the whole
// chat again.
//
// # What the demo simplifies
//
//   - The membership file lists every node that may ever take part, with
//     its address and public key, and each node's key file is generated
//     with it (`mir membership generate -n 5`): the TCP transport and the
//     signatures know no others. /add-node ID ADDR names a node of that
//     file, at the address the file gives it (the line is refused
//     otherwise). A deployment that adds nodes it did not know at the
//     start needs a transport that learns new peers, which pkg/net/tcp does
//     not do yet.
//   - A node submits its lines to itself only (through the client library,
//     to its own client server, trusting its own reply): a line is ordered
//     once the node leads a segment of the line's bucket, within a few
//     short epochs (the demo uses segments of 4 slots). A node that is not
//     a member cannot get its lines ordered; a node that is killed loses
//     the lines it had not got ordered.
//   - The whole chat is the application's state, sent whole in a state
//     transfer: it is bounded (256 KiB; later lines are refused).
//   - Anyone who reaches a node's client server (-client-addr, by default
//     127.0.0.1 on a free port) can post under any name: clients are not
//     authenticated.
package main
