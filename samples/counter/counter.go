package counter

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var (
	_ = codec.Register[Increment]("counter.Increment")
	_ = codec.Register[Counted]("counter.Counted")
	_ = codec.Register[CountMsg]("counter.Count")
)

// Increment asks the counter module (its destination) to count one more.
type Increment struct {
	stdtypes.Header
}

// NewIncrement returns an Increment for the counter module dest.
func NewIncrement(dest stdtypes.ModuleID) *Increment {
	return &Increment{Header: stdtypes.NewHeader(dest)}
}

// Counted is what the counter persists: its count reached Value. The WAL
// module hands it back to the counter at every start.
type Counted struct {
	stdtypes.Header
	Value uint64
}

// CountMsg tells the other nodes the sender's count.
type CountMsg struct {
	stdtypes.MessageBase
	Value uint64
}

// ModuleConfig names the modules the counter talks to.
type ModuleConfig struct {
	// Self is the counter's own ID; its peers' counters are Self too.
	Self stdtypes.ModuleID
	// WAL persists its counts (pkg/wal).
	WAL stdtypes.ModuleID
	// Net sends its counts to the other nodes.
	Net stdtypes.ModuleID
}

// Module counts, and tells the other nodes each new count once it is
// durable.
type Module struct {
	mc    ModuleConfig
	peers []stdtypes.NodeID
	// count is the last count persisted (or being persisted): a crash
	// loses it only if no one was told.
	count uint64
	// peerCounts holds the highest count each peer told.
	peerCounts map[stdtypes.NodeID]uint64
}

// New returns the counter of node self, whose peers are the other nodes.
func New(self stdtypes.NodeID, mc ModuleConfig, nodes []stdtypes.NodeID) (*Module, error) {
	for _, id := range []stdtypes.ModuleID{mc.Self, mc.WAL, mc.Net} {
		if err := id.Validate(); err != nil {
			return nil, fmt.Errorf("counter: module config: %w", err)
		}
	}
	peers := slices.DeleteFunc(slices.Clone(nodes), func(id stdtypes.NodeID) bool { return id == self })
	return &Module{mc: mc, peers: peers, peerCounts: make(map[stdtypes.NodeID]uint64)}, nil
}

// ReceivesMessages marks the module as one that takes messages
// (modules.MessageReceiver): its peers' counts.
func (m *Module) ReceivesMessages() {}

// Count returns the module's count.
func (m *Module) Count() uint64 { return m.count }

// PeerCount returns the highest count the peer told the module.
func (m *Module) PeerCount(peer stdtypes.NodeID) uint64 { return m.peerCounts[peer] }

// ApplyEvents handles the recovered counts, the increments and the
// peers' counts.
func (m *Module) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(events, m.apply)
}

func (m *Module) apply(ev stdtypes.Event) (*stdtypes.EventList, error) {
	switch ev := ev.(type) {
	case *stdevents.Init:
		return nil, nil
	case *Counted:
		// Handed back by the WAL module at the start, before any input.
		m.count = max(m.count, ev.Value)
		return nil, nil
	case *Increment:
		return m.increment(), nil
	case *stdevents.MessageReceived:
		m.receive(ev)
		return nil, nil
	case nil:
		return nil, errors.New("counter: nil event")
	}
	return nil, fmt.Errorf("counter: unexpected event %s", stdtypes.TypeName(ev))
}

// increment counts one more: it persists the count, then tells the peers.
func (m *Module) increment() *stdtypes.EventList {
	m.count++
	counted := &Counted{Header: stdtypes.NewHeader(m.mc.Self), Value: m.count}
	send := stdevents.NewSendMessage(m.mc.Net, &CountMsg{Value: m.count}, stdevents.To(m.mc.Self, m.peers...))
	// The retention index is the count: the Truncate drops the records of
	// the counts before, which this one makes useless.
	persist := stdtypes.WithFollowUps(wal.NewAppend(m.mc.WAL, counted, stdtypes.RetentionIndex(m.count)), send)
	truncate := wal.NewTruncate(m.mc.WAL, m.mc.Self, stdtypes.RetentionIndex(m.count))
	return stdtypes.ListOf(persist, truncate)
}

// receive keeps the highest count a peer told; a lower one arrives late
// (the network reorders), and a node outside the membership is ignored.
func (m *Module) receive(ev *stdevents.MessageReceived) {
	msg, ok := ev.Msg.(*CountMsg)
	if !ok || !slices.Contains(m.peers, ev.From) {
		return
	}
	m.peerCounts[ev.From] = max(m.peerCounts[ev.From], msg.Value)
}

// ID is the counter's module ID in a deployment made by DeployConfig.
const ID stdtypes.ModuleID = "counter"

// DeployConfig is a deployment of counters on nodes, each with a WAL
// module (pkg/deploytest): a simulated one recovers from its simulated
// disk at every restart, a real one from its directory.
func DeployConfig(nodes []stdtypes.NodeID) deploytest.Config {
	return deploytest.Config{
		Nodes: nodes,
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			c, err := New(info.ID, ModuleConfig{Self: ID, WAL: info.WAL, Net: info.Transport}, info.Nodes)
			if err != nil {
				return nil, err
			}
			return modules.Modules{ID: c}, nil
		},
	}
}
