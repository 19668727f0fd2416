// Command mircat is mircat (package pkg/mircat) for the Bracha broadcast
// of samples/bracha: it shows, steps through and replays the recordings
// of samples/bracha/node, whose types it knows and whose nodes it can
// rebuild. A mircat for a protocol of your own is this file with your
// protocol's replay builder.
//
//	go run ./samples/bracha/mircat show /tmp/bracha/run --node 1 --module bracha
//	go run ./samples/bracha/mircat replay /tmp/bracha/run
package main

import (
	"os"

	"github.com/mirframework/mir/pkg/mircat"
	"github.com/mirframework/mir/samples/bracha"
)

func main() {
	os.Exit(mircat.Main(os.Args[1:], mircat.WithReplayBuilders(bracha.Replay.Builder())))
}
