package membership

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/stdtypes"
)

// Voter is a node and its voting weight.
type Voter struct {
	// ID is the node.
	ID stdtypes.NodeID
	// Weight is its voting weight, at least 1.
	Weight uint64
}

// Voters is what a Byzantine fault-tolerant protocol needs of a membership
// to count quorums: the nodes that vote, in a fixed order, with their
// weights. Quorums count weight, not nodes, so that a deployment can give
// some nodes more say than others (nodes with more stake, or a
// reconfiguration that phases a node out by lowering its weight).
//
// With W the total weight, the protocols tolerate faulty nodes of total
// weight f as long as 3f < W:
//   - a strong quorum is a set of voters with weight > 2W/3: any two share
//     voters of weight > W/3 > f, so they share a correct voter;
//   - a weak quorum is a set of voters with weight > W/3: it holds at least
//     one correct voter.
//
// With every weight 1 and n = 3f+1 nodes these are the familiar 2f+1 and
// f+1. Voters is a plain value, so that it can travel in events and be
// recorded; Validate checks one that came from outside.
type Voters []Voter

// Voters returns the nodes of the membership with their weights, in the
// membership's order.
func (m *Membership) Voters() Voters {
	v := make(Voters, len(m.nodes))
	for i, n := range m.nodes {
		v[i] = Voter{ID: n.ID, Weight: n.weight()}
	}
	return v
}

// EqualVoters returns voters of weight 1 each, in the order given.
func EqualVoters(ids ...stdtypes.NodeID) Voters {
	v := make(Voters, len(ids))
	for i, id := range ids {
		v[i] = Voter{ID: id, Weight: 1}
	}
	return v
}

// ErrInvalidVoters is wrapped by what Validate reports.
var ErrInvalidVoters = errors.New("invalid voters")

// Validate checks that there is at least one voter and at most MaxNodes,
// that no ID is empty or listed twice, and that every weight is between 1
// and MaxWeight.
func (v Voters) Validate() error {
	switch {
	case len(v) == 0:
		return fmt.Errorf("%w: none", ErrInvalidVoters)
	case len(v) > MaxNodes:
		return fmt.Errorf("%w: %d voters, at most %d", ErrInvalidVoters, len(v), MaxNodes)
	}
	seen := make(map[stdtypes.NodeID]struct{}, len(v))
	for i, x := range v {
		switch {
		case x.ID == "":
			return fmt.Errorf("%w: voter %d has an empty ID", ErrInvalidVoters, i)
		case x.Weight == 0 || x.Weight > MaxWeight:
			return fmt.Errorf("%w: voter %q has weight %d, want 1 to %d", ErrInvalidVoters, x.ID, x.Weight, uint64(MaxWeight))
		}
		if _, dup := seen[x.ID]; dup {
			return fmt.Errorf("%w: voter %q listed twice", ErrInvalidVoters, x.ID)
		}
		seen[x.ID] = struct{}{}
	}
	return nil
}

// IDs returns the voters' IDs, in order.
func (v Voters) IDs() []stdtypes.NodeID {
	ids := make([]stdtypes.NodeID, len(v))
	for i, x := range v {
		ids[i] = x.ID
	}
	return ids
}

// Total returns the total weight.
func (v Voters) Total() uint64 {
	var w uint64
	for _, x := range v {
		w += x.Weight
	}
	return w
}

// Weight returns the weight of node id, and false if it is no voter.
func (v Voters) Weight(id stdtypes.NodeID) (uint64, bool) {
	for _, x := range v {
		if x.ID == id {
			return x.Weight, true
		}
	}
	return 0, false
}

// Index returns the position of node id, or -1 if it is no voter.
func (v Voters) Index(id stdtypes.NodeID) int {
	return slices.IndexFunc(v, func(x Voter) bool { return x.ID == id })
}

// Contains reports whether node id is a voter.
func (v Voters) Contains(id stdtypes.NodeID) bool { return v.Index(id) >= 0 }

// WeightOf returns the total weight of the distinct voters among ids;
// IDs that are no voters, and repetitions, add nothing.
func (v Voters) WeightOf(ids []stdtypes.NodeID) uint64 {
	var w uint64
	counted := make([]bool, len(v))
	for _, id := range ids {
		if i := v.Index(id); i >= 0 && !counted[i] {
			counted[i] = true
			w += v[i].Weight
		}
	}
	return w
}

// IsStrongQuorum reports whether weight is more than two thirds of the
// total: 3·weight > 2·W.
func (v Voters) IsStrongQuorum(weight uint64) bool { return 3*weight > 2*v.Total() }

// IsWeakQuorum reports whether weight is more than a third of the total:
// 3·weight > W.
func (v Voters) IsWeakQuorum(weight uint64) bool { return 3*weight > v.Total() }
