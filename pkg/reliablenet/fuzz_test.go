package reliablenet_test

import (
	"testing"

	"github.com/mirframework/mir/internal/netfuzz"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzReceive feeds a node whatever a peer could send: bytes from the
// network, decoded as the transport would, from any sender, to a node
// with messages in flight. Whatever it gets, the module must not fail (an
// error would stop the node) nor panic, deliver only to its users, and
// keep no more in flight than it was asked to send.
func FuzzReceive(f *testing.F) {
	seeds := []stdtypes.Message{
		&reliablenet.AckMsg{Incarnation: 1, Seqs: []uint64{0, 1}},
		&reliablenet.AckMsg{Incarnation: 2, Seqs: []uint64{0}},
		&reliablenet.AckMsg{Incarnation: 1, Seqs: make([]uint64, reliablenet.MaxAcksPerMessage+1)},
		&reliablenet.DataMsg{Incarnation: 1, Seq: 3, MsgDest: appID, Msg: &note{Text: "x"}},
		&reliablenet.DataMsg{Incarnation: 1, Seq: 3, MsgDest: "app/sub", Msg: &reliablenet.AckMsg{}},
		&reliablenet.DataMsg{Incarnation: 1, Seq: 3, MsgDest: rnetID, Msg: &note{}},
		&reliablenet.DataMsg{Incarnation: 1, Seq: 3, MsgDest: appID},
		&note{Text: "not for this module"},
	}
	netfuzz.Received(f, 4, seeds, func(t *testing.T, sender stdtypes.NodeID, msg stdtypes.Message) {
		m := newModule(t, "0", nil)
		apply(t, m, send("x", "a", "1", "2"), send("y", "b", "2"))
		rcv := stdevents.NewMessageReceived(rnetID, sender, msg)
		out, err := m.ApplyEvents(stdtypes.ListOf(rcv, rcv, tick(), tick()))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range out.Slice() {
			switch ev := ev.(type) {
			case *stdevents.MessageReceived:
				if !ev.Dest().IsSubOf(appID) || ev.From != sender {
					t.Errorf("delivered to %s from %s", ev.Dest(), ev.From)
				}
			case *stdevents.SendMessage:
				if ev.Dest() != mc.Net || ev.MsgDest != rnetID {
					t.Errorf("sent to %s/%s", ev.Dest(), ev.MsgDest)
				}
			default:
				t.Errorf("emitted %T", ev)
			}
		}
		if st := m.Stats(); st.Pending > 2 {
			t.Errorf("%+v", st)
		}
	})
}
