package bracha_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/codec"
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
	for _, msg := range []stdtypes.Message{
		&bracha.SendMsg{Seq: 1, Value: "a"},
		&bracha.SendMsg{Seq: 9, Value: "b"},
		&bracha.EchoMsg{Origin: "0", Seq: 1, Value: "a"},
		&bracha.EchoMsg{Origin: "4", Seq: 1, Value: "a"},
		&bracha.ReadyMsg{Origin: "1", Seq: 1, Value: "mine"},
		&bracha.ReadyMsg{Origin: "1", Seq: 0, Value: "mine"},
		&bracha.HelloMsg{Incarnation: 2},
		&reliablenet.AckMsg{Seqs: []uint64{1}},
	} {
		data, err := codec.EncodeMessage(msg)
		if err != nil {
			f.Fatal(err)
		}
		for from := range byte(5) {
			f.Add(from, data)
		}
	}
	f.Fuzz(func(t *testing.T, from byte, data []byte) {
		msg, err := codec.DecodeMessage(data)
		if err != nil {
			return // The transport drops it.
		}
		m := newNode(t, "1", func(p *bracha.ModuleParams) { p.MaxSeq, p.MaxValueBytes = 8, 16 })
		apply(t, m, bracha.NewBroadcast(mc.Self, "1", 1, "mine"), receive("0", &bracha.SendMsg{Seq: 1, Value: "a"}))
		sender := stdtypes.NewNodeIDFromInt(int(from % 5)) // "4" is a stranger.
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
