package sim_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/nettest"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// strayRun runs node 0 with mods0 (its transport added as "net") and node
// 1, which at Init sends what sends returns, until a second has passed.
func strayRun(t *testing.T, mods0 func(tr *sim.Transport) modules.Modules, sends func() *stdtypes.EventList) *testsim.Sim {
	t.Helper()
	s := testsim.New(testsim.Options{Seed: 1})
	network, err := sim.New(s, []stdtypes.NodeID{"0", "1"}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr0, _ := network.Transport("0")
	tr1, _ := network.Transport("1")
	if _, err := s.AddNode("0", testsim.NodeConfig{Build: func(int) (modules.Modules, error) { return mods0(tr0), nil }}); err != nil {
		t.Fatal(err)
	}
	sender := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if _, ok := ev.(*stdevents.Init); ok {
			return sends(), nil
		}
		return nil, nil
	})
	if _, err := s.AddNode("1", testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
		return modules.Modules{"net": tr1, "sender": sender}, nil
	}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(time.Second); err != nil {
		t.Fatalf("a peer's messages stopped the simulation: %v", err)
	}
	return s
}

// TestStrayMessages: node 1 sends a message to every module of node 0
// that takes none (the transport, the simulated timer, crypto, a router's
// and a factory's, a null module). Node 0 drops and counts each.
func TestStrayMessages(t *testing.T) {
	got := make(chan struct{}, 1)
	var strays *nettest.Strays
	s := strayRun(t, func(tr *sim.Transport) modules.Modules {
		mods := modules.Modules{"net": tr, "timer": testsim.NewTimer(), "app": nettest.Marker{Got: got}}
		strays = nettest.AddStrays(t, mods, false)
		return mods
	}, func() *stdtypes.EventList { return nettest.StraySends(strays, "net", "app", "0") })
	if len(got) != 1 {
		t.Fatal("the marker did not arrive")
	}
	if missing := strays.Dropped(s.Node("0").DroppedMessages); missing != "" {
		t.Error(missing)
	}
}

// leakyTransport claims to take messages, so that the node hands the
// transport inside one: what a transport driven otherwise than by a node
// may get.
type leakyTransport struct{ *sim.Transport }

func (leakyTransport) ReceivesMessages() {}

// TestTransportDropsMessages: a message from another node that reaches
// the simulated transport is dropped and counted.
func TestTransportDropsMessages(t *testing.T) {
	var tr0 *sim.Transport
	strayRun(t, func(tr *sim.Transport) modules.Modules {
		tr0 = tr
		return modules.Modules{"net": leakyTransport{tr}}
	}, func() *stdtypes.EventList {
		return stdtypes.ListOf(stdevents.NewSendMessage("net", &msg{}, stdevents.To("net", "0")))
	})
	if got := tr0.Stats().DroppedReceived; got != 1 {
		t.Errorf("DroppedReceived = %d, want 1", got)
	}
}
