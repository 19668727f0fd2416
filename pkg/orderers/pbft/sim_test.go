package pbft_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// The simulation tests run the orderers of one epoch, one segment per
// node (each node leads one), on 4 nodes (and 7 with weights), under a
// minimal driver module in place of ISS, the proposer and the validator.
// They check, for every seed of testsim.RunSeeds (-sim.seeds; -sim.seed=N
// runs one):
//
//   - agreement: no two correct nodes deliver different outcomes for a
//     slot;
//   - integrity: a node delivers each slot at most once per incarnation,
//     and a value only if the slot's leader proposed it (⊥ otherwise);
//   - termination: every correct node that is up at the end delivered
//     every slot of every segment.

// simSlots is the number of slots per segment.
const simSlots = 4

// driver stands in for ISS, the proposer and the validator of one node:
// it creates the epoch's orderers at Init, hands their records back at a
// restart, proposes valueOf for each slot of the segment this node leads
// (none if silent), and finds every value valid.
type driver struct {
	segs   []iss.Segment
	silent bool
	// incarnation is the node's: a leader proposes other values after a
	// restart, so that one that forgot its proposals would contradict
	// itself.
	incarnation int
}

func (d *driver) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for ev := range evs.All() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			for _, seg := range d.segs {
				out.PushBack(stdevents.NewNewSubmodule(iss.OrdererID(mc.Self, seg.Epoch, seg.Index), stdtypes.RetentionIndex(seg.Epoch), seg))
			}
		case *iss.OrdererRecord:
			// Handed back by the WAL at a restart, before any message.
			out.PushBack(ev.Event)
		case *iss.RequestProposal:
			if !d.silent {
				out.PushBack(iss.NewProposal(ev.ReplyTo, ev.SeqNr, valueOf(ev.SeqNr, d.incarnation)))
			}
		case *iss.VerifyProposal:
			out.PushBack(&iss.ProposalVerified{Header: stdtypes.NewHeader(ev.ReplyTo), Ref: ev.Ref})
		case *iss.SBDeliver, *iss.Proposed, *iss.CancelProposal:
		default:
			return nil, fmt.Errorf("driver: unexpected %T", ev)
		}
	}
	return out, nil
}

// valueOf is what a leader's incarnation proposes for slot sn.
func valueOf(sn stdtypes.SeqNr, incarnation int) []byte {
	return fmt.Appendf(nil, "value of slot %d (incarnation %d)", sn, incarnation)
}

// proposedBySomeIncarnation tells whether value is what some incarnation
// of a leader proposes for sn.
func proposedBySomeIncarnation(sn stdtypes.SeqNr, value []byte) bool {
	for inc := 1; inc < 10; inc++ {
		if bytes.Equal(value, valueOf(sn, inc)) {
			return true
		}
	}
	return false
}

// simSegments returns the segments of epoch 0: node i leads segment i,
// with slots i, i+n, ...
func simSegments(voters membership.Voters) []iss.Segment {
	n := len(voters)
	segs := make([]iss.Segment, n)
	for i, v := range voters {
		segs[i] = iss.Segment{Epoch: 0, Index: i, Leader: v.ID, Voters: voters, Buckets: []int{i}}
		for k := range simSlots {
			segs[i].SeqNrs = append(segs[i].SeqNrs, stdtypes.SeqNr(i+k*n))
		}
	}
	return segs
}

// simConfig is a deployment of the orderers on voters, with a WAL.
// silent, if not empty, is a leader whose proposer never answers.
func simConfig(t testing.TB, voters membership.Voters, silent stdtypes.NodeID) deploytest.Config {
	t.Helper()
	cfg, err := newSimConfig(voters, silent)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newSimConfig is simConfig for callers without a testing.TB.
func newSimConfig(voters membership.Voters, silent stdtypes.NodeID) (deploytest.Config, error) {
	nodes := voters.IDs()
	cs, err := cryptos(len(nodes))
	if err != nil {
		return deploytest.Config{}, err
	}
	segs := simSegments(voters)
	return deploytest.Config{
		Nodes: nodes,
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			omc := pbft.ModuleConfig{
				Self: mc.Self, ISS: "iss", Proposer: "iss", Validator: "iss", ReliableNet: "rnet",
				Crypto: "crypto", Timer: info.Timer, WAL: info.WAL,
			}
			params := pbft.DefaultModuleParams()
			params.MaxValueBytes = 1 << 10
			f, err := pbft.NewFactory(info.ID, omc, params, nil)
			if err != nil {
				return nil, err
			}
			rp := reliablenet.DefaultModuleParams(uint64(info.Incarnation))
			rp.TickPeriod, rp.MinBackoffTicks, rp.MaxBackoffTicks = 10*time.Millisecond, 2, 8
			rn, err := reliablenet.NewModule(info.ID, reliablenet.ModuleConfig{
				Self: "rnet", Net: info.Transport, Timer: info.Timer, Users: []stdtypes.ModuleID{mc.Self},
			}, rp, nil)
			if err != nil {
				return nil, err
			}
			cm, err := crypto.NewModule(cs[slices.Index(nodes, info.ID)])
			if err != nil {
				return nil, err
			}
			return modules.Modules{
				mc.Self: f, "rnet": rn, "crypto": cm,
				"iss": &driver{segs: segs, silent: info.ID == silent, incarnation: info.Incarnation},
			}, nil
		},
	}, nil
}

// simScenario is a kind of run.
type simScenario struct {
	name   string
	voters membership.Voters
	link   sim.LinkConfig
	// crash crashes a node at crashAt (0: before its first event;
	// negative: at a time drawn from the seed, in the first 12 ms);
	// restartAt > 0 restarts it.
	crash     stdtypes.NodeID
	crashAt   time.Duration
	restartAt time.Duration
	// restarting, if set, is a second node that crashes at a time drawn
	// from the seed (in the first 400 ms: before, during or after the view
	// change, which starts at 300 ms)
	// and restarts 200 ms later.
	restarting stdtypes.NodeID
	// byzantine is a Byzantine node, adversary what it does.
	byzantine stdtypes.NodeID
	adversary func() sim.Adversary
	// silent is a leader whose proposer never answers.
	silent stdtypes.NodeID
	// aborted is the segment whose slots must all be ⊥, -1 for none.
	aborted int
}

var (
	fast  = sim.LinkConfig{Latency: testsim.Uniform(time.Millisecond, 2*time.Millisecond)}
	lossy = sim.LinkConfig{
		Latency:   testsim.Uniform(time.Millisecond, 10*time.Millisecond),
		Loss:      0.1,
		Duplicate: 0.05,
		Reorder:   0.2,
	}
	four     = membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	seven    = membership.EqualVoters(stdtypes.NumberedNodeIDs(7)...)
	weighted = membership.Voters{{ID: "0", Weight: 3}, {ID: "1", Weight: 1}, {ID: "2", Weight: 1}, {ID: "3", Weight: 2}, {ID: "4", Weight: 1}, {ID: "5", Weight: 1}, {ID: "6", Weight: 1}}
)

var simScenarios = []simScenario{
	{name: "4 nodes", voters: four, link: fast, aborted: -1},
	{name: "7 weighted nodes", voters: weighted, link: fast, aborted: -1},
	{name: "lossy links", voters: four, link: lossy, aborted: -1},
	{name: "silent proposer", voters: four, link: fast, silent: "2", aborted: -1},
	{name: "leader crashed", voters: four, link: fast, crash: "1", crashAt: 0, aborted: 1},
	{name: "heaviest leader crashed, 7 weighted", voters: weighted, link: lossy, crash: "0", crashAt: 0, aborted: 0},
	{name: "leader crashes mid-segment", voters: four, link: lossy, crash: "1", crashAt: -1, aborted: -1},
	{name: "leader crashed, follower restarts mid-view-change", voters: four, link: lossy, crash: "1", crashAt: 0, restarting: "3", aborted: 1},
	{name: "leader restarts mid-segment", voters: four, link: lossy, crash: "1", crashAt: -1, restartAt: 100 * time.Millisecond, aborted: -1},
	{name: "follower restarts", voters: four, link: lossy, crash: "2", crashAt: 5 * time.Millisecond, restartAt: 400 * time.Millisecond, aborted: -1},
	{name: "forger, 7 nodes", voters: seven, link: lossy, crash: "1", crashAt: 0, byzantine: "2", adversary: forge, aborted: 1},
	{name: "equivocating leader", voters: four, link: lossy, byzantine: "0", adversary: equivocate, aborted: -1},
}

// equivocate makes a leader tell different nodes different values for
// its slots.
func equivocate() sim.Adversary {
	return sim.Equivocate(2, func(msg stdtypes.Message, version int) stdtypes.Message {
		if version == 0 {
			return msg
		}
		data, ok := msg.(*reliablenet.DataMsg)
		if !ok {
			return msg
		}
		pp, ok := data.Msg.(*pbft.PrePrepareMsg)
		if !ok {
			return msg
		}
		forged := *pp
		forged.Value = append(slices.Clip(pp.Value), " (forged)"...)
		copied := *data
		copied.Msg = &forged
		return &copied
	})
}

// forgeKey is node 2's key, which the forger signs its lies with.
var forgeKey = func() *crypto.NodeCrypto {
	cs, err := cryptos(7)
	if err != nil {
		panic(err)
	}
	return cs[2]
}()

// forge makes node 2 of 7 lie in every message of the protocol but its
// PREPREPAREs: PREPAREs and COMMITs for a value nobody proposed,
// VIEWCHANGEs that claim it prepared that value in view 0 (signed with its
// own key, so that the signature holds and only the rule that needs a
// weak quorum's PREPREPAREs stops the lie) or with a broken signature,
// and NEWVIEWs (as the leader of view 1 of the crashed leader's segment)
// that propose that value in place of ⊥.
func forge() sim.Adversary {
	return sim.Rewrite(func(o sim.Outgoing, r *rand.Rand) stdtypes.Message {
		data, ok := o.Msg.(*reliablenet.DataMsg)
		if !ok {
			return o.Msg
		}
		epoch, seg, ok := iss.ParseOrdererName(stdtypes.ModuleID(data.MsgDest.Sub()))
		if !ok {
			return o.Msg
		}
		lie := func(sn stdtypes.SeqNr) ([]byte, []byte) {
			v := []byte("forged")
			return v, pbft.ValueDigest(epoch, seg, sn, v, false)
		}
		var forged stdtypes.Message
		switch m := data.Msg.(type) {
		case *pbft.PrepareMsg:
			_, d := lie(m.SeqNr)
			forged = &pbft.PrepareMsg{View: m.View, SeqNr: m.SeqNr, Digest: d}
		case *pbft.CommitMsg:
			_, d := lie(m.SeqNr)
			forged = &pbft.CommitMsg{View: m.View, SeqNr: m.SeqNr, Digest: d}
		case *pbft.ViewChangeMsg:
			sn := stdtypes.SeqNr(seg) // The segment's first slot (simSegments).
			v, d := lie(sn)
			vc := &pbft.ViewChangeMsg{View: m.View, Prepared: []pbft.Cert{{SeqNr: sn, View: 0, Digest: d}},
				PrePrepared: []pbft.Cert{{SeqNr: sn, View: 0, Digest: d}}, Values: [][]byte{v}}
			sig, err := forgeKey.Sign(pbft.ViewChangeDigest(epoch, seg, vc.View, vc.Prepared, vc.PrePrepared))
			if err != nil {
				panic(err)
			}
			if r.IntN(3) == 0 {
				sig[0] ^= 1
			}
			vc.Signature = sig
			forged = vc
		case *pbft.NewViewMsg:
			nv := *m
			nv.Slots = slices.Clone(m.Slots)
			v, _ := lie(0)
			nv.Slots[0] = pbft.NewViewSlot{Value: v}
			forged = &nv
		default:
			return o.Msg
		}
		copied := *data
		copied.Msg = forged
		return &copied
	})
}

func TestSimulation(t *testing.T) {
	for _, sc := range simScenarios {
		t.Run(sc.name, func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) { runScenario(t, sc, seed) })
		})
	}
}

// runScenario runs one scenario with one seed and returns the run's hash.
func runScenario(t *testing.T, sc simScenario, seed uint64) uint64 {
	t.Helper()
	d, err := deploytest.NewSimulated(simConfig(t, sc.voters, sc.silent), deploytest.SimOptions{
		Seed:    seed,
		Network: sim.Options{Link: sc.link},
	})
	if err != nil {
		t.Fatal(err)
	}
	var faulty []stdtypes.NodeID
	if sc.byzantine != "" {
		faulty = append(faulty, sc.byzantine)
		if err := d.Network().SetAdversary(sc.byzantine, sc.adversary()); err != nil {
			t.Fatal(err)
		}
	}
	segs := simSegments(sc.voters)
	d.Check(newSBProperties(segs, faulty))
	// progress follows the run too, to tell when it is complete (Check
	// checks each run with a property of its own).
	progress := newSBProperties(segs, faulty)
	d.Observe(func(o *testsim.Observation) { _ = progress.Observe(o) })
	// first is the first outcome a correct node delivered, per slot.
	first := map[stdtypes.SeqNr]*iss.SBDeliver{}
	d.Observe(func(o *testsim.Observation) {
		if ev, ok := o.Event.(*iss.SBDeliver); ok && first[ev.SeqNr] == nil && !slices.Contains(faulty, o.Node) {
			first[ev.SeqNr] = ev
		}
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if sc.crash != "" {
		at := sc.crashAt
		if at < 0 {
			at = time.Duration(seed%25) * 500 * time.Microsecond
		}
		if at == 0 {
			// Before it dispatches anything: it proposes nothing.
			d.Node(sc.crash).CrashAtEvent(1)
		} else {
			d.Node(sc.crash).CrashAt(at)
		}
		if sc.restartAt > 0 {
			d.Node(sc.crash).RestartAt(sc.restartAt)
		}
	}
	var lastRestart time.Duration
	if sc.restartAt > 0 {
		lastRestart = sc.restartAt
	}
	if sc.restarting != "" {
		at := time.Duration(seed*7919%400) * time.Millisecond
		d.Node(sc.restarting).CrashAt(at)
		d.Node(sc.restarting).RestartAt(at + 200*time.Millisecond)
		lastRestart = max(lastRestart, at+200*time.Millisecond)
	}
	// Run until every correct node that is up has, in its latest
	// incarnation, delivered every slot once the restarts are done, or 20 s
	// of simulated time.
	status := func() []testsim.NodeStatus {
		var st []testsim.NodeStatus
		for _, n := range d.Sim().Nodes() {
			st = append(st, testsim.NodeStatus{ID: n.ID(), Up: n.Up(), Incarnation: n.Incarnation()})
		}
		return st
	}
	done := func() bool { return d.Now() > lastRestart && progress.complete(status()) == nil }
	if err := d.WaitFor(done, 20*time.Second); err != nil {
		t.Fatalf("seed %d: %v: %v", seed, err, progress.complete(status()))
	}
	if sc.aborted >= 0 {
		for _, sn := range segs[sc.aborted].SeqNrs {
			if f := first[sn]; f == nil || !f.Aborted {
				t.Fatalf("slot %d of the crashed leader's segment: %+v; want ⊥", sn, f)
			}
		}
	}
	return d.Sim().Hash()
}

// A run is a function of its seed.
func TestSimulationDeterministic(t *testing.T) {
	sc := simScenarios[len(simScenarios)-1]
	if a, b := runScenario(t, sc, 7), runScenario(t, sc, 7); a != b {
		t.Fatalf("hashes %x and %x for one seed", a, b)
	}
}

// Voters holding a third of the weight or more crash: no slot is
// delivered at all (a strong quorum needs more than two thirds), and
// certainly no wrong one.
func TestSimulationNoQuorum(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		d, err := deploytest.NewSimulated(simConfig(t, weighted, ""), deploytest.SimOptions{
			Seed:    seed,
			Network: sim.Options{Link: lossy},
		})
		if err != nil {
			t.Fatal(err)
		}
		delivered := deploytest.Collect[*iss.SBDeliver](d)
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		// Weights 3 and 2 of 10: half. (Weight 3 alone is less than a
		// third: see the scenario "heaviest leader crashed".)
		d.Node("0").CrashAtEvent(1)
		d.Node("3").CrashAtEvent(1)
		if err := d.Sim().Run(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		if n := delivered.Len(); n != 0 {
			t.Fatalf("%d slots delivered without a strong quorum", n)
		}
	})
}
