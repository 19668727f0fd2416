package checkpoint

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules the checkpoint module talks to.
type ModuleConfig struct {
	// Self is the module's own ID: its messages go to it on the other
	// nodes, and the timer, the crypto module and the hasher answer to it.
	Self stdtypes.ModuleID
	// ISS receives the Stables of checkpoints learned from other nodes
	// (state transfer). The Stables of this node's own checkpoints go to
	// each Start's ReplyTo.
	ISS stdtypes.ModuleID
	// ReliableNet sends the CHECKPOINT messages and retransmits them until
	// they arrive (pkg/reliablenet); Self must be one of its users.
	ReliableNet stdtypes.ModuleID
	// Net sends the messages that need no retransmission (the periodic
	// STABLECHECKPOINT and the snapshot requests and responses, which
	// have their own timers).
	Net stdtypes.ModuleID
	// Crypto signs and verifies (pkg/crypto, a module keyed by node IDs).
	Crypto stdtypes.ModuleID
	// Hasher computes state hashes (crypto.NewHasher); every node's must
	// use the same hash function.
	Hasher stdtypes.ModuleID
	// Timer sends the Ticks (ModuleParams.ResendPeriod) and the
	// SnapshotTimeouts.
	Timer stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs of docs/iss.md.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{
		Self: "checkpoint", ISS: "iss", ReliableNet: "rnet", Net: "net",
		Crypto: "crypto", Hasher: "hasher", Timer: "timer",
	}
}

// Validate reports whether every ID is a valid module ID.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name string
		id   stdtypes.ModuleID
	}{
		{"Self", mc.Self}, {"ISS", mc.ISS}, {"ReliableNet", mc.ReliableNet}, {"Net", mc.Net},
		{"Crypto", mc.Crypto}, {"Hasher", mc.Hasher}, {"Timer", mc.Timer},
	} {
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	return errors.Join(errs...)
}

// ModuleParams are the module's parameters.
type ModuleParams struct {
	// Voters are the voters of epoch 0, which also hold for epochs 1 to
	// ConfigOffset (iss.Params.Voters): until it sees a Start, a node
	// verifies certificates against them, and counts the weak quorums
	// that vouch for a certificate among them. The node itself need not
	// be one of them.
	Voters membership.Voters
	// ConfigOffset is ISS's: the membership of epoch e+ConfigOffset+1 is
	// decided at the end of epoch e.
	ConfigOffset int
	// MaxStateBytes bounds a checkpointed State (its AppData, Protocol
	// and Voters, see StateBytes): a node fetches the State of a
	// certificate from another in one SNAPSHOTRESPONSE, which the
	// transport must carry, and a node that fell behind must not let a
	// Byzantine peer make it hash an unbounded value. A Start with a
	// larger State is an error.
	MaxStateBytes int
	// ResendPeriod is how often the module sends its latest stable
	// certificate to every node it knows (STABLECHECKPOINT), so that a
	// node that fell behind learns it; it is also the period of the
	// budget MaxServesPerPeriod.
	ResendPeriod time.Duration
	// SnapshotTimeout is how long a node that fetches a State waits for
	// a signer's SNAPSHOTRESPONSE before it asks the next signer.
	SnapshotTimeout time.Duration
	// RetainedCheckpoints is how many stable checkpoints (certificate
	// and State) the module keeps, the latest included, to serve others.
	RetainedCheckpoints int
	// EpochWindow bounds the epochs whose CHECKPOINT signatures the
	// module takes: those from the epoch after its latest stable
	// checkpoint on, fewer than EpochWindow of them. It keeps at most one
	// signature per sender and epoch, so a Byzantine voter can make it
	// keep at most EpochWindow signatures, however many it sends. A node
	// that falls further behind catches up by state transfer.
	EpochWindow uint64
	// MaxServesPerPeriod bounds the SNAPSHOTRESPONSEs and the answers to
	// stale messages (a STABLECHECKPOINT) the module sends in one
	// ResendPeriod: serving a State costs up to MaxStateBytes of
	// bandwidth, and any node may ask.
	MaxServesPerPeriod int
}

// DefaultModuleParams returns the defaults for epoch 0's voters, with
// the ConfigOffset of docs/iss.md.
func DefaultModuleParams(voters membership.Voters) ModuleParams {
	return ModuleParams{
		Voters:       slices.Clone(voters),
		ConfigOffset: 2,
		// 3 MiB leaves room, in TCP's default 4 MiB frames, for the
		// encoding of a SNAPSHOTRESPONSE.
		MaxStateBytes:       3 << 20,
		ResendPeriod:        time.Second,
		SnapshotTimeout:     time.Second,
		RetainedCheckpoints: 2,
		EpochWindow:         16,
		MaxServesPerPeriod:  16,
	}
}

// maxStateBytes bounds MaxStateBytes: no transport carries more in a
// message, and sizes computed from it must not overflow.
const maxStateBytes = 1 << 30

// maxEpochWindow bounds EpochWindow, and so what Byzantine voters can
// make a node keep (EpochWindow signatures each).
const maxEpochWindow = 1 << 10

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	if err := p.Voters.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("ModuleParams.Voters: %w", err))
	}
	if p.ConfigOffset < 0 || p.ConfigOffset > maxVoterEpochs-1 {
		errs = append(errs, fmt.Errorf("ConfigOffset is %d; it must be between 0 and %d", p.ConfigOffset, maxVoterEpochs-1))
	}
	if p.MaxStateBytes < 1 || p.MaxStateBytes > maxStateBytes {
		errs = append(errs, fmt.Errorf("MaxStateBytes is %d; it must be between 1 and %d", p.MaxStateBytes, maxStateBytes))
	}
	if p.ResendPeriod <= 0 {
		errs = append(errs, fmt.Errorf("ResendPeriod is %v; it must be positive", p.ResendPeriod))
	}
	if p.SnapshotTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SnapshotTimeout is %v; it must be positive", p.SnapshotTimeout))
	}
	if p.RetainedCheckpoints < 1 || p.RetainedCheckpoints > 1<<10 {
		errs = append(errs, fmt.Errorf("RetainedCheckpoints is %d; it must be between 1 and 1024", p.RetainedCheckpoints))
	}
	if p.EpochWindow < 1 || p.EpochWindow > maxEpochWindow {
		errs = append(errs, fmt.Errorf("EpochWindow is %d; it must be between 1 and %d", p.EpochWindow, maxEpochWindow))
	}
	if p.MaxServesPerPeriod < 0 {
		errs = append(errs, fmt.Errorf("MaxServesPerPeriod is %d; it must not be negative", p.MaxServesPerPeriod))
	}
	return errors.Join(errs...)
}
