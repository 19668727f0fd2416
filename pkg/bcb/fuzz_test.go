package bcb_test

import (
	"testing"

	"github.com/mirframework/mir/internal/netfuzz"
	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzReceive feeds a node whatever another node could send: bytes from
// the network, decoded as the transport would, from any sender, to a node
// that leads an instance and takes part in another. Whatever it gets, the
// node must not fail (an error would stop it) nor panic, and the crypto
// module's answers to what it asks must be accepted too.
func FuzzReceive(f *testing.F) {
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	seeds := []stdtypes.Message{
		&bcb.SendMsg{Seq: 0, Payload: []byte("a")},
		&bcb.SendMsg{Seq: 3, Low: 2, Payload: []byte("b")},
		&bcb.EchoMsg{Seq: 0, Sig: sign(f, 4, 2, bcb.InstanceID{Leader: "1", Seq: 0}, []byte("mine"))},
		&bcb.EchoMsg{Seq: 0, Sig: make([]byte, 64)},
		certificate(f, 4, id, []byte("a"), 0, 2, 3),
		certificate(f, 4, id, []byte("a"), 0, 0, 3),
		&bcb.AckMsg{Seq: 0, Digest: bcb.Digest(id, []byte("mine"))},
		&bcb.SendMsg{Incarnation: 1, Seq: 1, Payload: []byte("c")},
	}
	// Nodes 0 to 3 are the members, node 4 a stranger.
	netfuzz.Received(f, 5, seeds, func(t *testing.T, sender stdtypes.NodeID, msg stdtypes.Message) {
		n := newNode(t, "1", func(p *bcb.ModuleParams) { p.MaxPayloadBytes = 1 << 10; p.Window = 16 })
		n.apply(t, bcb.NewBroadcast(mc.Self, 0, []byte("mine")))
		n.apply(t, received("0", &bcb.SendMsg{Seq: 0, Payload: []byte("a")}))
		n.apply(t, received(sender, msg), received(sender, msg), bcb.NewTick(mc.Self))
		if own, slots, queued, _ := n.bcb.Sizes(); own > 16 || slots > 4*16 || queued > 0 {
			t.Fatalf("state beyond the windows: %d own, %d slots, %d queued", own, slots, queued)
		}
	})
}
