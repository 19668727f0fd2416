package netfuzz_test

import (
	"flag"
	"sync"
	"testing"

	"github.com/mirframework/mir/internal/netfuzz"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

type note struct {
	stdtypes.MessageBase
	Text string
}

var _ = codec.Register[note]("netfuzztest.Note")

// FuzzReceived: every seed comes, decoded, from every sender, and the
// senders are the nodes numbered below the count.
func FuzzReceived(f *testing.F) {
	var mu sync.Mutex
	got := map[string]bool{}
	f.Cleanup(func() {
		if fuzzing := flag.Lookup("test.fuzz").Value.String() != ""; !fuzzing && len(got) != 6 {
			f.Errorf("received %v, want each of 2 notes from each of 3 senders", got)
		}
	})
	seeds := []stdtypes.Message{&note{Text: "a"}, &note{Text: "b"}}
	netfuzz.Received(f, 3, seeds, func(t *testing.T, from stdtypes.NodeID, msg stdtypes.Message) {
		n, ok := msg.(*note)
		if !ok || (from != "0" && from != "1" && from != "2") {
			t.Fatalf("received %T from %q", msg, from)
		}
		mu.Lock()
		defer mu.Unlock()
		got[string(from)+n.Text] = true
	})
}
