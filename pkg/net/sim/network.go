package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// defaultLatency is the latency of a link whose LinkConfig leaves it nil.
var defaultLatency = testsim.Uniform(time.Millisecond, 5*time.Millisecond)

// LinkConfig is how a directed link, from one node to another, treats the
// messages it carries. Every random choice is drawn from the simulation's
// seed. The zero value is a reliable FIFO link with a latency uniform
// between 1ms and 5ms.
type LinkConfig struct {
	// Latency is the time a message takes to cross the link; nil means
	// testsim.Uniform(time.Millisecond, 5*time.Millisecond).
	Latency testsim.Delay

	// Loss is the probability that a message is lost: 0 loses none, 1
	// loses all.
	Loss float64

	// Duplicate is the probability that a message arrives twice; the
	// copy takes a latency of its own.
	Duplicate float64

	// Reorder is the probability that a message may be overtaken by
	// those sent after it. Links are otherwise FIFO, like a TCP
	// connection: a message never arrives before one sent earlier on the
	// same link (when a latency sample says otherwise, it arrives just
	// after it). A reordered message is exempt from that and takes a
	// second latency sample on top of the first, so later messages
	// overtake it.
	Reorder float64

	// BytesPerSecond limits the link's bandwidth; 0 means unlimited. A
	// message occupies the link for its size (see Options.MessageSize)
	// divided by the bandwidth, and waits for the messages before it to
	// leave: a slow link builds a queue, as a real one does.
	BytesPerSecond int64
}

// Validate reports whether the configuration is usable.
func (c LinkConfig) Validate() error {
	var errs []error
	for _, p := range []struct {
		name string
		v    float64
	}{{"Loss", c.Loss}, {"Duplicate", c.Duplicate}, {"Reorder", c.Reorder}} {
		if !(p.v >= 0 && p.v <= 1) {
			errs = append(errs, fmt.Errorf("%s is %v; it must be a probability, between 0 and 1", p.name, p.v))
		}
	}
	if c.BytesPerSecond < 0 {
		errs = append(errs, fmt.Errorf("BytesPerSecond is %d; it must not be negative", c.BytesPerSecond))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sim: invalid link config: %w", err)
	}
	return nil
}

// CodecMode says which messages the network passes through package codec
// on their way, as a real network would encode and decode them.
type CodecMode uint8

const (
	// CodecFirstOfType encodes and decodes the first message of each type
	// the network carries, and hands the others over as they are. It
	// catches a message type that is not registered or that the codec
	// refuses, the usual mistake, at no cost in the steady state. This is
	// the default: a codec round trip costs about 2.5 µs per message on
	// a small machine, more than the rest of the simulation of that
	// message, and simulation tests run many seeds.
	CodecFirstOfType CodecMode = iota
	// CodecEvery encodes and decodes every message, so that receivers
	// never share memory with senders and every value is checked, as in
	// pkg/net/local's default. Use it in a few tests of a protocol.
	CodecEvery
	// CodecNever hands every message over as it is.
	CodecNever
)

// Options configure a Network. The zero value is the default.
type Options struct {
	// Link is the initial configuration of every link.
	Link LinkConfig

	// Codec says which messages pass through package codec; the default
	// is CodecFirstOfType.
	Codec CodecMode

	// MessageSize returns a message's size in bytes, for bandwidth
	// limits. Nil means the length of its encoding by package codec,
	// computed only for links with a limit.
	MessageSize func(msg stdtypes.Message) int

	// Logger receives the transports' warnings (invalid send requests).
	// Nil logs nothing.
	Logger *logging.Logger
}

// Network is a simulated network connecting a fixed set of nodes of a
// testsim.Sim. Each node runs the network's Transport for it, a twin of a
// real transport; messages between nodes cross directed links whose
// faults (latency, loss, duplication, reordering, bandwidth, partitions)
// can change at any time of the run, and a node can be made Byzantine by
// an Adversary that rewrites what it sends.
//
// Like everything in a simulation, a Network is used from the simulation's
// goroutine only: configure it before Run, or from functions scheduled
// with Sim.At.
type Network struct {
	sim   *testsim.Sim
	nodes []stdtypes.NodeID // sorted
	index map[stdtypes.NodeID]int
	// links holds the link from node i to node j at i*len(nodes)+j.
	links      []link
	transports []*Transport
	rand       *rand.Rand
	codec      CodecMode
	sizeOf     func(stdtypes.Message) int
	logger     *logging.Logger
	// checked holds the message types that made a codec round trip.
	checked map[reflect.Type]struct{}
	stats   Stats

	adversaries []adversaryState
	// outBuf collects an adversary's output, reused.
	outBuf []Outgoing
}

// adversaryState is the attack of a Byzantine node in this run, and the
// node's source of randomness for adversaries.
type adversaryState struct {
	attack Attack
	rand   *rand.Rand
}

// Stats counts what happened to the messages between nodes (messages a
// node sends itself are not counted here).
type Stats struct {
	// Sent counts the messages handed to links, after adversaries.
	Sent uint64
	// Delivered counts the messages that entered their destination.
	Delivered uint64
	// Lost counts the messages lost to LinkConfig.Loss.
	Lost uint64
	// Cut counts the messages lost to partitions, sent or in flight.
	Cut uint64
	// Down counts the messages that arrived at a node that was down.
	Down uint64
	// Duplicated counts the extra copies made by LinkConfig.Duplicate.
	Duplicated uint64
	// Reordered counts the messages exempted from FIFO order.
	Reordered uint64
}

// New returns a network of the given nodes of simulation s. The nodes
// need not exist in s yet; messages to a node that does not exist when
// they arrive are lost.
func New(s *testsim.Sim, nodes []stdtypes.NodeID, opts Options) (*Network, error) {
	if len(nodes) == 0 {
		return nil, errors.New("sim: a network needs at least one node")
	}
	if err := opts.Link.Validate(); err != nil {
		return nil, err
	}
	if opts.Codec > CodecNever {
		return nil, fmt.Errorf("sim: unknown codec mode %d", opts.Codec)
	}
	sorted := slices.Sorted(slices.Values(nodes))
	n := &Network{
		sim:         s,
		nodes:       sorted,
		index:       make(map[stdtypes.NodeID]int, len(nodes)),
		links:       make([]link, len(nodes)*len(nodes)),
		transports:  make([]*Transport, len(nodes)),
		rand:        s.NewRand("net/sim"),
		codec:       opts.Codec,
		sizeOf:      opts.MessageSize,
		logger:      opts.Logger,
		checked:     make(map[reflect.Type]struct{}),
		adversaries: make([]adversaryState, len(nodes)),
	}
	for i, id := range sorted {
		if id == "" {
			return nil, errors.New("sim: empty node ID")
		}
		if i > 0 && sorted[i-1] == id {
			return nil, fmt.Errorf("sim: node %s listed twice", id)
		}
		n.index[id] = i
	}
	for i := range n.links {
		n.links[i] = link{net: n, from: i / len(sorted), to: i % len(sorted), cfg: opts.Link}
	}
	for i, id := range sorted {
		n.transports[i] = &Transport{net: n, id: id, idx: i}
	}
	return n, nil
}

// Nodes returns the network's nodes, sorted.
func (n *Network) Nodes() []stdtypes.NodeID { return slices.Clone(n.nodes) }

// Stats returns the network's counters.
func (n *Network) Stats() Stats { return n.stats }

// Transport returns the transport of node id, the module to give the node
// under its transport's module ID. Every call for a node returns the same
// transport, which, like a network card, outlives the node's crashes: the
// node's constructor may hand it out at every restart.
func (n *Network) Transport(id stdtypes.NodeID) (*Transport, error) {
	i, ok := n.index[id]
	if !ok {
		return nil, fmt.Errorf("sim: node %s: %w", id, net.ErrUnknownNode)
	}
	return n.transports[i], nil
}

// indexOf returns the index of node id, or an error.
func (n *Network) indexOf(id stdtypes.NodeID) (int, error) {
	i, ok := n.index[id]
	if !ok {
		return 0, fmt.Errorf("sim: node %s: %w", id, net.ErrUnknownNode)
	}
	return i, nil
}

func (n *Network) link(from, to int) *link { return &n.links[from*len(n.nodes)+to] }

// Link returns the configuration of the link from node from to node to.
func (n *Network) Link(from, to stdtypes.NodeID) (LinkConfig, error) {
	i, err := n.indexOf(from)
	if err != nil {
		return LinkConfig{}, err
	}
	j, err := n.indexOf(to)
	if err != nil {
		return LinkConfig{}, err
	}
	return n.link(i, j).cfg, nil
}

// SetLink configures the link from node from to node to, for the messages
// sent from now on.
func (n *Network) SetLink(from, to stdtypes.NodeID, cfg LinkConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	i, err := n.indexOf(from)
	if err != nil {
		return err
	}
	j, err := n.indexOf(to)
	if err != nil {
		return err
	}
	n.link(i, j).cfg = cfg
	return nil
}

// SetLinks configures every link, for the messages sent from now on.
func (n *Network) SetLinks(cfg LinkConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	for i := range n.links {
		n.links[i].cfg = cfg
	}
	return nil
}

// SetLinksAt configures every link at simulated time t.
func (n *Network) SetLinksAt(t time.Duration, cfg LinkConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	n.sim.At(t, func() { _ = n.SetLinks(cfg) })
	return nil
}

// Cut cuts, now, the links from every node of from to every node of to
// (not a node's link to itself): messages sent on them are lost, and so
// are those in flight that would arrive while they are cut. It returns
// the function that heals the cut; calling it again does nothing. Cuts
// add up: a link is up once every cut of it has healed.
func (n *Network) Cut(from, to []stdtypes.NodeID) (heal func(), err error) {
	var links []*link
	for _, a := range from {
		i, err := n.indexOf(a)
		if err != nil {
			return nil, err
		}
		for _, b := range to {
			j, err := n.indexOf(b)
			if err != nil {
				return nil, err
			}
			if i != j {
				links = append(links, n.link(i, j))
			}
		}
	}
	return cut(links), nil
}

// Partition splits the network, now, into groups that cannot reach each
// other: every link between nodes of different groups is cut (see Cut).
// Nodes listed in no group form one more group. It returns the function
// that heals the partition.
func (n *Network) Partition(groups ...[]stdtypes.NodeID) (heal func(), err error) {
	links, err := n.partitionLinks(groups)
	if err != nil {
		return nil, err
	}
	return cut(links), nil
}

// PartitionDuring partitions the network (see Partition) from simulated
// time from until time until, and notes the fault (testsim.Sim.NoteFault)
// so that liveness can be checked after it heals.
func (n *Network) PartitionDuring(from, until time.Duration, groups ...[]stdtypes.NodeID) error {
	if until < from {
		return fmt.Errorf("sim: partition heals at %v, before it starts at %v", until, from)
	}
	links, err := n.partitionLinks(groups)
	if err != nil {
		return err
	}
	n.sim.NoteFault(until)
	n.sim.At(from, func() {
		heal := cut(links)
		n.sim.At(until, heal)
	})
	return nil
}

// Isolate cuts node id off from every other node, in both directions,
// from simulated time from until time until.
func (n *Network) Isolate(id stdtypes.NodeID, from, until time.Duration) error {
	return n.PartitionDuring(from, until, []stdtypes.NodeID{id})
}

// partitionLinks returns the links between nodes of different groups.
func (n *Network) partitionLinks(groups [][]stdtypes.NodeID) ([]*link, error) {
	group := make([]int, len(n.nodes))
	for i := range group {
		group[i] = len(groups) // the group of the unlisted
	}
	for g, members := range groups {
		for _, id := range members {
			i, err := n.indexOf(id)
			if err != nil {
				return nil, err
			}
			group[i] = g
		}
	}
	var links []*link
	for i := range n.nodes {
		for j := range n.nodes {
			if group[i] != group[j] {
				links = append(links, n.link(i, j))
			}
		}
	}
	return links, nil
}

// cut cuts links and returns the function that heals them, once.
func cut(links []*link) (heal func()) {
	for _, l := range links {
		l.cuts++
	}
	healed := false
	return func() {
		if healed {
			return
		}
		healed = true
		for _, l := range links {
			l.cuts--
		}
	}
}

// SetAdversary makes node id Byzantine: every message it sends to another
// node passes through an attack of adv (Adversary.Attack, called now, for
// this node and run), which decides what is sent instead. Nil makes the
// node correct again. Messages a node sends itself are not affected.
func (n *Network) SetAdversary(id stdtypes.NodeID, adv Adversary) error {
	i, err := n.indexOf(id)
	if err != nil {
		return err
	}
	st := &n.adversaries[i]
	if adv == nil {
		st.attack = nil
		return nil
	}
	if st.rand == nil {
		st.rand = n.sim.NewRand("net/sim/adversary/" + string(id))
	}
	st.attack = adv.Attack(id, st.rand)
	return nil
}

// encode passes msg through the codec if the mode asks for it, returning
// the message to deliver and its encoding, if made. data is the encoding
// made for an earlier destination of the same send request, or nil.
func (n *Network) encode(msg stdtypes.Message, data []byte) (stdtypes.Message, []byte, error) {
	switch n.codec {
	case CodecNever:
		return msg, data, nil
	case CodecFirstOfType:
		t := reflect.TypeOf(msg)
		if _, ok := n.checked[t]; ok {
			return msg, data, nil
		}
		copied, data, err := net.CopyMessage(msg, data)
		if err == nil {
			n.checked[t] = struct{}{}
		}
		return copied, data, err
	}
	return net.CopyMessage(msg, data)
}

// size returns msg's size in bytes, for a bandwidth limit.
func (n *Network) size(msg stdtypes.Message, data []byte) (int, []byte, error) {
	if n.sizeOf != nil {
		return n.sizeOf(msg), data, nil
	}
	if data == nil {
		var err error
		if data, err = codec.EncodeMessage(msg); err != nil {
			return 0, nil, fmt.Errorf("message %s cannot be sent: %w", stdtypes.TypeName(msg), err)
		}
	}
	return len(data), data, nil
}

// link is a directed link between two nodes, with its configuration, its
// state and its counters. It is the gate of the messages it carries: when
// a message's time comes, it checks that the link is still up.
type link struct {
	net      *Network
	from, to int
	cfg      LinkConfig
	// cuts counts the cuts (partitions) of the link in force.
	cuts int
	// lastArrival is the arrival time of the last FIFO message.
	lastArrival time.Duration
	// busyUntil is when the link is done transmitting what it was given,
	// under a bandwidth limit.
	busyUntil time.Duration

	// Counters, for the transports' Stats: out and droppedOut at the
	// sender, in and droppedIn at the receiver.
	out, in, droppedOut, droppedIn uint64
}

// Admit is called when a message reaches the end of the link.
func (l *link) Admit(_ *testsim.Node, _ stdtypes.Event, up bool) bool {
	st := &l.net.stats
	switch {
	case !up:
		st.Down++
	case l.cuts > 0:
		st.Cut++
	default:
		l.in++
		st.Delivered++
		return true
	}
	l.droppedIn++
	return false
}
