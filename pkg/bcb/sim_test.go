package bcb_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// The simulation tests run 4 nodes (f = 1) over a simulated network that
// loses, duplicates, delays and reorders messages, for each seed of
// testsim.RunSeeds (-sim.seeds, 16 by default; -sim.seed=N runs one), in
// several scenarios of faults, and check on every event:
//
//   - consistency: no two correct nodes deliver different payloads for
//     one instance;
//   - integrity: a correct node delivers an instance at most once (per
//     incarnation), and, if the leader is correct, only what it broadcast;
//
// and at the end, once every fault has healed:
//
//   - validity: every correct node that is up delivered every instance
//     of every correct leader that is up.

// simScenario is a kind of run.
type simScenario struct {
	name string
	// byzantine is the Byzantine node, if any, and adversary what it does.
	byzantine stdtypes.NodeID
	adversary func() sim.Adversary
	// crash, if set, crashes a node; restartAt > 0 restarts it.
	crash     stdtypes.NodeID
	crashAt   time.Duration
	restartAt time.Duration
}

// lossy is every link of every scenario.
var lossy = sim.LinkConfig{
	Latency:   testsim.Uniform(time.Millisecond, 10*time.Millisecond),
	Loss:      0.1,
	Duplicate: 0.05,
	Reorder:   0.2,
}

// Simulation parameters: every node broadcasts simPerLeader payloads, one
// every simInterval.
const (
	simPerLeader = 6
	simInterval  = 7 * time.Millisecond
)

var simScenarios = []simScenario{
	{name: "lossy"},
	{name: "crash", crash: "3", crashAt: 15 * time.Millisecond},
	{name: "restart", crash: "2", crashAt: 10 * time.Millisecond, restartAt: 300 * time.Millisecond},
	{name: "equivocating leader", byzantine: "0", adversary: equivocate},
	{name: "forged signatures", byzantine: "3", adversary: forge},
}

// payloadOf is what leader broadcasts as its instance seq.
func payloadOf(leader stdtypes.NodeID, seq uint64) []byte {
	return fmt.Appendf(nil, "payload %d of node %s", seq, leader)
}

// inData applies fn to the bcb message a reliablenet DataMsg carries, and
// returns the DataMsg with what fn returns; other messages (the
// reliablenet module's acknowledgments) pass as they are.
func inData(msg stdtypes.Message, fn func(stdtypes.Message) stdtypes.Message) stdtypes.Message {
	data, ok := msg.(*reliablenet.DataMsg)
	if !ok {
		return msg
	}
	inner := fn(data.Msg)
	if inner == data.Msg {
		return msg
	}
	copied := *data
	copied.Msg = inner
	return &copied
}

// equivocate makes a leader tell different nodes different payloads, in
// its SENDs and its FINALs (whose certificates then do not match).
func equivocate() sim.Adversary {
	return sim.Equivocate(2, func(msg stdtypes.Message, version int) stdtypes.Message {
		if version == 0 {
			return msg
		}
		return inData(msg, equivocation)
	})
}

func equivocation(msg stdtypes.Message) stdtypes.Message {
	switch m := msg.(type) {
	case *bcb.SendMsg:
		forged := *m
		forged.Payload = append(slices.Clip(m.Payload), " (forged)"...)
		return &forged
	case *bcb.FinalMsg:
		forged := *m
		forged.Payload = append(slices.Clip(m.Payload), " (forged)"...)
		return &forged
	}
	return msg
}

// forge makes a node send bad signatures in its ECHOs and bad certificates
// in its FINALs: a flipped bit, a repeated signer, a signer too few, a
// signature of another payload; and lie in ACKs.
func forge() sim.Adversary {
	return sim.AdversaryFunc(func(_ stdtypes.NodeID, r *rand.Rand) sim.Attack {
		return sim.AttackFunc(func(dst []sim.Outgoing, o sim.Outgoing) []sim.Outgoing {
			lie := o
			lie.Msg = inData(o.Msg, func(msg stdtypes.Message) stdtypes.Message { return forgery(o.To, msg, r) })
			if _, ok := o.Msg.(*reliablenet.DataMsg); ok && inner(lie.Msg) == inner(o.Msg) {
				return append(dst, o)
			}
			if _, isSend := inner(o.Msg).(*bcb.SendMsg); isSend {
				dst = append(dst, o) // The lying ACK comes with the SEND.
			}
			return append(dst, lie)
		})
	})
}

// inner returns the message a DataMsg carries, or msg.
func inner(msg stdtypes.Message) stdtypes.Message {
	if data, ok := msg.(*reliablenet.DataMsg); ok {
		return data.Msg
	}
	return msg
}

func forgery(to stdtypes.NodeID, msg stdtypes.Message, r *rand.Rand) stdtypes.Message {
	switch m := msg.(type) {
	case *bcb.EchoMsg:
		forged := *m
		forged.Sig = flipBit(m.Sig, r)
		return &forged
	case *bcb.FinalMsg:
		forged := *m
		forged.Signers = slices.Clone(m.Signers)
		forged.Sigs = slices.Clone(m.Sigs)
		switch r.IntN(4) {
		case 0:
			forged.Sigs[1] = flipBit(m.Sigs[1], r)
		case 1:
			forged.Signers[1], forged.Sigs[1] = forged.Signers[0], forged.Sigs[0]
		case 2:
			forged.Signers, forged.Sigs = forged.Signers[1:], forged.Sigs[1:]
		case 3:
			forged.Payload = []byte("not what they signed")
		}
		return &forged
	case *bcb.SendMsg:
		// Acks for instances of the destination it never delivered, of
		// the payload the destination broadcast or of another.
		id := bcb.InstanceID{Leader: to, Incarnation: 1, Seq: m.Seq + uint64(r.IntN(3))}
		switch r.IntN(3) {
		case 0:
			return &bcb.AckMsg{Incarnation: id.Incarnation, Seq: id.Seq, Digest: bcb.Digest(id, payloadOf(to, id.Seq))}
		case 1:
			return &bcb.AckMsg{Incarnation: id.Incarnation, Seq: id.Seq, Digest: bcb.Digest(id, []byte("never broadcast"))}
		}
	}
	return msg
}

func flipBit(b []byte, r *rand.Rand) []byte {
	out := slices.Clone(b)
	if len(out) > 0 {
		out[r.IntN(len(out))] ^= 1 << r.IntN(8)
	}
	return out
}

// simConfig is a deployment of n bcb nodes with the synchronous crypto
// module, as newConfig makes it.
func simConfig(t testing.TB, n int, built map[stdtypes.NodeID]*bcb.Module) deploytest.Config {
	t.Helper()
	cfg, err := newConfig(stdtypes.NumberedNodeIDs(n), built, syncCrypto)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// syncCrypto is the synchronous crypto module: passive, as a simulation
// needs.
func syncCrypto(c crypto.Crypto) (modules.Module, error) { return crypto.NewModule(c) }

// newConfig is a deployment of bcb on nodes, each with the bcb and
// reliablenet modules simParams configures, the crypto module newCrypto
// makes and a null application module. built, if not nil, gets each
// node's bcb module, the latest incarnation's.
func newConfig(nodes []stdtypes.NodeID, built map[stdtypes.NodeID]*bcb.Module,
	newCrypto func(crypto.Crypto) (modules.Module, error),
) (deploytest.Config, error) {
	keys, pubs, err := nodeKeys(nodes)
	if err != nil {
		return deploytest.Config{}, err
	}
	return deploytest.Config{
		Nodes: nodes,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			p := simParams(info)
			m, err := bcb.NewModule(info.ID, p.Config, p.Params, nil)
			if err != nil {
				return nil, err
			}
			rn, err := reliablenet.NewModule(info.ID, p.ReliableNetConfig, p.ReliableNetParams, nil)
			if err != nil {
				return nil, err
			}
			if built != nil {
				built[info.ID] = m
			}
			c, err := crypto.New(keys[slices.Index(nodes, info.ID)], pubs)
			if err != nil {
				return nil, err
			}
			cm, err := newCrypto(c)
			if err != nil {
				return nil, err
			}
			return modules.Modules{mc.Self: m, rmc.Self: rn, mc.Crypto: cm, mc.App: modules.NullPassive{}}, nil
		},
	}, nil
}

// simParams returns the configuration and the parameters of the bcb and
// reliablenet modules of a simulated node: small windows and frequent
// ticks, so that short runs go through garbage collection and
// retransmission. The bcb module's incarnation is the simulation's.
func simParams(info deploytest.NodeInfo) bcb.ReplayParams {
	params := bcb.DefaultModuleParams(info.Nodes)
	params.Incarnation = uint64(info.Incarnation)
	params.TickPeriod = 50 * time.Millisecond
	params.RetainTicks = 10
	params.Window = 4
	rp := bcb.ReliableNetParams(params)
	// Retransmissions at least every 50 ms: several before the leader
	// gives up on a node (RetainTicks).
	rp.TickPeriod, rp.MinBackoffTicks, rp.MaxBackoffTicks = 10*time.Millisecond, 3, 5
	return bcb.ReplayParams{
		Config:            bcb.ModuleConfig{Self: mc.Self, ReliableNet: rmc.Self, Crypto: mc.Crypto, Timer: info.Timer, App: mc.App},
		Params:            params,
		ReliableNetConfig: reliablenet.ModuleConfig{Self: rmc.Self, Net: info.Transport, Timer: info.Timer, Users: []stdtypes.ModuleID{mc.Self}},
		ReliableNetParams: rp,
	}
}

func TestSimulation(t *testing.T) {
	for _, sc := range simScenarios {
		t.Run(sc.name, func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				runScenario(t, sc, seed)
			})
		})
	}
}

// lossySim returns a simulated deployment of simConfig's 4 nodes over
// lossy links, with a seed; built gets the nodes' bcb modules.
func lossySim(t *testing.T, seed uint64, built map[stdtypes.NodeID]*bcb.Module) *deploytest.Simulated {
	t.Helper()
	d, err := deploytest.NewSimulated(simConfig(t, 4, built), deploytest.SimOptions{
		Seed:    seed,
		Network: sim.Options{Link: lossy},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// runScenario runs one scenario with one seed and returns the run's hash.
func runScenario(t *testing.T, sc simScenario, seed uint64) uint64 {
	t.Helper()
	built := map[stdtypes.NodeID]*bcb.Module{}
	d := lossySim(t, seed, built)
	var faulty []stdtypes.NodeID
	if sc.byzantine != "" {
		faulty = append(faulty, sc.byzantine)
		if err := d.Network().SetAdversary(sc.byzantine, sc.adversary()); err != nil {
			t.Fatal(err)
		}
	}
	delivered := deploytest.Collect[*bcb.Deliver](d)
	d.Check(bcbProperties(faulty...)...)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if sc.crash != "" {
		d.Node(sc.crash).CrashAt(sc.crashAt)
		if sc.restartAt > 0 {
			d.Node(sc.crash).RestartAt(sc.restartAt)
		}
	}
	s := d.Sim()
	for seq := range uint64(simPerLeader) {
		for _, id := range d.Nodes() {
			s.At(time.Duration(seq)*simInterval, func() {
				// A crashed node broadcasts nothing; its numbering
				// starts again at 0 when it restarts, but the test
				// gives it nothing more to broadcast.
				if n := d.Node(id); n.Up() && n.Incarnation() == 1 {
					if err := n.Inject(bcb.NewBroadcast(mc.Self, seq, payloadOf(id, seq))); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	if err := s.CheckLivenessAfter(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if delivered.Len() == 0 {
		t.Fatal("nothing delivered")
	}
	// The forger's lies were caught by the correct nodes, and counted. (An
	// equivocating leader may be caught or not: the adversary may well
	// tell every node the same.)
	if sc.byzantine == "3" {
		var bad bcb.Stats
		for _, id := range d.Nodes()[:3] {
			st := built[id].Stats()
			bad.BadSignature += st.BadSignature
			bad.BadCertificate += st.BadCertificate
		}
		if bad.BadSignature == 0 || bad.BadCertificate == 0 {
			t.Errorf("the forgeries went unnoticed: %+v", bad)
		}
	}
	return s.Hash()
}

// A run is a function of its seed: the same seed gives the same run.
func TestSimulationDeterministic(t *testing.T) {
	for _, sc := range simScenarios {
		a, b := runScenario(t, sc, 42), runScenario(t, sc, 42)
		if a != b {
			t.Errorf("%s: hashes %x and %x for one seed", sc.name, a, b)
		}
	}
}

// The properties of consistent broadcast, checked on the Broadcast and
// Deliver events the nodes dispatch. An instance a correct node broadcasts
// is (node, the node's incarnation in the simulation, Seq): the
// deployments of these tests give the bcb module the simulation's
// incarnation (NodeInfo.Incarnation).
//
// Each property keeps the state of one run, and is a testsim.PerRun: the
// simulation checks each run with a NewRun of its own, so one value (and
// the slice bcbProperties returns) can be handed to run after run.

// bcbProperties returns consistency, integrity and validity (a liveness
// property), which ignore what the faulty nodes deliver.
func bcbProperties(faulty ...stdtypes.NodeID) []testsim.Property {
	f := newFaultySet(faulty)
	return []testsim.Property{newConsistency(f), newIntegrity(f), newValidity(f)}
}

// faultySet is the set of Byzantine nodes a property ignores.
type faultySet map[stdtypes.NodeID]bool

func newFaultySet(faulty []stdtypes.NodeID) faultySet {
	set := faultySet{}
	for _, id := range faulty {
		set[id] = true
	}
	return set
}

// consistency is violated when two correct nodes deliver different
// payloads for one instance.
type consistency struct {
	faulty faultySet
	// first is the first payload a correct node delivered, per instance.
	first map[bcb.InstanceID]firstDelivery
}

type firstDelivery struct {
	node    stdtypes.NodeID
	payload []byte
}

func newConsistency(faulty faultySet) *consistency {
	return &consistency{faulty: faulty, first: map[bcb.InstanceID]firstDelivery{}}
}

func (p *consistency) Name() string             { return "consistency" }
func (p *consistency) NewRun() testsim.Property { return newConsistency(p.faulty) }

func (p *consistency) Observe(o *testsim.Observation) error {
	d, ok := o.Event.(*bcb.Deliver)
	if !ok || p.faulty[o.Node] {
		return nil
	}
	first, ok := p.first[d.ID]
	if !ok {
		p.first[d.ID] = firstDelivery{node: o.Node, payload: d.Payload}
		return nil
	}
	if !bytes.Equal(first.payload, d.Payload) {
		return fmt.Errorf("node %s delivered %q for instance %v; node %s delivered %q",
			o.Node, d.Payload, d.ID, first.node, first.payload)
	}
	return nil
}

// broadcasts records what each correct leader broadcast, and in which
// incarnation; order lists the instances in order of broadcast.
type broadcasts struct {
	faulty  faultySet
	payload map[bcb.InstanceID][]byte
	order   []bcb.InstanceID
}

func newBroadcasts(faulty faultySet) broadcasts {
	return broadcasts{faulty: faulty, payload: map[bcb.InstanceID][]byte{}}
}

// observe records a correct node's Broadcast.
func (b *broadcasts) observe(o *testsim.Observation) {
	ev, ok := o.Event.(*bcb.Broadcast)
	if !ok || b.faulty[o.Node] {
		return
	}
	id := bcb.InstanceID{Leader: o.Node, Incarnation: uint64(o.Incarnation), Seq: ev.Seq}
	if _, ok := b.payload[id]; !ok {
		b.payload[id] = ev.Payload
		b.order = append(b.order, id)
	}
}

// integrity is violated when a correct node delivers an instance twice in
// one incarnation, or, if the leader is correct, something other than
// what the leader broadcast.
type integrity struct {
	broadcasts
	delivered map[nodeInstance]bool
}

type nodeInstance struct {
	node        stdtypes.NodeID
	incarnation int
	id          bcb.InstanceID
}

func newIntegrity(faulty faultySet) *integrity {
	return &integrity{broadcasts: newBroadcasts(faulty), delivered: map[nodeInstance]bool{}}
}

func (p *integrity) Name() string             { return "integrity" }
func (p *integrity) NewRun() testsim.Property { return newIntegrity(p.faulty) }

func (p *integrity) Observe(o *testsim.Observation) error {
	p.observe(o)
	d, ok := o.Event.(*bcb.Deliver)
	if !ok || p.faulty[o.Node] {
		return nil
	}
	key := nodeInstance{o.Node, o.Incarnation, d.ID}
	if p.delivered[key] {
		return fmt.Errorf("node %s delivered instance %v twice", o.Node, d.ID)
	}
	p.delivered[key] = true
	if p.faulty[d.ID.Leader] {
		return nil
	}
	payload, ok := p.payload[d.ID]
	switch {
	case !ok:
		return fmt.Errorf("node %s delivered instance %v, which correct node %s never broadcast", o.Node, d.ID, d.ID.Leader)
	case !bytes.Equal(payload, d.Payload):
		return fmt.Errorf("node %s delivered %q for instance %v; the leader broadcast %q", o.Node, d.Payload, d.ID, payload)
	}
	return nil
}

// validity, checked once every fault has healed, is violated when a
// correct node that is up has not delivered (in any of its incarnations)
// an instance of a correct leader still in the incarnation that
// broadcast it.
type validity struct {
	broadcasts
	ever map[stdtypes.NodeID]map[bcb.InstanceID]bool
}

func newValidity(faulty faultySet) *validity {
	return &validity{broadcasts: newBroadcasts(faulty), ever: map[stdtypes.NodeID]map[bcb.InstanceID]bool{}}
}

func (p *validity) Name() string             { return "validity" }
func (p *validity) NewRun() testsim.Property { return newValidity(p.faulty) }

func (p *validity) Observe(o *testsim.Observation) error {
	p.observe(o)
	if d, ok := o.Event.(*bcb.Deliver); ok {
		if p.ever[o.Node] == nil {
			p.ever[o.Node] = map[bcb.InstanceID]bool{}
		}
		p.ever[o.Node][d.ID] = true
	}
	return nil
}

func (p *validity) CheckLiveness(nodes []testsim.NodeStatus) error {
	up := map[stdtypes.NodeID]int{}
	for _, n := range nodes {
		if n.Up {
			up[n.ID] = n.Incarnation
		}
	}
	for _, id := range p.order {
		if inc, ok := up[id.Leader]; !ok || uint64(inc) != id.Incarnation {
			continue // The leader crashed: nothing is promised.
		}
		for _, n := range nodes {
			if n.Up && !p.faulty[n.ID] && !p.ever[n.ID][id] {
				return fmt.Errorf("node %s did not deliver instance %v of correct leader %s", n.ID, id, id.Leader)
			}
		}
	}
	return nil
}
