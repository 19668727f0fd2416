package availability

import (
	"errors"
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules availability talks to.
type ModuleConfig struct {
	// Self is availability's own ID: its messages go to it on the other
	// nodes, and the crypto, timer and WAL modules answer to it. It is one
	// path segment: it owns its WAL records.
	Self stdtypes.ModuleID
	// ReliableNet sends REQUESTSIG and SIG, which must arrive
	// (pkg/reliablenet); Self must be one of its users.
	ReliableNet stdtypes.ModuleID
	// Net sends FETCH and FETCHRESPONSE directly: a fetch that gets no
	// answer asks another signer after FetchTimeout, so retransmitting
	// would only add load.
	Net stdtypes.ModuleID
	// Crypto signs and verifies (pkg/crypto).
	Crypto stdtypes.ModuleID
	// WAL persists the batches this node signs (pkg/wal).
	WAL stdtypes.ModuleID
	// Timer sends the FetchTimeouts.
	Timer stdtypes.ModuleID
	// Mempool cuts the batches (pkg/mempool).
	Mempool stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs of a Trantor node.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{
		Self: "availability", ReliableNet: "rnet", Net: "net", Crypto: "crypto",
		WAL: "wal", Timer: "timer", Mempool: "mempool",
	}
}

// Validate reports whether every ID is a valid module ID and Self is one
// path segment.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name string
		id   stdtypes.ModuleID
	}{
		{"Self", mc.Self}, {"ReliableNet", mc.ReliableNet}, {"Net", mc.Net}, {"Crypto", mc.Crypto},
		{"WAL", mc.WAL}, {"Timer", mc.Timer}, {"Mempool", mc.Mempool},
	} {
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	if mc.Self.Validate() == nil && mc.Self.Top() != mc.Self {
		errs = append(errs, fmt.Errorf("ModuleConfig.Self %q: must be one path segment, the owner of its WAL records", mc.Self))
	}
	return errors.Join(errs...)
}

// ModuleParams are availability's parameters. Every node of a deployment
// must use the same limits: a batch one node's limits refuse, another's
// must not accept, or a leader would collect signatures for batches that
// some nodes never sign.
type ModuleParams struct {
	// Voters is the membership of epoch 0. A node checks that the sender
	// of a REQUESTSIG is a voter of its epoch; it learns the voters of
	// later epochs from ISS (RequestProposal, VerifyProposal), and, for an
	// epoch it has not learned yet, takes those of the latest epoch it
	// knows: a REQUESTSIG of a node it does not know yet is dropped, and
	// comes again (reliablenet) once it does.
	Voters membership.Voters
	// MaxBatchTxs bounds the transactions of a batch.
	MaxBatchTxs int
	// MaxTxBytes bounds a transaction: its client ID and its data.
	MaxTxBytes int
	// MaxBatchBytes bounds a batch: the sum over its transactions of their
	// client IDs and data.
	MaxBatchBytes int
	// MaxBuckets bounds the number of buckets of a proposal, and the
	// buckets themselves (0 to MaxBuckets-1): at least ISS's NumBuckets.
	MaxBuckets int
	// BucketOf, if set, returns the bucket of a transaction (the mempool's
	// function): a node then signs only batches whose transactions all lie
	// in the batch's buckets. Unset, the batch fetcher's check at delivery
	// is the only one (docs/trantor.md).
	BucketOf func(mempool.Tx) int
	// MaxBatchesPerSender bounds the batches a node stores for each other
	// leader at once (in its WAL and in memory): a Byzantine leader that
	// floods REQUESTSIGs fills its own quota, and its later REQUESTSIGs are
	// dropped until a stable checkpoint collects its batches. A correct
	// leader has at most one batch per slot it leads in the epochs kept
	// (RetainedEpochs and those not yet stable): the default leaves room
	// for segments of a few hundred slots. See ReliableNetNeeds.
	MaxBatchesPerSender int
	// RetainedEpochs is how many epochs of batches a node keeps below a
	// stable checkpoint: at iss.StableCheckpoint{Epoch: e} it drops the
	// batches of epochs up to e - RetainedEpochs, so that nodes a little
	// behind can still fetch the batches of the last epochs from it.
	RetainedEpochs uint64
	// FetchTimeout is how long a fetch waits for a signer's answer before
	// it asks the next signer.
	FetchTimeout time.Duration
	// MaxFetches bounds the batches being fetched at once: the batch
	// fetcher's window of slots keeps far fewer; more is a local misuse.
	MaxFetches int
	// MaxOpenProposals bounds the orderers that have a proposal open
	// here at once (one per segment this node leads in the epochs being
	// ordered); more is a local misuse.
	MaxOpenProposals int
}

// Limits that no parameter may exceed: sizes computed from them must not
// overflow, and no transport carries more in one message.
const (
	maxBatchBytesLimit = 1 << 30
	maxBucketsLimit    = 1 << 16
)

// DefaultModuleParams returns parameters for a deployment whose epoch 0
// has the given voters.
func DefaultModuleParams(voters membership.Voters) ModuleParams {
	return ModuleParams{
		Voters:              voters,
		MaxBatchTxs:         4096,
		MaxTxBytes:          64 << 10,
		MaxBatchBytes:       4 << 20,
		MaxBuckets:          1024,
		MaxBatchesPerSender: 1024,
		RetainedEpochs:      2,
		FetchTimeout:        time.Second,
		MaxFetches:          1024,
		MaxOpenProposals:    64,
	}
}

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	if err := p.Voters.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("ModuleParams.Voters: %w", err))
	}
	positive := []struct {
		name     string
		v, limit int
	}{
		{"MaxBatchTxs", p.MaxBatchTxs, maxBatchBytesLimit},
		{"MaxTxBytes", p.MaxTxBytes, maxBatchBytesLimit},
		{"MaxBatchBytes", p.MaxBatchBytes, maxBatchBytesLimit},
		{"MaxBuckets", p.MaxBuckets, maxBucketsLimit},
		{"MaxBatchesPerSender", p.MaxBatchesPerSender, 1 << 24},
		{"MaxFetches", p.MaxFetches, 1 << 24},
		{"MaxOpenProposals", p.MaxOpenProposals, 1 << 16},
	}
	for _, x := range positive {
		if x.v < 1 || x.v > x.limit {
			errs = append(errs, fmt.Errorf("ModuleParams.%s is %d; it must be between 1 and %d", x.name, x.v, x.limit))
		}
	}
	if p.FetchTimeout <= 0 {
		errs = append(errs, fmt.Errorf("ModuleParams.FetchTimeout is %v; it must be positive", p.FetchTimeout))
	}
	return errors.Join(errs...)
}

// ReliableNetNeeds returns how many messages, and how many bytes of them,
// availability may have the reliablenet module retransmit at once, at
// most: a REQUESTSIG per open proposal, and a SIG per batch it stores of
// each other voter (a Byzantine leader that never acknowledges them keeps
// them in flight until a stable checkpoint). The reliablenet module's
// MaxPendingMessages and MaxPendingBytes must leave room for them beside
// what the other modules that share it need: if they do not, a flood
// could fill them, and a full reliablenet module stops the node.
func (p ModuleParams) ReliableNetNeeds() (messages, bytes int) {
	// Field names, tags and lengths cost tens of bytes per message and
	// per transaction: generous bounds.
	const overhead = 256
	sigs := p.MaxBatchesPerSender * len(p.Voters)
	sigBytes := DigestBytes + MaxSignatureBytes + overhead
	requestBytes := p.MaxBatchBytes + p.MaxBatchTxs*overhead + p.MaxBuckets*8 + overhead
	return sigs + p.MaxOpenProposals, sigs*sigBytes + p.MaxOpenProposals*requestBytes
}
