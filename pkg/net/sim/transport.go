package sim

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Transport is the simulated twin of a node's transport (net.Transport):
// a testsim.Module that turns each stdevents.SendMessage into a
// stdevents.MessageReceived at each destination, after the link's latency
// and faults. A message to the node itself arrives at once, without
// faults, like a real transport hands it straight back.
//
// ApplyEvents handles Init and SendMessage. A SendMessage that fails
// net.ValidateSendMessage is dropped and counted, a destination outside
// the network too, and so is a MessageReceived for the transport itself,
// as by every transport; any other event is an error. So is a message the
// codec refuses (see CodecMode), as it would be on a real network.
type Transport struct {
	net *Network
	id  stdtypes.NodeID
	idx int
	// module is the transport's module ID in its node, learned from its
	// Env: messages arriving at the node enter through it.
	module stdtypes.ModuleID
	// node is the testsim node, looked up on first use.
	node *testsim.Node

	droppedInvalid, droppedUnknown uint64
	// stray counts the messages for the transport itself it dropped.
	stray modules.StrayMessages
}

var _ testsim.Module = (*Transport)(nil)

// ID returns the ID of the transport's node.
func (t *Transport) ID() stdtypes.NodeID { return t.id }

// ApplyEvents sends the messages of the SendMessage events in events.
func (t *Transport) ApplyEvents(env *testsim.Env, events *stdtypes.EventList) error {
	t.module = env.Module()
	for _, ev := range events.Slice() {
		if t.stray.Drop(ev) {
			continue // A peer's message for the transport itself.
		}
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *stdevents.SendMessage:
			if err := t.send(env, ev); err != nil {
				return fmt.Errorf("sim: transport of node %s: %w", t.id, err)
			}
		case nil:
			return fmt.Errorf("sim: transport of node %s: nil event", t.id)
		default:
			return fmt.Errorf("sim: transport of node %s: unexpected event %s", t.id, stdtypes.TypeName(ev))
		}
	}
	return nil
}

// send handles one SendMessage.
func (t *Transport) send(env *testsim.Env, ev *stdevents.SendMessage) error {
	if err := net.ValidateSendMessage(ev); err != nil {
		t.droppedInvalid++
		t.net.logger.LogAttrs(logging.LevelWarn, "sim: dropping invalid SendMessage",
			slog.String("node", string(t.id)), slog.String("error", err.Error()))
		return nil
	}
	n := t.net
	var data []byte // the encoding of ev.Msg, made at most once
	for _, dest := range ev.Destinations {
		j, ok := n.index[dest]
		if !ok {
			t.droppedUnknown++
			continue
		}
		if j == t.idx {
			l := n.link(j, j)
			l.out++
			l.in++
			env.Emit(0, stdevents.NewMessageReceived(ev.MsgDest, t.id, ev.Msg))
			continue
		}
		var err error
		if attack := n.adversaries[t.idx].attack; attack != nil {
			data, err = t.sendByzantine(attack, dest, ev, data)
		} else {
			data, err = t.transmit(j, ev.MsgDest, ev.Msg, 0, data)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sendByzantine hands a message of a Byzantine node to its attack and
// sends what it says instead.
func (t *Transport) sendByzantine(attack Attack, dest stdtypes.NodeID, ev *stdevents.SendMessage, data []byte) ([]byte, error) {
	n := t.net
	m := Outgoing{From: t.id, To: dest, MsgDest: ev.MsgDest, Msg: ev.Msg}
	n.outBuf = attack.Outgoing(n.outBuf[:0], m)
	defer clear(n.outBuf)
	for _, o := range n.outBuf {
		j, ok := n.index[o.To]
		if !ok || o.Msg == nil || o.MsgDest.Validate() != nil {
			t.droppedUnknown++
			continue
		}
		var err error
		if o.Msg != ev.Msg {
			// The adversary made another message: its own encoding.
			_, err = t.transmit(j, o.MsgDest, o.Msg, max(o.Delay, 0), nil)
		} else {
			data, err = t.transmit(j, o.MsgDest, o.Msg, max(o.Delay, 0), data)
		}
		if err != nil {
			return data, err
		}
	}
	return data, nil
}

// transmit puts msg on the link to node j, after delay, applying the
// link's faults, and schedules its arrival.
func (t *Transport) transmit(j int, msgDest stdtypes.ModuleID, msg stdtypes.Message, delay time.Duration, data []byte) ([]byte, error) {
	n := t.net
	l := n.link(t.idx, j)
	l.out++
	n.stats.Sent++
	msg, data, err := n.encode(msg, data)
	if err != nil {
		return data, err
	}
	if l.cuts > 0 {
		n.stats.Cut++
		l.droppedIn++
		return data, nil
	}
	r := n.rand
	if l.cfg.Loss > 0 && r.Float64() < l.cfg.Loss {
		n.stats.Lost++
		l.droppedIn++
		return data, nil
	}
	depart := n.sim.Now() + delay
	if l.cfg.BytesPerSecond > 0 {
		var size int
		if size, data, err = n.size(msg, data); err != nil {
			return data, err
		}
		depart = max(depart, l.busyUntil) + transmissionTime(size, l.cfg.BytesPerSecond)
		l.busyUntil = depart
	}
	latency := l.cfg.Latency
	if latency == nil {
		latency = defaultLatency
	}
	dst := n.transports[j]
	node := dst.simNode()
	if node == nil {
		// Not (yet) a node of the simulation: lost like a message to a
		// node that is down.
		n.stats.Down++
		l.droppedIn++
		return data, nil
	}
	arrival := depart + testsim.Draw(latency, r)
	if l.cfg.Reorder > 0 && r.Float64() < l.cfg.Reorder {
		n.stats.Reordered++
		arrival += testsim.Draw(latency, r)
	} else {
		if arrival <= l.lastArrival {
			arrival = l.lastArrival + 1
		}
		l.lastArrival = arrival
	}
	node.Post(arrival, dst.module, stdevents.NewMessageReceived(msgDest, t.id, msg), l)
	if l.cfg.Duplicate > 0 && r.Float64() < l.cfg.Duplicate {
		n.stats.Duplicated++
		dup := msg
		if n.codec == CodecEvery {
			if dup, data, err = net.CopyMessage(msg, data); err != nil {
				return data, err
			}
		}
		node.Post(depart+testsim.Draw(latency, r), dst.module, stdevents.NewMessageReceived(msgDest, t.id, dup), l)
	}
	return data, nil
}

// transmissionTime is the time size bytes take at the given bandwidth.
func transmissionTime(size int, bytesPerSecond int64) time.Duration {
	return time.Duration(float64(size) * float64(time.Second) / float64(bytesPerSecond))
}

// simNode returns the transport's node in the simulation, or nil.
func (t *Transport) simNode() *testsim.Node {
	if t.node == nil {
		t.node = t.net.sim.Node(t.id)
	}
	return t.node
}

// Stats returns the transport's counters, as a real transport's. Messages
// lost on the way (loss, partitions, a node down) count as DroppedIn of
// the receiver; duplicates make In exceed Out.
func (t *Transport) Stats() net.TransportStats {
	n := t.net
	s := net.TransportStats{
		Peers:           make(map[stdtypes.NodeID]net.PeerStats, len(n.nodes)),
		DroppedInvalid:  t.droppedInvalid,
		DroppedUnknown:  t.droppedUnknown,
		DroppedReceived: t.stray.Count(),
	}
	for j, peer := range n.nodes {
		out, in := n.link(t.idx, j), n.link(j, t.idx)
		s.Peers[peer] = net.PeerStats{Out: out.out, DroppedOut: out.droppedOut, In: in.in, DroppedIn: in.droppedIn}
	}
	return s
}

// ReportStats returns the transport's counters for the node's statistics
// (modules.StatsReporter).
func (t *Transport) ReportStats() any { return t.Stats() }
