// Package mircat is the mircat command as a library: it reads the event
// logs that package eventlog records (stream files, *.mirlog, directories of
// them, and SQLite logs), shows them, steps through them, replays them and
// exports them. Several logs are merged by time, so the logs of all the
// nodes of a run read as one.
//
//	mircat list run/                        # counts per node, module, event type
//	mircat show run/ --module pingpong      # one line per event
//	mircat show run/ --event mir.SendMessage --json | jq .event
//	mircat debug run/0.000000.mirlog        # step through node 0's log
//	mircat replay run/                      # re-run the nodes, compare outputs
//	mircat export --sqlite run.db run/      # copy into SQLite, for SQL queries
//
// The command github.com/mirframework/mir/cmd/mircat is this package with
// the protocols of the Mir repository. A user's protocol gets its own
// mircat from a main of a few lines that names the protocol's replay
// builders:
//
//	package main
//
//	import (
//		"os"
//
//		"github.com/mirframework/mir/pkg/mircat"
//
//		"example.com/myproto"
//	)
//
//	func main() {
//		os.Exit(mircat.Main(os.Args[1:], mircat.WithReplayBuilders(myproto.Replay.Builder())))
//	}
//
// # Types
//
// mircat decodes the events and messages whose types are registered with
// package codec in its binary, which every package does for its own types
// when it is linked in (codec.Register in a package-level declaration): the
// import that names a protocol's replay builder brings its types along, and
// a package with types but no builder is named by a blank import (import _
// "example.com/myproto/events"). Replay builders, in contrast, are given
// explicitly (WithReplayBuilders): which protocols a binary can rebuild is
// a choice of that binary, while the name of a type is a fact of the type,
// the same in every binary that encodes or decodes it (nodes, transports,
// logs), and so declared once, next to the type.
//
// An event whose type the binary does not know (or one holding a message of
// such a type) is still shown, by show and debug, with and without --json:
// the registered name the log holds for it and its fields decoded
// generically as plain data (codec.DecodeGeneric); a nested value of an
// unknown type is shown by its tag number.
//
// # Exit codes
//
// 0 when the logs were read (warnings about a log cut off by a crash or
// events the recorder dropped go to standard error); 1 when nothing could
// be read or the output failed; 2 for a usage error; 3 when the logs were
// read only in part (an input could not be opened, or a log is damaged: a
// part of it fails its checksum, the events before it are shown); 4 when a
// replay diverged from its recording.
package mircat
