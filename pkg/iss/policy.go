package iss

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// LeaderPolicy chooses the leaders of each epoch (docs/iss.md, section 1).
// It is a deterministic function of what the log holds: every correct node
// tells it the same outcomes, in the same order, and gets the same leaders.
// Its state goes into every checkpoint (checkpoint.State.Protocol), so that
// a node that catches up by state transfer chooses as the others do.
type LeaderPolicy interface {
	// Leaders returns the leaders of epoch epoch, whose membership is
	// voters: at least one, each a voter, in the voters' order. The
	// result is the caller's.
	Leaders(epoch stdtypes.EpochNr, voters membership.Voters) []stdtypes.NodeID
	// EpochDone tells the policy that epoch epoch ended, and which of its
	// leaders' segments delivered ⊥ in at least one slot. Epochs end in
	// order.
	EpochDone(epoch stdtypes.EpochNr, failed []stdtypes.NodeID)
	// State returns the policy's state, as SetState takes it back.
	State() ([]byte, error)
	// SetState replaces the policy's state with one State returned (on
	// this node or another, taken from a checkpoint). It returns an error,
	// and changes nothing, if data is not such a state.
	SetState(data []byte) error
}

// ErrInvalidPolicyState is wrapped by SetState's errors.
var ErrInvalidPolicyState = errors.New("invalid leader policy state")

// NewLeaderPolicy returns the policy p.LeaderPolicy names, in its initial
// state.
func NewLeaderPolicy(p Params) (LeaderPolicy, error) {
	switch p.LeaderPolicy {
	case PolicyAllLeaders:
		return &AllLeaders{}, nil
	case PolicyBlacklist:
		if p.BlacklistEpochs < 0 || p.BlacklistEpochs > MaxBlacklistEpochs {
			return nil, fmt.Errorf("iss: BlacklistEpochs %d out of range", p.BlacklistEpochs)
		}
		return NewBlacklist(p.BlacklistEpochs), nil
	}
	return nil, fmt.Errorf("iss: unknown leader policy %q", p.LeaderPolicy)
}

// AllLeaders is the policy under which every voter leads, in the
// membership's order. It has no state.
type AllLeaders struct{}

// Leaders returns the IDs of voters.
func (*AllLeaders) Leaders(_ stdtypes.EpochNr, voters membership.Voters) []stdtypes.NodeID {
	return voters.IDs()
}

// EpochDone does nothing: failures change nothing.
func (*AllLeaders) EpochDone(stdtypes.EpochNr, []stdtypes.NodeID) {}

// State returns an empty state.
func (*AllLeaders) State() ([]byte, error) { return nil, nil }

// SetState accepts only the empty state.
func (*AllLeaders) SetState(data []byte) error {
	if len(data) != 0 {
		return fmt.Errorf("%w: AllLeaders has no state, got %d bytes", ErrInvalidPolicyState, len(data))
	}
	return nil
}
