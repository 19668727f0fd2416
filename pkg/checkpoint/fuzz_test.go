package checkpoint_test

import (
	"testing"

	"github.com/mirframework/mir/internal/netfuzz"
	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzReceive feeds a node whatever another node could send: bytes from
// the network, decoded as the transport would, from any sender, to a node
// that has a stable checkpoint (epoch 0) and one under way (epoch 1).
// Whatever it gets, the node must not fail (an error would stop it) nor
// panic, the answers of its crypto module and hasher must be accepted,
// and its state must stay within its bounds.
func FuzzReceive(f *testing.F) {
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	st0, st1, st9 := testState(0, voters), testState(1, voters), testState(9, voters)
	setup := []stdtypes.Event{
		received(1, checkpointMsg(f, 4, 1, st0)), received(2, checkpointMsg(f, 4, 2, st0)),
		received(2, checkpointMsg(f, 4, 2, st1)),
	}
	seeds := []stdtypes.Message{
		checkpointMsg(f, 4, 1, st1),
		checkpointMsg(f, 4, 2, testState(2, voters)),
		&checkpoint.StableCheckpointMsg{Cert: certOf(f, 4, st1, 0, 1, 2)},
		&checkpoint.StableCheckpointMsg{Cert: certOf(f, 4, st9, 0, 1, 3)},
		&checkpoint.SnapshotRequestMsg{Epoch: 0},
		&checkpoint.SnapshotResponseMsg{State: st1},
		&checkpoint.SnapshotResponseMsg{State: st9},
	}
	// Nodes 0 to 3 are the voters, node 4 a stranger.
	netfuzz.Received(f, 5, seeds, func(t *testing.T, sender stdtypes.NodeID, msg stdtypes.Message) {
		tn := newTestNode(t, 4, 3, func(p *checkpoint.ModuleParams) { p.EpochWindow = 4; p.MaxStateBytes = 1 << 12 })
		tn.apply(t, tn.start(st0))
		tn.apply(t, setup...)
		tn.apply(t, tn.start(st1))
		rcv := stdevents.NewMessageReceived(mc.Self, sender, msg)
		tn.apply(t, rcv, rcv, checkpoint.NewTick(mc.Self))
		// A state transfer the message may have started, answered by
		// whomever it asked.
		tn.apply(t, received(0, &checkpoint.SnapshotResponseMsg{State: st9}), received(0, msg))
		if epochs, early, retained, claims, requests := tn.m.Sizes(); epochs > 4 || early > 4*4 || retained > 2 || claims > 4 || requests > 0 {
			t.Fatalf("state beyond its bounds: %d epochs, %d early, %d retained, %d claims, %d requests", epochs, early, retained, claims, requests)
		}
	})
}
