package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// Outgoing is a message a node sends to another node, as an Adversary
// sees and rewrites it.
type Outgoing struct {
	From stdtypes.NodeID
	// To is the destination node. An adversary may change it; a node
	// outside the network drops the message.
	To stdtypes.NodeID
	// MsgDest is the module that receives the message on node To.
	MsgDest stdtypes.ModuleID
	// Msg is the message. The node that sent it may hold it: an
	// adversary that changes it makes a new message rather than modify
	// this one.
	Msg stdtypes.Message
	// Delay is added before the message enters the link.
	Delay time.Duration
}

// An Adversary is what a Byzantine node does to the messages it sends to
// other nodes. It is a description, holding no state of a run: the
// network asks it for an Attack on each node it is set on
// (Network.SetAdversary), and what the adversary remembers during a run
// (the version of a lie each peer was told, a count) lives in that
// Attack, which belongs to the run. So one Adversary value can be handed
// to any number of runs, and a seed gives the same run whether the value
// is new or has been used before.
type Adversary interface {
	// Attack returns the adversary's attack by node in one run. r is the
	// node's source of randomness for adversaries, seeded from the run's
	// seed and the node's ID: the attack draws from it only.
	Attack(node stdtypes.NodeID, r *rand.Rand) Attack
}

// An Attack is an Adversary at work on one node during one run: it sees
// each message the node sends to another node and appends to dst what is
// sent instead, nothing to drop it, several messages to duplicate or
// equivocate. The network calls it on the simulation's goroutine.
type Attack interface {
	Outgoing(dst []Outgoing, m Outgoing) []Outgoing
}

// AttackFunc lets a function be an Attack.
type AttackFunc func(dst []Outgoing, m Outgoing) []Outgoing

// Outgoing calls f.
func (f AttackFunc) Outgoing(dst []Outgoing, m Outgoing) []Outgoing { return f(dst, m) }

// AdversaryFunc lets a function be an Adversary: it is called once per
// node and run, and what the returned attack remembers is made inside it:
//
//	sim.AdversaryFunc(func(node stdtypes.NodeID, r *rand.Rand) sim.Attack {
//		sent := 0 // this node's count, in this run
//		return sim.AttackFunc(func(dst []sim.Outgoing, m sim.Outgoing) []sim.Outgoing {
//			sent++
//			...
//		})
//	})
type AdversaryFunc func(node stdtypes.NodeID, r *rand.Rand) Attack

// Attack calls f.
func (f AdversaryFunc) Attack(node stdtypes.NodeID, r *rand.Rand) Attack { return f(node, r) }

// stateless is an Adversary that remembers nothing: f handles every
// message, drawing from the node's source of randomness.
func stateless(f func(dst []Outgoing, m Outgoing, r *rand.Rand) []Outgoing) Adversary {
	return AdversaryFunc(func(_ stdtypes.NodeID, r *rand.Rand) Attack {
		return AttackFunc(func(dst []Outgoing, m Outgoing) []Outgoing { return f(dst, m, r) })
	})
}

// Drop drops each message with probability p: Drop(1) is a node that has
// gone silent, though it still runs.
func Drop(p float64) Adversary {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("sim: Drop(%v): not a probability", p))
	}
	return stateless(func(dst []Outgoing, m Outgoing, r *rand.Rand) []Outgoing {
		if p > 0 && r.Float64() < p {
			return dst
		}
		return append(dst, m)
	})
}

// Delay holds each message back for a time drawn from d, on top of the
// link's latency: a node that is slow, or that times its messages to
// cause harm.
func Delay(d testsim.Delay) Adversary {
	return stateless(func(dst []Outgoing, m Outgoing, r *rand.Rand) []Outgoing {
		m.Delay += testsim.Draw(d, r)
		return append(dst, m)
	})
}

// Duplicate sends each message copies more times.
func Duplicate(copies int) Adversary {
	if copies < 0 {
		panic(fmt.Sprintf("sim: Duplicate(%d): negative count", copies))
	}
	return stateless(func(dst []Outgoing, m Outgoing, _ *rand.Rand) []Outgoing {
		for range copies + 1 {
			dst = append(dst, m)
		}
		return dst
	})
}

// Rewrite replaces each message with what fn returns for it; nil drops
// it. fn sees the destination, so it can lie differently to each peer; it
// must return a new message rather than modify m.Msg, and keep no state
// (it serves every node in every run: an adversary that remembers is an
// AdversaryFunc).
func Rewrite(fn func(m Outgoing, r *rand.Rand) stdtypes.Message) Adversary {
	return stateless(func(dst []Outgoing, m Outgoing, r *rand.Rand) []Outgoing {
		msg := fn(m, r)
		if msg == nil {
			return dst
		}
		m.Msg = msg
		return append(dst, m)
	})
}

// Equivocate tells different peers different things: it assigns each
// destination node one of variants versions, at random from the seed when
// it first sends to it and for the rest of the run (each run chooses
// anew), and sends it
// fn(msg, version) instead of each message (nil drops it). Version 0 may
// well be the message itself. fn must return new messages rather than
// modify msg, and keep no state of its own.
func Equivocate(variants int, fn func(msg stdtypes.Message, version int) stdtypes.Message) Adversary {
	if variants < 1 {
		panic(fmt.Sprintf("sim: Equivocate(%d, ...): need at least one variant", variants))
	}
	return AdversaryFunc(func(_ stdtypes.NodeID, r *rand.Rand) Attack {
		// The version each peer was told, for this node in this run.
		version := make(map[stdtypes.NodeID]int)
		return AttackFunc(func(dst []Outgoing, m Outgoing) []Outgoing {
			v, ok := version[m.To]
			if !ok {
				v = r.IntN(variants)
				version[m.To] = v
			}
			msg := fn(m.Msg, v)
			if msg == nil {
				return dst
			}
			m.Msg = msg
			return append(dst, m)
		})
	})
}

// Chain applies adversaries in turn: what one sends is what the next sees.
func Chain(advs ...Adversary) Adversary {
	return AdversaryFunc(func(node stdtypes.NodeID, r *rand.Rand) Attack {
		attacks := make([]Attack, len(advs))
		for i, adv := range advs {
			attacks[i] = adv.Attack(node, r)
		}
		return AttackFunc(func(dst []Outgoing, m Outgoing) []Outgoing {
			cur := []Outgoing{m}
			for _, a := range attacks {
				var next []Outgoing
				for _, o := range cur {
					next = a.Outgoing(next, o)
				}
				cur = next
			}
			return append(dst, cur...)
		})
	})
}

// Only applies adv to the messages for which match is true and lets the
// others pass: to attack one peer, or one message type.
func Only(match func(m Outgoing) bool, adv Adversary) Adversary {
	return AdversaryFunc(func(node stdtypes.NodeID, r *rand.Rand) Attack {
		a := adv.Attack(node, r)
		return AttackFunc(func(dst []Outgoing, m Outgoing) []Outgoing {
			if !match(m) {
				return append(dst, m)
			}
			return a.Outgoing(dst, m)
		})
	})
}

// To is a match for Only: the messages to the given nodes.
func To(nodes ...stdtypes.NodeID) func(m Outgoing) bool {
	set := make(map[stdtypes.NodeID]bool, len(nodes))
	for _, id := range nodes {
		set[id] = true
	}
	return func(m Outgoing) bool { return set[m.To] }
}
