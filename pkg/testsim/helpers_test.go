package testsim_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// msg is the message the tests send.
type msg struct {
	stdtypes.MessageBase
	Seq uint64
}

// sendReq asks a probe to send msg Seq to the nodes To.
type sendReq struct {
	stdtypes.Header
	Seq uint64
	To  []stdtypes.NodeID
}

var (
	_ = codec.Register[msg]("testsim_test.msg")
	_ = codec.Register[sendReq]("testsim_test.sendReq")
)

// probe is a passive module that sends what sendReq events ask for and
// ignores what it receives: the tests watch arrivals with an observer,
// which knows the simulated time.
type probe struct{}

func (probe) ReceivesMessages() {}

func (probe) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		if req, ok := ev.(*sendReq); ok {
			out.PushBack(stdevents.NewSendMessage("net", &msg{Seq: req.Seq}, stdevents.To("probe", req.To...)))
		}
	}
	return out, nil
}

// arrival is a message as the destination's probe got it.
type arrival struct {
	at       time.Duration
	node     stdtypes.NodeID
	from     stdtypes.NodeID
	seq      uint64
	incarnat int
}

// probeSystem is n nodes, "0" to "n-1", each with a probe, the network's
// transport and a timer, and a record of every message that arrived.
type probeSystem struct {
	s        *testsim.Sim
	network  *sim.Network
	ids      []stdtypes.NodeID
	arrivals []arrival
}

func newProbeSystem(t *testing.T, n int, opts testsim.Options, netOpts sim.Options) *probeSystem {
	t.Helper()
	ps := &probeSystem{s: testsim.New(opts)}
	for i := range n {
		ps.ids = append(ps.ids, stdtypes.NewNodeIDFromInt(i))
	}
	var err error
	if ps.network, err = sim.New(ps.s, ps.ids, netOpts); err != nil {
		t.Fatal(err)
	}
	ps.s.Observe(func(o *testsim.Observation) {
		if mr, ok := o.Event.(*stdevents.MessageReceived); ok && mr.Dest() == "probe" {
			ps.arrivals = append(ps.arrivals, arrival{at: o.Time, node: o.Node, from: mr.From, seq: mr.Msg.(*msg).Seq, incarnat: o.Incarnation})
		}
	})
	for _, id := range ps.ids {
		tr, err := ps.network.Transport(id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ps.s.AddNode(id, testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
			return modules.Modules{"probe": probe{}, "net": tr, "timer": testsim.NewTimer()}, nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

// sendAt makes node from send msg seq to the nodes to at time at.
func (ps *probeSystem) sendAt(at time.Duration, from stdtypes.NodeID, seq uint64, to ...stdtypes.NodeID) {
	ps.s.Node(from).InjectAt(at, &sendReq{Header: stdtypes.NewHeader("probe"), Seq: seq, To: to})
}

func (ps *probeSystem) run(t *testing.T, until time.Duration) {
	t.Helper()
	if err := ps.s.Run(until); err != nil {
		t.Fatal(err)
	}
}

// between returns the arrivals at node to from node from.
func (ps *probeSystem) between(from, to stdtypes.NodeID) []arrival {
	var out []arrival
	for _, a := range ps.arrivals {
		if a.from == from && a.node == to {
			out = append(out, a)
		}
	}
	return out
}
