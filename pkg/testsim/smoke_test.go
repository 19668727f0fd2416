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

type ping struct {
	stdtypes.MessageBase
	Seq uint64
}

var _ = codec.Register[ping]("testsim_test.ping")

type bouncer struct {
	self  stdtypes.NodeID
	peers []stdtypes.NodeID
}

func (b *bouncer) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	var out *stdtypes.EventList
	for _, ev := range evs.Slice() {
		var next stdtypes.Event
		switch ev := ev.(type) {
		case *stdevents.Init:
			next = stdevents.NewSendMessage("net", "app", &ping{Seq: 1}, b.peers...)
		case *stdevents.MessageReceived:
			next = stdevents.NewSendMessage("net", "app", &ping{Seq: ev.Msg.(*ping).Seq + 1}, ev.From)
		default:
			continue
		}
		if out == nil {
			out = stdtypes.ListOf(next)
		} else {
			out.PushBack(next)
		}
	}
	return out, nil
}

func TestSmoke(t *testing.T) {
	ids := []stdtypes.NodeID{"0", "1", "2", "3"}
	s := testsim.New(testsim.Options{Seed: 1})
	network, err := sim.New(s, ids, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		var peers []stdtypes.NodeID
		for _, p := range ids {
			if p != id {
				peers = append(peers, p)
			}
		}
		tr, _ := network.Transport(id)
		if _, err := s.AddNode(id, testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
			return modules.Modules{"app": &bouncer{self: id, peers: peers}, "net": tr}, nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := s.RunUntil(func() bool { return s.Events() >= 1_000_000 }, testsim.Forever); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("events %d in %v: %v/event, sim time %v, hash %x, stats %+v", s.Events(), el, el/time.Duration(s.Events()), s.Now(), s.Hash(), network.Stats())
}
