package checkpoint_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// The simulation runs 4 nodes over lossy, reordering links; a test driver
// stands in for ISS: it starts the checkpoints of epochs 0 to
// simEpochs-1 on every node, one every simEpochPeriod, but node 3 is cut
// off from the others meanwhile and gets only the Start of epoch 0. Once
// the partition heals, node 3 must catch up by state transfer: learn the
// latest stable certificate (whose epoch's voters it does not know: a
// weak quorum vouches for it), fetch its State and hand it to ISS. Then
// every node, node 3 included, checkpoints one more epoch the normal way.
// The same with node 3 crashed and restarted with nothing, with a
// Byzantine node serving forged certificates and States, and with weighted
// voters.
//
// On every event, every Stable must be of the State the driver started
// for its epoch, with a certificate that verifies against the epoch's
// voters, and each node's Stables must come in increasing epochs.

const (
	simEpochs      = 8
	simEpochPeriod = 30 * time.Millisecond
	simHealAt      = 400 * time.Millisecond
)

var simLinks = sim.LinkConfig{
	Latency: testsim.Uniform(time.Millisecond, 10*time.Millisecond),
	Loss:    0.1,
	Reorder: 0.2,
}

// simVoters are the voters of every epoch, unless a run has others.
var simVoters = membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)

// simRun is a kind of run: node 3 is cut off, or crashes and restarts;
// node 1 forges certificates and States if byzantine.
type simRun struct {
	byzantine, crash bool
	voters           membership.Voters
}

func simConfig(t testing.TB, voters membership.Voters) deploytest.Config {
	t.Helper()
	nodes := stdtypes.NumberedNodeIDs(4)
	keys, pubs, err := nodeKeys(nodes)
	if err != nil {
		t.Fatal(err)
	}
	rmcSelf := stdtypes.ModuleID("rnet")
	return deploytest.Config{
		Nodes: nodes,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			cfg := mc
			cfg.Net, cfg.Timer = info.Transport, info.Timer
			p := checkpoint.DefaultModuleParams(voters)
			p.ResendPeriod, p.SnapshotTimeout = 50*time.Millisecond, 50*time.Millisecond
			m, err := checkpoint.NewModule(info.ID, cfg, p, nil)
			if err != nil {
				return nil, err
			}
			rp := reliablenet.DefaultModuleParams(uint64(info.Incarnation))
			rp.TickPeriod, rp.MinBackoffTicks, rp.MaxBackoffTicks = 10*time.Millisecond, 2, 5
			rn, err := reliablenet.NewModule(info.ID, reliablenet.ModuleConfig{
				Self: rmcSelf, Net: info.Transport, Timer: info.Timer, Users: []stdtypes.ModuleID{mc.Self},
			}, rp, nil)
			if err != nil {
				return nil, err
			}
			c, err := crypto.New(keys[slices.Index(nodes, info.ID)], pubs)
			if err != nil {
				return nil, err
			}
			cm, err := crypto.NewModule(c)
			if err != nil {
				return nil, err
			}
			h, err := crypto.NewHasher(crypto.SHA256)
			if err != nil {
				return nil, err
			}
			return modules.Modules{mc.Self: m, rmcSelf: rn, mc.Crypto: cm, mc.Hasher: h, mc.ISS: modules.NullPassive{}, replyTo: modules.NullPassive{}}, nil
		},
	}
}

func TestSimulationStateTransfer(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) { _ = runSim(t, seed, simRun{voters: simVoters}) })
}

// Node 3 crashes rather than being cut off, and restarts with nothing
// (no WAL): it knows only the voters of its parameters.
func TestSimulationRestart(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) { _ = runSim(t, seed, simRun{crash: true, voters: simVoters}) })
}

// With a Byzantine node that sends a forged certificate of another State
// in its STABLECHECKPOINTs, and that State in its SNAPSHOTRESPONSEs, node
// 3 still catches up to the real State: one node is no weak quorum, and a
// forged State does not match a real certificate.
func TestSimulationByzantineServer(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) { _ = runSim(t, seed, simRun{byzantine: true, voters: simVoters}) })
}

// With weights 2, 1, 1, 1, node 0 alone is a weak quorum: node 3 takes
// its word for a certificate; nodes 0, 1 and 2 (4 of 5) are a strong
// quorum without node 3.
func TestSimulationWeighted(t *testing.T) {
	weighted := membership.Voters{{ID: "0", Weight: 2}, {ID: "1", Weight: 1}, {ID: "2", Weight: 1}, {ID: "3", Weight: 1}}
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) { _ = runSim(t, seed, simRun{voters: weighted}) })
}

// runSim runs one kind of run with one seed, and returns the run's hash.
func runSim(t *testing.T, seed uint64, run simRun) uint64 {
	byzantine, crash, voters := run.byzantine, run.crash, run.voters
	d, err := deploytest.NewSimulated(simConfig(t, voters), deploytest.SimOptions{Seed: seed, Network: sim.Options{Link: simLinks}})
	if err != nil {
		t.Fatal(err)
	}
	if byzantine {
		if err := d.Network().SetAdversary("1", forgeStates()); err != nil {
			t.Fatal(err)
		}
	}
	stablesOf := deploytest.Collect[*checkpoint.Stable](d)
	d.Check(&stableProperty{correct: !byzantine, voters: voters})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if crash {
		d.Node("3").CrashAt(20 * time.Millisecond)
		d.Node("3").RestartAt(simHealAt)
	} else if err := d.Network().Isolate("3", 20*time.Millisecond, simHealAt); err != nil {
		t.Fatal(err)
	}
	s := d.Sim()
	start := func(id stdtypes.NodeID, e stdtypes.EpochNr) {
		ev := &checkpoint.Start{Header: stdtypes.NewHeader(mc.Self), ReplyTo: replyTo, State: testState(e, voters), Voters: voters}
		if err := d.Node(id).Inject(ev); err != nil {
			t.Error(err)
		}
	}
	for e := range stdtypes.EpochNr(simEpochs) {
		for _, id := range d.Nodes() {
			if id != "3" || e == 0 {
				s.At(time.Duration(e)*simEpochPeriod, func() { start(id, e) })
			}
		}
	}
	last := stdtypes.EpochNr(simEpochs - 1)
	reached := func(ids []stdtypes.NodeID, e stdtypes.EpochNr) func() bool {
		return func() bool {
			for _, id := range ids {
				st := stablesOf.Of(id)
				if len(st) == 0 || st[len(st)-1].Cert.Epoch < e {
					return false
				}
			}
			return true
		}
	}
	if err := d.WaitFor(reached([]stdtypes.NodeID{"3"}, last), 3*time.Second); err != nil {
		t.Fatalf("node 3 did not catch up to epoch %d: %v; its Stables: %v", last, err, epochsOf(stablesOf.Of("3")))
	}
	if got := stablesOf.Of("3"); got[len(got)-1].Dest() != mc.ISS {
		t.Fatalf("node 3's Stable of epoch %d went to %s, not to ISS (a state transfer)", last, got[len(got)-1].Dest())
	}
	if !byzantine {
		if err := d.WaitFor(reached(d.Nodes(), last), 3*time.Second); err != nil {
			t.Fatalf("epoch %d not stable everywhere: %v", last, err)
		}
	}
	// Node 3 takes part again: one more epoch, the normal way.
	for _, id := range d.Nodes() {
		start(id, last+1)
	}
	if err := d.WaitFor(reached(d.Nodes(), last+1), 3*time.Second); err != nil {
		t.Fatalf("epoch %d not stable everywhere after the catch-up: %v", last+1, err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	return s.Hash()
}

// A run is a function of its seed: the module lets no map order or clock
// into its output.
func TestSimulationDeterministic(t *testing.T) {
	for _, run := range []simRun{{voters: simVoters}, {byzantine: true, voters: simVoters}, {crash: true, voters: simVoters}} {
		if a, b := runSim(t, 7, run), runSim(t, 7, run); a != b {
			t.Errorf("%+v: hashes %x and %x for one seed", run, a, b)
		}
	}
}

func epochsOf(stables []*checkpoint.Stable) []stdtypes.EpochNr {
	var es []stdtypes.EpochNr
	for _, s := range stables {
		es = append(es, s.Cert.Epoch)
	}
	return es
}

// stableProperty is violated by a Stable of another State than the one
// started for its epoch, with a certificate that does not verify against
// the epoch's voters (checked where the node could verify it: all but
// state transfers accepted on a weak quorum's word, which correct is set
// to check too when every node is correct), or out of order in its
// node's run.
type stableProperty struct {
	correct bool
	voters  membership.Voters
	// last is the epoch of the latest Stable of each run of each node.
	last map[nodeRun]stdtypes.EpochNr
}

type nodeRun struct {
	node        stdtypes.NodeID
	incarnation int
}

func (p *stableProperty) Name() string { return "stable checkpoints" }
func (p *stableProperty) NewRun() testsim.Property {
	return &stableProperty{correct: p.correct, voters: p.voters, last: map[nodeRun]stdtypes.EpochNr{}}
}

func (p *stableProperty) Observe(o *testsim.Observation) error {
	ev, ok := o.Event.(*checkpoint.Stable)
	if !ok {
		return nil
	}
	e := ev.Cert.Epoch
	want := testState(e, p.voters)
	if ev.State.Epoch != e || ev.State.SeqNr != want.SeqNr || !bytes.Equal(ev.State.AppData, want.AppData) ||
		!bytes.Equal(checkpoint.StateHash(crypto.SHA256, ev.State), ev.Cert.StateHash) {
		return fmt.Errorf("node %s: Stable of epoch %d with another State", o.Node, e)
	}
	run := nodeRun{o.Node, o.Incarnation}
	if last, ok := p.last[run]; ok && e <= last {
		return fmt.Errorf("node %s: Stable of epoch %d after one of %d", o.Node, e, last)
	}
	p.last[run] = e
	if p.correct {
		items, err := checkpoint.VerifyCertificate(ev.Cert, p.voters)
		if err != nil {
			return fmt.Errorf("node %s: %w", o.Node, err)
		}
		_, pubs, err := nodeKeys(p.voters.IDs())
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := pubs[it.Signer].Verify(it.Msg, it.Sig); err != nil {
				return fmt.Errorf("node %s: certificate of epoch %d: signature of %s: %w", o.Node, e, it.Signer, err)
			}
		}
	}
	return nil
}

// forgeStates makes a node lie in its STABLECHECKPOINTs (a certificate
// of another State, with its real signatures and random others) and its
// SNAPSHOTRESPONSEs (that other State).
func forgeStates() sim.Adversary {
	return sim.AdversaryFunc(func(_ stdtypes.NodeID, r *rand.Rand) sim.Attack {
		return sim.AttackFunc(func(dst []sim.Outgoing, o sim.Outgoing) []sim.Outgoing {
			switch m := o.Msg.(type) {
			case *checkpoint.StableCheckpointMsg:
				forged := *m
				forged.Cert.StateHash = checkpoint.StateHash(crypto.SHA256, forgedState(m.Cert.Epoch, m.Cert.SeqNr))
				forged.Cert.Signatures = slices.Clone(m.Cert.Signatures)
				if r.IntN(2) == 0 {
					forged.Cert.Signatures[0].Sig = slices.Clone(forged.Cert.Signatures[0].Sig)
					forged.Cert.Signatures[0].Sig[0] ^= 1
				}
				o.Msg = &forged
			case *checkpoint.SnapshotResponseMsg:
				o.Msg = &checkpoint.SnapshotResponseMsg{State: forgedState(m.State.Epoch, m.State.SeqNr)}
			}
			return append(dst, o)
		})
	})
}

func forgedState(e stdtypes.EpochNr, sn stdtypes.SeqNr) checkpoint.State {
	return checkpoint.State{Epoch: e, SeqNr: sn, AppData: []byte("forged"), Voters: []membership.Voters{simVoters}}
}
