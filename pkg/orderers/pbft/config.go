package pbft

import (
	"errors"
	"fmt"
	"time"

	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules an orderer talks to. The factory
// (NewFactory) gets one, with Self its own ID; each orderer it creates has
// the same, with Self its own ID below the factory's
// (iss.OrdererID(Self, epoch, segment)).
type ModuleConfig struct {
	// Self is the ID of the factory of orderers ("ordering"). Messages go
	// to the orderer of the same epoch and segment below Self on the other
	// nodes, which must all use the same Self.
	Self stdtypes.ModuleID
	// ISS receives the SBDeliver, Proposed and OrdererRecord events.
	ISS stdtypes.ModuleID
	// Proposer answers RequestProposal (in Trantor, availability).
	Proposer stdtypes.ModuleID
	// Validator answers VerifyProposal (in Trantor, availability).
	Validator stdtypes.ModuleID
	// ReliableNet sends every message, retransmitting it until it arrives
	// (pkg/reliablenet); Self must be one of its users.
	ReliableNet stdtypes.ModuleID
	// Crypto signs and verifies the VIEWCHANGE messages (pkg/crypto).
	Crypto stdtypes.ModuleID
	// Hasher is part of the agreed wiring but unused: an orderer computes
	// its digests itself (crypto.Digest), because a value is at most
	// MaxValueBytes (small: a certificate in Trantor) and a digest it
	// needs at once, in the middle of a handler, costs less than the
	// events and the pending state of a round trip. It may be empty.
	Hasher stdtypes.ModuleID
	// Timer sends the propose and view-change timeouts.
	Timer stdtypes.ModuleID
	// WAL persists what the orderer must not forget across a crash
	// (pkg/wal). Empty means no WAL: the orderer sends without persisting,
	// and a node that restarts may contradict itself, which is fine only
	// in tests and deployments whose nodes never restart.
	WAL stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs docs/iss.md lists.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{
		Self:        "ordering",
		ISS:         "iss",
		Proposer:    "app",
		Validator:   "app",
		ReliableNet: "rnet",
		Crypto:      "crypto",
		Hasher:      "hasher",
		Timer:       "timer",
		WAL:         "wal",
	}
}

// Validate reports whether every ID is a valid module ID (Hasher and WAL
// may be empty).
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name     string
		id       stdtypes.ModuleID
		optional bool
	}{
		{"Self", mc.Self, false}, {"ISS", mc.ISS, false}, {"Proposer", mc.Proposer, false},
		{"Validator", mc.Validator, false}, {"ReliableNet", mc.ReliableNet, false},
		{"Crypto", mc.Crypto, false}, {"Hasher", mc.Hasher, true}, {"Timer", mc.Timer, false},
		{"WAL", mc.WAL, true},
	} {
		if m.optional && m.id == "" {
			continue
		}
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	return errors.Join(errs...)
}

// ModuleParams are the protocol's parameters, the same for every orderer
// of a node (and, for MaxValueBytes, of every node).
type ModuleParams struct {
	// MaxProposeDelay is the longest the segment's leader waits for the
	// proposer's value for a slot before it proposes an empty value, so
	// that every slot is filled and a silent leader is told apart from an
	// idle one.
	MaxProposeDelay time.Duration
	// ViewChangeTimeout is how long a segment may go without progress (a
	// slot delivered) before a node moves to the next view. It doubles
	// with each view that fails in a row, up to MaxViewChangeTimeout, so
	// that a slow network is no livelock.
	ViewChangeTimeout    time.Duration
	MaxViewChangeTimeout time.Duration
	// MaxValueBytes bounds a proposed value, from the network and from the
	// proposer alike. It also bounds every message: a NEWVIEW carries at
	// most one value per slot.
	MaxValueBytes int
	// MsgBufferCount and MsgBufferBytes bound, per sender, the messages
	// of a later view kept until the node reaches that view.
	MsgBufferCount int
	MsgBufferBytes int
}

// Bounds on the parameters, so that sizes computed from them do not
// overflow, and a misconfiguration is caught before it runs.
const (
	// maxValueBytes is what no transport carries in one message (TCP's
	// frames stop at 4 MiB by default) with room to spare.
	maxValueBytes = 1 << 30
	// maxSegmentSlots bounds a segment: an orderer keeps a little state
	// per slot, and a NEWVIEW and a DONE carry one entry per slot.
	maxSegmentSlots = 1 << 16
)

// DefaultModuleParams returns the defaults of docs/iss.md, section 9.
func DefaultModuleParams() ModuleParams {
	return ModuleParams{
		MaxProposeDelay:      50 * time.Millisecond,
		ViewChangeTimeout:    300 * time.Millisecond,
		MaxViewChangeTimeout: 10 * time.Second,
		MaxValueBytes:        1 << 20,
		MsgBufferCount:       4096,
		MsgBufferBytes:       4 << 20,
	}
}

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	if p.MaxProposeDelay <= 0 {
		errs = append(errs, fmt.Errorf("MaxProposeDelay is %v; it must be positive", p.MaxProposeDelay))
	}
	if p.ViewChangeTimeout <= 0 || p.MaxViewChangeTimeout < p.ViewChangeTimeout {
		errs = append(errs, fmt.Errorf("ViewChangeTimeout %v and MaxViewChangeTimeout %v: want 0 < timeout ≤ max",
			p.ViewChangeTimeout, p.MaxViewChangeTimeout))
	}
	if p.MaxValueBytes < 0 || p.MaxValueBytes > maxValueBytes {
		errs = append(errs, fmt.Errorf("MaxValueBytes is %d; it must be between 0 and %d", p.MaxValueBytes, maxValueBytes))
	}
	if p.MsgBufferCount < 1 || p.MsgBufferBytes < 1 {
		errs = append(errs, fmt.Errorf("MsgBufferCount %d and MsgBufferBytes %d: both must be positive", p.MsgBufferCount, p.MsgBufferBytes))
	}
	return errors.Join(errs...)
}

// viewChangeTimeout returns the timeout after failed views in a row that
// failed: ViewChangeTimeout doubled failed times, capped.
func (p ModuleParams) viewChangeTimeout(failed int) time.Duration {
	d := p.ViewChangeTimeout
	for range min(failed, 62) {
		if d >= p.MaxViewChangeTimeout/2 {
			return p.MaxViewChangeTimeout
		}
		d *= 2
	}
	return min(d, p.MaxViewChangeTimeout)
}

// InFlight bounds what one orderer of a segment with slots slots and
// voters voters can have in flight in its reliablenet module at once:
// messages and bytes, so that a deployment sizes the module's
// MaxPendingMessages and MaxPendingBytes (multiplied by the orderers alive
// at once: the segments of the epochs not yet garbage-collected). The
// messages of a view are cancelled when the node leaves it, so one view's
// worth counts: a PREPREPARE, a PREPARE and a COMMIT per slot, a
// VIEWCHANGE and a NEWVIEW; and catch-up's: a DONE to all and one to each
// voter that asks, a request for each slot to each voter and a response
// to each.
func InFlight(p ModuleParams, slots, voters int) (messages, bytes int) {
	// Bounds on the encodings, generous: field names, tags and lengths
	// cost tens of bytes per message and per entry.
	const overhead = 256
	value := p.MaxValueBytes + overhead
	entry := digestSize + overhead
	vc := slots*(value+entry) + slots*(voters+1)*entry + overhead // Values, P, Q, signature.
	messages = 3*slots + 2 + 1 + voters + 1 + 2*slots*voters
	bytes = slots*value + 2*slots*entry + // PREPREPAREs, PREPAREs, COMMITs.
		vc + voters*vc + slots*value + // The VIEWCHANGE, the NEWVIEW.
		(voters+1)*slots*entry + overhead + // DONEs, the DONE request.
		slots*voters*(entry+value) // Catch-up requests and responses.
	return messages, bytes
}
