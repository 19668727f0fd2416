// Command mircat reads, shows, steps through, replays and exports the event
// logs Mir nodes record (package eventlog). It is package mircat with the
// protocols of this repository: their types, which importing them
// registers, and their replay builders. See package mircat for the
// commands, and for how to build a mircat that knows your own protocol.
//
//	mircat list run/
//	mircat show run/ --module pingpong
//	mircat debug run/0.000000.mirlog
//	mircat replay run/
//	mircat export --sqlite run.db run/
package main

import (
	"os"

	"github.com/mirframework/mir/pkg/bcb"
	_ "github.com/mirframework/mir/pkg/crypto" // The crypto module's events.
	"github.com/mirframework/mir/pkg/mircat"
	"github.com/mirframework/mir/samples/pingpong/protocol"
)

func main() {
	os.Exit(mircat.Main(os.Args[1:], builders))
}

// builders are the replay builders of this repository's protocols.
var builders = mircat.WithReplayBuilders(bcb.Replay.Builder(), protocol.Replay.Builder())
