package iss

import (
	"errors"
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules ISS talks to.
type ModuleConfig struct {
	// Self is ISS's own ID. Orderers send it their SBDelivers and
	// Proposeds, the application its Snapshots, the checkpoint module its
	// Stables; the WAL hands back ISS's records and the orderers' to it.
	Self stdtypes.ModuleID
	// Ordering is the stdmodules.Factory of orderers: ISS creates one
	// submodule per segment, OrdererID(Ordering, epoch, segment), and
	// garbage-collects them by epoch.
	Ordering stdtypes.ModuleID
	// Checkpoint is the checkpoint module (pkg/checkpoint): ISS sends it a
	// checkpoint.Start at the end of each epoch.
	Checkpoint stdtypes.ModuleID
	// App is the application: it gets the Delivers, the SnapshotRequests
	// and the RestoreStates.
	App stdtypes.ModuleID
	// WAL is the write-ahead log module (pkg/wal): ISS persists its
	// stable checkpoints and the epochs it starts there, and truncates its
	// records and its orderers' at each stable checkpoint.
	WAL stdtypes.ModuleID
	// ReliableNet is the reliablenet module the orderers send through: at
	// garbage collection ISS cancels what is still in flight to the
	// collected orderers.
	ReliableNet stdtypes.ModuleID
	// Timer, if not empty, gets a stdevents.TimerGarbageCollect with the
	// garbage-collected epoch at each stable checkpoint, which stops the
	// repeating timers of older epochs. Leave it empty when the timer is
	// shared with a module whose repeating timers do not count in epochs
	// (reliablenet's tick has retention index 0): a timer's garbage
	// collection stops every repeating timer below the index, whoever set
	// it. ISS sets no timers of its own.
	Timer stdtypes.ModuleID
	// Proposer, Validator and Net are not addressed by ISS itself (the
	// orderers talk to the proposer and the validator, and ISS sends no
	// messages); they are here so that one ModuleConfig names the whole
	// of an ISS node, and may be empty.
	Proposer  stdtypes.ModuleID
	Validator stdtypes.ModuleID
	Net       stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs of docs/iss.md, section 7.
// Timer is empty: see ModuleConfig.Timer.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{
		Self:        "iss",
		Ordering:    "ordering",
		Checkpoint:  "checkpoint",
		App:         "app",
		WAL:         "wal",
		ReliableNet: "rnet",
		Proposer:    "app",
		Validator:   "app",
		Net:         "net",
	}
}

// Validate reports whether every ID ISS needs is a valid module ID, and the
// optional ones are valid where given.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name     string
		id       stdtypes.ModuleID
		optional bool
	}{
		{"Self", mc.Self, false}, {"Ordering", mc.Ordering, false}, {"Checkpoint", mc.Checkpoint, false},
		{"App", mc.App, false}, {"WAL", mc.WAL, false}, {"ReliableNet", mc.ReliableNet, false},
		{"Timer", mc.Timer, true}, {"Proposer", mc.Proposer, true}, {"Validator", mc.Validator, true},
		{"Net", mc.Net, true},
	} {
		if m.optional && m.id == "" {
			continue
		}
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	if mc.Self != "" && mc.Ordering != "" && mc.Self.Top() == mc.Ordering.Top() {
		errs = append(errs, fmt.Errorf("ModuleConfig: Self %q and Ordering %q are the same module", mc.Self, mc.Ordering))
	}
	return errors.Join(errs...)
}

// PolicyName names a leader selection policy (docs/iss.md, section 1).
type PolicyName string

const (
	// PolicyAllLeaders makes every voter of an epoch a leader.
	PolicyAllLeaders PolicyName = "AllLeaders"
	// PolicyBlacklist leaves out, for BlacklistEpochs epochs, the leaders
	// whose segments delivered ⊥.
	PolicyBlacklist PolicyName = "Blacklist"
)

// Limits on the parameters. They keep every size ISS computes from them
// small: an epoch has SegmentLength × |leaders| slots, each held until the
// epoch ends, and a checkpoint carries ConfigOffset+1 memberships.
const (
	// MaxSegmentLength bounds Params.SegmentLength.
	MaxSegmentLength = 1 << 16
	// MaxNumBuckets bounds Params.NumBuckets.
	MaxNumBuckets = 1 << 16
	// MaxConfigOffset bounds Params.ConfigOffset.
	MaxConfigOffset = 64
	// MaxRetainedEpochs bounds Params.RetainedEpochs.
	MaxRetainedEpochs = 1 << 10
	// MaxBlacklistEpochs bounds Params.BlacklistEpochs.
	MaxBlacklistEpochs = 1 << 20
)

// Params are ISS's protocol parameters (docs/iss.md, section 9). The
// orderers' parameters (MaxProposeDelay, the view-change timeouts, the
// message buffer) are here too, so that one value configures the whole
// protocol; ISS itself does not use them, and the orderers' factory takes
// them from here.
type Params struct {
	// Voters is the membership of epoch 0, which also holds for epochs 1
	// to ConfigOffset; later ones come from the application's snapshots.
	Voters membership.Voters
	// SegmentLength is the number of slots each leader orders per epoch.
	SegmentLength int
	// NumBuckets is the number of buckets the request hash space is cut
	// into; each epoch assigns every bucket to one leader.
	NumBuckets int
	// LeaderPolicy chooses each epoch's leaders.
	LeaderPolicy PolicyName
	// BlacklistEpochs is how many epochs PolicyBlacklist leaves out a
	// leader whose segment delivered ⊥. 0 leaves out no one.
	BlacklistEpochs int
	// MaxProposeDelay is the longest a leader waits for a value before it
	// proposes an empty one.
	MaxProposeDelay time.Duration
	// ViewChangeTimeout is the first view-change timeout of a segment; it
	// doubles per failed view, up to MaxViewChangeTimeout.
	ViewChangeTimeout    time.Duration
	MaxViewChangeTimeout time.Duration
	// ConfigOffset is the number of epochs between the end of the epoch
	// that decides a membership and the epoch it applies to: the snapshot
	// after epoch e gives the membership of epoch e + ConfigOffset + 1.
	ConfigOffset int
	// RetainedEpochs is the number of epochs up to a stable checkpoint
	// that a node keeps (orderers, state) to serve slower nodes: a stable
	// checkpoint of epoch s garbage-collects the epochs below
	// s + 1 − RetainedEpochs.
	RetainedEpochs int
	// MsgBufferBytes and MsgBufferCount bound, per sender, the early
	// messages kept for orderers not created yet.
	MsgBufferBytes int
	MsgBufferCount int
}

// DefaultParams returns the defaults of docs/iss.md, section 9, for the
// membership voters.
func DefaultParams(voters membership.Voters) Params {
	return Params{
		Voters:               voters,
		SegmentLength:        16,
		NumBuckets:           64,
		LeaderPolicy:         PolicyBlacklist,
		BlacklistEpochs:      2,
		MaxProposeDelay:      50 * time.Millisecond,
		ViewChangeTimeout:    300 * time.Millisecond,
		MaxViewChangeTimeout: 10 * time.Second,
		ConfigOffset:         2,
		RetainedEpochs:       1,
		MsgBufferBytes:       4 << 20,
		MsgBufferCount:       4096,
	}
}

// Validate reports whether the parameters can be used.
func (p Params) Validate() error {
	var errs []error
	if err := p.Voters.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("Params.Voters: %w", err))
	}
	inRange := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s is %d; want %d to %d", name, v, lo, hi))
		}
	}
	inRange("SegmentLength", p.SegmentLength, 1, MaxSegmentLength)
	inRange("NumBuckets", p.NumBuckets, 1, MaxNumBuckets)
	inRange("BlacklistEpochs", p.BlacklistEpochs, 0, MaxBlacklistEpochs)
	inRange("ConfigOffset", p.ConfigOffset, 0, MaxConfigOffset)
	inRange("RetainedEpochs", p.RetainedEpochs, 0, MaxRetainedEpochs)
	inRange("MsgBufferBytes", p.MsgBufferBytes, 1, 1<<30)
	inRange("MsgBufferCount", p.MsgBufferCount, 1, 1<<20)
	switch p.LeaderPolicy {
	case PolicyAllLeaders, PolicyBlacklist:
	default:
		errs = append(errs, fmt.Errorf("LeaderPolicy %q; want %q or %q", p.LeaderPolicy, PolicyAllLeaders, PolicyBlacklist))
	}
	if p.MaxProposeDelay <= 0 {
		errs = append(errs, fmt.Errorf("MaxProposeDelay is %v; it must be positive", p.MaxProposeDelay))
	}
	if p.ViewChangeTimeout <= 0 {
		errs = append(errs, fmt.Errorf("ViewChangeTimeout is %v; it must be positive", p.ViewChangeTimeout))
	}
	if p.MaxViewChangeTimeout < p.ViewChangeTimeout {
		errs = append(errs, fmt.Errorf("MaxViewChangeTimeout %v is below ViewChangeTimeout %v", p.MaxViewChangeTimeout, p.ViewChangeTimeout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("iss: invalid parameters: %w", errors.Join(errs...))
	}
	return nil
}
