package isstest

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// DefaultID is the module ID of the App in the agreed wiring of an ISS
// node: ISS, the orderers and the checkpoint module send it their
// requests there.
const DefaultID stdtypes.ModuleID = "app"

// Params are the App's parameters. The limits bound the App's memory
// whatever the other nodes send; those on batches must be the same at
// every node, or nodes disagree on which proposals are valid.
type Params struct {
	// Node and Incarnation name the node and its start (1, then one more
	// at each restart: deploytest.NodeInfo's) in the Reports. They do not
	// change what the App does.
	Node        stdtypes.NodeID
	Incarnation int
	// NumBuckets is the number of buckets of the request hash space: ISS's
	// iss.Params.NumBuckets (see BucketOf).
	NumBuckets int
	// MaxBatchRequests and MaxBatchBytes bound a batch the App proposes
	// and one it accepts from another leader.
	MaxBatchRequests int
	MaxBatchBytes    int
	// MaxClientBytes bounds a client's ID and MaxPayloadBytes a request's
	// payload, in a Submit and in a batch.
	MaxClientBytes  int
	MaxPayloadBytes int
	// MaxPending bounds the requests the App holds, submitted and not yet
	// executed: a Submit beyond it is refused (and reported), as a full
	// mempool refuses a transaction.
	MaxPending int
	// MaxClients bounds the clients whose executed requests the state
	// remembers: a request of a new client beyond it is not executed.
	MaxClients int
	// ClientWindow is how far ahead of a client's watermark (the lowest
	// sequence number of its not yet executed requests) a request may be
	// executed: the state remembers, per client, at most ClientWindow
	// requests above the watermark. A request beyond it is refused at
	// Submit, and not executed if a batch holds it.
	ClientWindow uint64
	// MaxHeldProposals bounds the RequestProposals the App holds while it
	// has nothing to propose; beyond it the oldest is dropped (its orderer
	// proposes an empty value after its MaxProposeDelay anyway).
	MaxHeldProposals int
	// ConfigOffset is ISS's: the snapshot of epoch e decides the
	// membership of epoch e + ConfigOffset + 1.
	ConfigOffset int
	// Memberships is the membership schedule, in increasing FromEpoch:
	// the snapshot of epoch e returns as NextVoters the Voters of the last
	// change whose FromEpoch is at most e + ConfigOffset + 1, and no voters
	// (keep the current membership) before the first. Epochs 0 to
	// ConfigOffset have ISS's initial membership, so FromEpoch must be
	// above ConfigOffset.
	Memberships []MembershipChange
	// Observer, if not nil, is called with a Report of every Submit,
	// delivery and restore, for the property checkers (Checker.Report)
	// and the tests. It is outside the App's deterministic state: the App
	// does not depend on it. It is called from ApplyEvents, on the node's
	// goroutine: in a real deployment, from several nodes at once. The
	// Report is the observer's to keep, and not to modify (see Report).
	Observer func(Report)
}

// MembershipChange is one step of a membership schedule: from epoch
// FromEpoch on, the membership is Voters.
type MembershipChange struct {
	FromEpoch stdtypes.EpochNr
	Voters    membership.Voters
}

// DefaultParams returns the parameters of node's App, with ISS's default
// NumBuckets (64) and ConfigOffset (2), no membership changes, and
// limits that fit tests of up to a few thousand requests in flight.
func DefaultParams(node stdtypes.NodeID) Params {
	return Params{
		Node:             node,
		Incarnation:      1,
		NumBuckets:       64,
		MaxBatchRequests: 256,
		MaxBatchBytes:    1 << 20,
		MaxClientBytes:   64,
		MaxPayloadBytes:  4 << 10,
		MaxPending:       1 << 16,
		MaxClients:       1 << 12,
		ClientWindow:     1 << 12,
		MaxHeldProposals: 1 << 10,
		ConfigOffset:     2,
	}
}

// maxWindow bounds ClientWindow: the state holds up to ClientWindow
// sequence numbers per client, and MaxSeq plus it must not overflow.
const maxWindow = 1 << 20

// Validate reports whether the parameters can be used.
func (p Params) Validate() error {
	var errs []error
	positive := []struct {
		name string
		v    int
	}{
		{"NumBuckets", p.NumBuckets}, {"MaxBatchRequests", p.MaxBatchRequests}, {"MaxBatchBytes", p.MaxBatchBytes},
		{"MaxClientBytes", p.MaxClientBytes}, {"MaxPayloadBytes", p.MaxPayloadBytes}, {"MaxPending", p.MaxPending},
		{"MaxClients", p.MaxClients}, {"MaxHeldProposals", p.MaxHeldProposals},
	}
	for _, x := range positive {
		if x.v <= 0 {
			errs = append(errs, fmt.Errorf("%s is %d, want at least 1", x.name, x.v))
		}
	}
	if p.MaxBatchBytes < batchOverheadBytes+maxRequestBytes(p) {
		errs = append(errs, fmt.Errorf("MaxBatchBytes is %d: a request of MaxClientBytes and MaxPayloadBytes takes up to %d", p.MaxBatchBytes, batchOverheadBytes+maxRequestBytes(p)))
	}
	if p.Node == "" {
		errs = append(errs, errors.New("no Node"))
	}
	if p.ClientWindow == 0 || p.ClientWindow > maxWindow {
		errs = append(errs, fmt.Errorf("ClientWindow is %d, want 1 to %d", p.ClientWindow, maxWindow))
	}
	if p.ConfigOffset < 0 {
		errs = append(errs, fmt.Errorf("ConfigOffset is %d, want at least 0", p.ConfigOffset))
	}
	for i, c := range p.Memberships {
		if err := c.Voters.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("Params.Memberships[%d]: %w", i, err))
		}
		if c.FromEpoch <= stdtypes.EpochNr(max(p.ConfigOffset, 0)) {
			errs = append(errs, fmt.Errorf("Params.Memberships[%d] from epoch %d: epochs up to ConfigOffset (%d) have the initial membership", i, c.FromEpoch, p.ConfigOffset))
		}
		if i > 0 && c.FromEpoch <= p.Memberships[i-1].FromEpoch {
			errs = append(errs, fmt.Errorf("Params.Memberships[%d] from epoch %d: not after the change before it", i, c.FromEpoch))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("isstest: invalid params: %w", errors.Join(errs...))
	}
	return nil
}

// batchOverheadBytes bounds what a batch's encoding takes besides its
// requests: the version and the count.
const batchOverheadBytes = 1 + 10

// maxRequestBytes bounds the encoding of a request within the limits.
func maxRequestBytes(p Params) int { return 30 + max(p.MaxClientBytes, 0) + max(p.MaxPayloadBytes, 0) }

// limits returns the limits on the batches the App proposes and accepts.
func (p Params) limits() Limits {
	return Limits{
		MaxRequests:     p.MaxBatchRequests,
		MaxBytes:        p.MaxBatchBytes,
		MaxClientBytes:  p.MaxClientBytes,
		MaxPayloadBytes: p.MaxPayloadBytes,
	}
}

// membershipOf returns the membership the schedule gives epoch e, or nil
// if it gives none (the initial one holds).
func (p Params) membershipOf(e stdtypes.EpochNr) membership.Voters {
	var v membership.Voters
	for _, c := range p.Memberships {
		if c.FromEpoch > e {
			break
		}
		v = c.Voters
	}
	return v
}
