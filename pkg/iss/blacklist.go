package iss

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// maxBlacklistEntries bounds the offences a decoded Blacklist state may
// hold: a node holds one entry per offender of the last BlacklistEpochs
// epochs, at most one per node, which no real membership history comes
// near. It bounds the memory a state from another node can take.
const maxBlacklistEntries = 1 << 16

// Blacklist is the policy under which a leader whose segment delivered ⊥
// in epoch e leads none of epochs e+1 to e+Epochs; its latest offence
// counts. If that would leave an epoch without leaders, the offenders
// return oldest offence first (ties in the membership's order) until one
// leads: an epoch never has fewer than one leader.
type Blacklist struct {
	// epochs is the number of epochs an offender is left out.
	epochs int
	// offences are the offences still in force after the last EpochDone,
	// one per node, sorted by epoch, then node: the encoding of State, so
	// that every node's checkpoint holds the same bytes.
	offences []Offence
}

// Offence is an entry of a Blacklist's state: Node's segment delivered ⊥
// in Epoch.
type Offence struct {
	Node  stdtypes.NodeID
	Epoch stdtypes.EpochNr
}

// blacklistState is how State encodes a Blacklist.
type blacklistState struct {
	Offences []Offence
}

// NewBlacklist returns a Blacklist that leaves offenders out for epochs
// epochs, with no offences.
func NewBlacklist(epochs int) *Blacklist { return &Blacklist{epochs: max(epochs, 0)} }

// banned reports whether offence o leaves its node out of epoch e.
func (b *Blacklist) banned(o Offence, e stdtypes.EpochNr) bool {
	return o.Epoch < e && uint64(e-o.Epoch) <= uint64(b.epochs)
}

// Leaders returns the voters not left out of epoch, in their order, or, if
// that is none, the offender with the oldest offence.
func (b *Blacklist) Leaders(epoch stdtypes.EpochNr, voters membership.Voters) []stdtypes.NodeID {
	out := make(map[stdtypes.NodeID]bool) // only looked up
	for _, o := range b.offences {
		if b.banned(o, epoch) && voters.Contains(o.Node) {
			out[o.Node] = true
		}
	}
	leaders := make([]stdtypes.NodeID, 0, len(voters))
	for _, v := range voters {
		if !out[v.ID] {
			leaders = append(leaders, v.ID)
		}
	}
	if len(leaders) > 0 {
		return leaders
	}
	// Every voter is left out: the oldest offender returns. offences is
	// sorted by epoch; among equal epochs, the first voter.
	best := -1
	for i, o := range b.offences {
		switch {
		case !out[o.Node]:
		case best < 0:
			best = i
		case o.Epoch != b.offences[best].Epoch:
			return []stdtypes.NodeID{b.offences[best].Node}
		case voters.Index(o.Node) < voters.Index(b.offences[best].Node):
			best = i
		}
	}
	return []stdtypes.NodeID{b.offences[best].Node}
}

// EpochDone records the offences of epoch and forgets those that leave no
// one out of the epochs after it.
func (b *Blacklist) EpochDone(epoch stdtypes.EpochNr, failed []stdtypes.NodeID) {
	kept := b.offences[:0]
	for _, o := range b.offences {
		if !slices.Contains(failed, o.Node) && b.banned(o, epoch+1) {
			kept = append(kept, o)
		}
	}
	b.offences = kept
	if b.epochs == 0 {
		return
	}
	for _, n := range failed {
		if !slices.ContainsFunc(b.offences, func(o Offence) bool { return o.Node == n }) {
			b.offences = append(b.offences, Offence{Node: n, Epoch: epoch})
		}
	}
	slices.SortFunc(b.offences, compareOffences)
}

func compareOffences(a, b Offence) int {
	return cmp.Or(cmp.Compare(a.Epoch, b.Epoch), cmp.Compare(a.Node, b.Node))
}

// Offences returns the offences in force, sorted by epoch, then node.
func (b *Blacklist) Offences() []Offence { return slices.Clone(b.offences) }

// State returns the offences, encoded.
func (b *Blacklist) State() ([]byte, error) {
	data, err := codec.Marshal(blacklistState{Offences: b.offences})
	if err != nil {
		return nil, fmt.Errorf("iss: blacklist state: %w", err)
	}
	return data, nil
}

// SetState replaces the offences with those data holds. data comes from a
// checkpoint, possibly another node's: it must be a canonical state (each
// node once, with an ID, sorted by epoch, then node, within
// maxBlacklistEntries).
func (b *Blacklist) SetState(data []byte) error {
	var s blacklistState
	if err := codec.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPolicyState, err)
	}
	if len(s.Offences) > maxBlacklistEntries {
		return fmt.Errorf("%w: %d offences, at most %d", ErrInvalidPolicyState, len(s.Offences), maxBlacklistEntries)
	}
	nodes := make(map[stdtypes.NodeID]bool, len(s.Offences))
	for i, o := range s.Offences {
		if o.Node == "" {
			return fmt.Errorf("%w: offence %d of no node", ErrInvalidPolicyState, i)
		}
		if nodes[o.Node] {
			return fmt.Errorf("%w: node %q listed twice", ErrInvalidPolicyState, o.Node)
		}
		nodes[o.Node] = true
		if i > 0 && compareOffences(s.Offences[i-1], o) >= 0 {
			return fmt.Errorf("%w: offences not sorted at %d", ErrInvalidPolicyState, i)
		}
	}
	b.offences = s.Offences
	return nil
}
