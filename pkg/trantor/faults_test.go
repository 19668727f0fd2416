package trantor_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/stdtypes"
)

func TestLossyLinks(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(nodesName(n), func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				c := newCluster(t, seed, clusterOptions{n: n, network: sim.Options{Link: isstest.LossyLinks()}})
				run(t, c, seed, defaultLoad)
			})
		})
	}
}

// TestCrashRestart: f nodes crash and restart, twice each, at random
// points of their runs (half of them in the middle of a batch of events).
// Each comes back from its WAL (and catches up by state transfer when
// the others collected what it missed), and ends with the others' state.
func TestCrashRestart(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(nodesName(n), func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				c := newCluster(t, seed, clusterOptions{n: n})
				crashes, err := isstest.ScheduleCrashes(c.Simulated, isstest.CrashPlan{
					F: (n - 1) / 3, From: 100 * time.Millisecond, Until: 2 * time.Second,
					MinDown: 50 * time.Millisecond, MaxDown: time.Second, Times: 2, AtEvent: 0.5,
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("crashes: %v", crashes)
				run(t, c, seed, defaultLoad)
			})
		})
	}
}

// TestLongCrash: a node down for long enough that the others collect the
// epochs it missed comes back by state transfer, with the state of the
// others.
func TestLongCrash(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{n: 4, params: func(p *trantor.Params) { p.ISS.SegmentLength = 4 }})
		victim := c.Nodes()[int(seed%4)]
		c.Node(victim).CrashAt(200 * time.Millisecond)
		c.Node(victim).RestartAt(3 * time.Second)
		l := defaultLoad
		l.Txs = 450 // 3 s: many epochs, collected while the node is down
		run(t, c, seed, l)
		if s := c.ISS(victim).Stats(); s.StateTransfers == 0 {
			t.Errorf("node %s caught up without a state transfer: %+v", victim, s)
		}
	})
}

// TestByzantineLeader: a leader that tells half of the nodes one thing
// and the others another: different batches to sign (availability's
// REQUESTSIG), or different certificates to order (PBFT's PREPREPARE).
// The correct nodes execute the same transactions, each once.
func TestByzantineLeader(t *testing.T) {
	for _, b := range []struct {
		name  string
		forge func(stdtypes.Message) stdtypes.Message
	}{
		{"availability", trantortest.ForgeRequestSig},
		{"pbft", trantortest.ForgePrePrepare},
	} {
		t.Run(b.name, func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				byz := stdtypes.NodeID("1")
				// Nodes 2 and 3 are told the forged version, node 0 the
				// truth.
				eq := &trantortest.Equivocation{Forge: b.forge, Victims: []stdtypes.NodeID{"2", "3"}}
				c := newCluster(t, seed, clusterOptions{n: 4, adversaries: map[stdtypes.NodeID]sim.Adversary{byz: eq.Adversary()}})
				run(t, c, seed, defaultLoad, without(c.Nodes(), byz)...)
				if eq.Changed == 0 {
					t.Error("the adversary changed no message")
				}
			})
		})
	}
}

func without(nodes []stdtypes.NodeID, drop stdtypes.NodeID) []stdtypes.NodeID {
	var out []stdtypes.NodeID
	for _, id := range nodes {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}
