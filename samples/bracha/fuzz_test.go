package bracha_test

import (
	"testing"

	"github.com/mirframework/mir/internal/netfuzz"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/samples/bracha"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzReceive feeds a node whatever another node could send: bytes from
// the network, decoded as the transport would, from any sender, to a node
// that broadcast and takes part in another instance. Whatever it gets, the
// node must not fail (an error would stop it) nor panic, and must send
// only the protocol's messages, to members, through the reliablenet
// module.
func FuzzReceive(f *testing.F) {
	seeds := []stdtypes.Message{
		&bracha.SendMsg{Seq: 1, Value: "a"},
		&bracha.SendMsg{Seq: 9, Value: "b"},
		&bracha.EchoMsg{Origin: "0", Seq: 1, Value: "a"},
		&bracha.EchoMsg{Origin: "4", Seq: 1, Value: "a"},
		&bracha.ReadyMsg{Origin: "1", Seq: 1, Value: "mine"},
		&bracha.ReadyMsg{Origin: "1", Seq: 0, Value: "mine"},
		&bracha.HelloMsg{Incarnation: 2},
		&reliablenet.AckMsg{Seqs: []uint64{1}},
	}
	// Nodes 0 to 3 are the members, node 4 a stranger.
	netfuzz.Received(f, 5, seeds, func(t *testing.T, sender stdtypes.NodeID, msg stdtypes.Message) {
		m := newNode(t, "1", func(p *bracha.ModuleParams) { p.MaxSeq, p.MaxValueBytes = 8, 16 })
		apply(t, m, bracha.NewBroadcast(mc.Self, "1", 1, "mine"), receive("0", &bracha.SendMsg{Seq: 1, Value: "a"}))
		rcv := stdevents.NewMessageReceived(mc.Self, sender, msg)
		out, err := m.ApplyEvents(stdtypes.ListOf(rcv, rcv))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range out.Slice() {
			switch ev := ev.(type) {
			case *reliablenet.SendMessage:
				for _, d := range ev.Destinations {
					if d < "0" || d > "3" {
						t.Errorf("sent to %s", d)
					}
				}
			case *reliablenet.CancelPrefix, *bracha.Deliver:
			default:
				t.Errorf("emitted %T", ev)
			}
		}
	})
}
