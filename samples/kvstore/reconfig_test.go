package kvstore_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/samples/kvstore"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// reconfigRun is a system of 4 voters and a spare node "4", whose
// clients run a long closed loop, and an operator that reconfigures it
// through the store (SetVoters) while they do.
type reconfigRun struct {
	t       *testing.T
	sys     *trantortest.System
	clients *trantortest.Clients
	// checkpoints counts, per node, the CHECKPOINT messages (its
	// signature of a checkpoint) it sent.
	checkpoints map[stdtypes.NodeID]int
	// executedIn is the epoch each operator's operation was executed in.
	executedIn map[uint64]stdtypes.EpochNr
}

func newReconfigRun(t *testing.T, seed uint64, network sim.Options) *reconfigRun {
	sys, err := trantortest.NewSystem(trantortest.Config{N: 4, Spare: 1, Seed: seed, Network: network, NewApp: func(stdtypes.NodeID) trantor.App {
		s, _ := kvstore.New(0)
		return s
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Stop() })
	r := &reconfigRun{t: t, sys: sys, checkpoints: map[stdtypes.NodeID]int{}, executedIn: map[uint64]stdtypes.EpochNr{}}
	sys.Observe(r.observe)
	if r.clients, err = sys.NewClients(trantortest.ClientOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.clients.Loop(trantortest.ClientLoad{Clients: numClients, Ops: 1000, Start: time.Millisecond, Think: 2 * time.Millisecond, Next: nextOp()}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *reconfigRun) observe(o *testsim.Observation) {
	switch ev := o.Event.(type) {
	case *stdevents.SendMessage:
		msg := ev.Msg
		if dm, ok := msg.(*reliablenet.DataMsg); ok {
			msg = dm.Msg
		}
		if _, ok := msg.(*checkpoint.CheckpointMsg); ok {
			r.checkpoints[o.Node]++
		}
	case *trantor.Executed:
		for _, tx := range ev.Txs {
			if tx.ClientID == "operator" {
				r.executedIn[tx.TxNo] = ev.Epoch
			}
		}
	}
}

// setVoters has the operator submit SetVoters(voters), and waits until
// the membership applies: ConfigOffset+1 epochs after the epoch that
// executed it, started by every node of want.
func (r *reconfigRun) setVoters(voters membership.Voters, want ...stdtypes.NodeID) {
	r.t.Helper()
	data := encode(r.t, kvstore.Op{Kind: kvstore.SetVoters, Voters: voters})
	op := r.clients.Submit("operator", data, nil)
	r.waitFor("SetVoters answered", func() bool { return op.Done })
	from := r.executedIn[op.TxNo] + stdtypes.EpochNr(r.sys.Params.ISS.ConfigOffset) + 1
	r.waitFor("the membership applied", func() bool {
		for _, id := range want {
			if r.sys.ISS(id).Stats().Epoch < from {
				return false
			}
		}
		return true
	})
	r.t.Logf("%v: voters %v from epoch %d", r.sys.Now(), voters.IDs(), from)
}

// progress waits until the clients had n more operations answered.
func (r *reconfigRun) progress(what string, n int) {
	r.t.Helper()
	start := r.answered()
	r.waitFor(what, func() bool { return r.answered() >= start+n })
}

func (r *reconfigRun) answered() int {
	n := 0
	for _, op := range r.clients.History() {
		if op.Done {
			n++
		}
	}
	return n
}

func (r *reconfigRun) waitFor(what string, cond func() bool) {
	r.t.Helper()
	if err := r.sys.WaitFor(cond, 20*time.Second); err != nil {
		r.t.Fatalf("%s: %v; reached %v", what, err, r.sys.Checker.Reached())
	}
}

// TestReconfiguration: under the clients' load, the operator adds node 4
// (which joins by state transfer, catches up, then signs checkpoints
// and orders), node 0 crashes for good (the system goes on only if node
// 4 counts: 4 of 5 voters make a strong quorum), the operator removes
// node 0, and node 1 crashes for good (the system goes on only if node 0
// no longer counts: 3 of 5 voters would not make one, 3 of 4 do). The
// store stays linearizable throughout, and the nodes left end with the
// same state.
func TestReconfiguration(t *testing.T) {
	runSeeds(t, seeds(reconfigShare), func(t *testing.T, seed uint64) {
		r := newReconfigRun(t, seed, sim.Options{})
		nodes := stdtypes.NumberedNodeIDs(5)
		r.progress("the load before the change", 10)

		r.setVoters(membership.EqualVoters(nodes...), nodes...)
		r.progress("the load with node 4", 10)
		if s := r.sys.ISS("4").Stats(); s.StateTransfers == 0 || s.Delivered == 0 {
			t.Errorf("node 4 made %d state transfers and delivered %d slots itself; want both", s.StateTransfers, s.Delivered)
		}
		before := r.checkpoints["4"]
		r.sys.Node("0").Crash()
		r.progress("the load without node 0, with node 4", 10)
		// A checkpoint of an epoch that ends after the crash is stable
		// only with node 4's signature: 4 of 5 voters are a strong
		// quorum.
		crashEpoch := r.sys.ISS("2").Stats().Epoch
		r.waitFor("a stable checkpoint without node 0", func() bool { return r.sys.ISS("2").Stats().StableEpoch >= crashEpoch })
		if r.checkpoints["4"] == before {
			t.Errorf("node 4 signed no checkpoint after node 0 crashed")
		}

		r.setVoters(membership.EqualVoters(nodes[1:]...), nodes[1:]...)
		r.sys.Node("1").Crash()
		r.progress("the load without nodes 0 and 1, node 0 removed", 10)

		left := nodes[2:]
		r.clients.StopLoops()
		r.waitFor("the clients done", r.clients.Done)
		if err := r.clients.Settle(left...); err != nil {
			t.Fatal(err)
		}
		t.Logf("simulated %v, %d events; node 4 %+v", r.sys.Now(), r.sys.Sim().Events(), r.sys.ISS("4").Stats())
		if err := checkLinearizable(r.clients.History()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReconfigurationUnderFaults: over lossy links, node 4 joins, crashes
// and restarts from its WAL as a voter; node 0 is removed and goes on
// running outside the membership; node 1 crashes for good. The system
// goes on, the store stays linearizable, and the voters left end with
// the same state.
func TestReconfigurationUnderFaults(t *testing.T) {
	runSeeds(t, seeds(reconfigShare), func(t *testing.T, seed uint64) {
		r := newReconfigRun(t, seed, sim.Options{Link: isstest.LossyLinks()})
		nodes := stdtypes.NumberedNodeIDs(5)
		r.progress("the load before the change", 10)
		r.setVoters(membership.EqualVoters(nodes...), nodes...)
		down := time.Duration(50+r.sys.Sim().NewRand("kvstore/reconfig").IntN(300)) * time.Millisecond
		r.sys.Node("4").Crash()
		r.sys.Node("4").RestartAt(r.sys.Now() + down)
		r.progress("the load while node 4 is down", 10)
		r.setVoters(membership.EqualVoters(nodes[1:]...), nodes[1:]...)
		r.sys.Node("1").Crash()
		r.progress("the load without node 1, node 0 removed", 10)

		r.clients.StopLoops()
		r.waitFor("the clients done", r.clients.Done)
		if err := r.clients.Settle(nodes[2:]...); err != nil {
			t.Fatal(err)
		}
		if err := checkLinearizable(r.clients.History()); err != nil {
			t.Fatal(err)
		}
	})
}

// reconfigShare is the share of -kv.seeds, out of 200, that
// TestReconfiguration runs: 2 seeds of 200, each a few seconds long.
const reconfigShare = 2
