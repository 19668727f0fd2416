package trantor_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// TestViewZeroProposalLost: the only node clients submit to loses its
// PREPREPAREs for a while: the others change view, and the slots it had
// pre-prepared with its certificates end ⊥. Their transactions, which
// no other node holds, must still execute: availability hands them back
// to the mempool once their epoch is over, and the node proposes them
// again (the client's retries to it are duplicates of what it holds).
func TestViewZeroProposalLost(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		const entry = stdtypes.NodeID("2")
		var now func() time.Duration
		dropped := 0
		adv := sim.Rewrite(func(m sim.Outgoing, _ *rand.Rand) stdtypes.Message {
			if dm, ok := m.Msg.(*reliablenet.DataMsg); ok && now != nil {
				if pp, ok := dm.Msg.(*pbft.PrePrepareMsg); ok && pp.View == 0 && len(pp.Value) > 0 &&
					now() >= 100*time.Millisecond && now() < time.Second {
					dropped++
					return nil
				}
			}
			return m.Msg
		})
		c := newCluster(t, seed, clusterOptions{n: 4, adversaries: map[stdtypes.NodeID]sim.Adversary{entry: adv}})
		now = c.Now
		l := defaultLoad
		l.To = []stdtypes.NodeID{entry}
		run(t, c, seed, l)
		if dropped == 0 {
			t.Error("no PREPREPARE dropped")
		}
	})
}
