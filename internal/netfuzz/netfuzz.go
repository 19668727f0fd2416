// Package netfuzz is the frame of the fuzz tests of what a module takes
// from the network: seeds that are messages, encoded as a transport sends
// them, and inputs handed to the module as a transport would hand them, a
// sender and a message that decodes.
package netfuzz

import (
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Received fuzzes what a node receives from senders nodes, numbered 0 to
// senders-1 (a test may take the last for a stranger). It seeds f with the
// encoding of each of seeds from each sender, and calls receive with the
// sender and the message of every input whose bytes decode: one that does
// not, the transport drops. The fuzzed arguments are a byte, the sender
// modulo senders, and the message's encoding, which is what the seeds kept
// in testdata/fuzz hold.
func Received(f *testing.F, senders int, seeds []stdtypes.Message, receive func(t *testing.T, from stdtypes.NodeID, msg stdtypes.Message)) {
	f.Helper()
	if senders < 1 || senders > 256 {
		f.Fatalf("netfuzz: %d senders; a byte numbers 1 to 256", senders)
	}
	for _, msg := range seeds {
		data, err := codec.EncodeMessage(msg)
		if err != nil {
			f.Fatal(err)
		}
		for from := range senders {
			f.Add(byte(from), data)
		}
	}
	f.Fuzz(func(t *testing.T, from byte, data []byte) {
		msg, err := codec.DecodeMessage(data)
		if err != nil {
			return // The transport drops it.
		}
		receive(t, stdtypes.NewNodeIDFromInt(int(from)%senders), msg)
	})
}
