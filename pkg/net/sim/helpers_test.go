package sim_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// msg is the message the tests send.
type msg struct {
	stdtypes.MessageBase
	Seq uint64
}

var _ = codec.Register[msg]("sim_test.msg")

// sendReq asks a probe to send Msg to the nodes To.
type sendReq struct {
	stdtypes.Header
	Msg stdtypes.Message
	To  []stdtypes.NodeID
}

// probe sends what sendReq events ask for.
type probe struct{}

func (probe) ReceivesMessages() {}

func (probe) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		if req, ok := ev.(*sendReq); ok {
			out.PushBack(stdevents.NewSendMessage("net", req.Msg, stdevents.To("probe", req.To...)))
		}
	}
	return out, nil
}

// arrival is a message as its destination's probe got it.
type arrival struct {
	at   time.Duration
	node stdtypes.NodeID
	from stdtypes.NodeID
	msg  stdtypes.Message
}

// seq returns the arrival's sequence number, if it is a msg.
func (a arrival) seq() uint64 {
	if m, ok := a.msg.(*msg); ok {
		return m.Seq
	}
	return 0
}

// system is n nodes, "0" to "n-1", each running a probe and the network's
// transport, and the arrivals.
type system struct {
	s        *testsim.Sim
	net      *sim.Network
	arrivals []arrival
}

func newSystem(t *testing.T, seed uint64, n int, opts sim.Options) *system {
	t.Helper()
	sys := &system{s: testsim.New(testsim.Options{Seed: seed})}
	var ids []stdtypes.NodeID
	for i := range n {
		ids = append(ids, stdtypes.NewNodeIDFromInt(i))
	}
	var err error
	if sys.net, err = sim.New(sys.s, ids, opts); err != nil {
		t.Fatal(err)
	}
	sys.s.Observe(func(o *testsim.Observation) {
		if mr, ok := o.Event.(*stdevents.MessageReceived); ok && mr.Dest() == "probe" {
			sys.arrivals = append(sys.arrivals, arrival{at: o.Time, node: o.Node, from: mr.From, msg: mr.Msg})
		}
	})
	for _, id := range ids {
		tr, err := sys.net.Transport(id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sys.s.AddNode(id, testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
			return modules.Modules{"probe": probe{}, "net": tr}, nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

// send makes node from send m to the nodes to at time at.
func (sys *system) send(at time.Duration, from stdtypes.NodeID, m stdtypes.Message, to ...stdtypes.NodeID) {
	sys.s.Node(from).InjectAt(at, &sendReq{Header: stdtypes.NewHeader("probe"), Msg: m, To: to})
}

// sendSeq sends msg{Seq: seq}.
func (sys *system) sendSeq(at time.Duration, from stdtypes.NodeID, seq uint64, to ...stdtypes.NodeID) {
	sys.send(at, from, &msg{Seq: seq}, to...)
}

func (sys *system) run(t *testing.T, until time.Duration) {
	t.Helper()
	if err := sys.s.Run(until); err != nil {
		t.Fatal(err)
	}
}

// between returns the arrivals at node to from node from, in order.
func (sys *system) between(from, to stdtypes.NodeID) []arrival {
	var out []arrival
	for _, a := range sys.arrivals {
		if a.from == from && a.node == to {
			out = append(out, a)
		}
	}
	return out
}

// fixed is a link with a fixed latency.
func fixed(d time.Duration) sim.LinkConfig { return sim.LinkConfig{Latency: testsim.Fixed(d)} }
