package bcb

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules the bcb module talks to.
type ModuleConfig struct {
	// Self is the bcb module's own ID: messages go to it on other nodes,
	// and the timer and the crypto module answer to it.
	Self stdtypes.ModuleID
	// ReliableNet sends the messages (pkg/reliablenet), and retransmits
	// them until they arrive; Self must be one of its users.
	ReliableNet stdtypes.ModuleID
	// Crypto signs and verifies (pkg/crypto: NewModule or NewPool).
	Crypto stdtypes.ModuleID
	// Timer sends the Ticks that count ModuleParams.RetainTicks.
	Timer stdtypes.ModuleID
	// App receives the Deliver events.
	App stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs the samples and tests use.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{Self: "bcb", ReliableNet: "reliablenet", Crypto: "crypto", Timer: "timer", App: "app"}
}

// Validate reports whether every ID is a valid module ID.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name string
		id   stdtypes.ModuleID
	}{{"Self", mc.Self}, {"ReliableNet", mc.ReliableNet}, {"Crypto", mc.Crypto}, {"Timer", mc.Timer}, {"App", mc.App}} {
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	return errors.Join(errs...)
}

// ModuleParams are the protocol's parameters.
type ModuleParams struct {
	// Nodes lists the nodes, this one included, each once. Its order
	// is the order of signers in certificates.
	Nodes []stdtypes.NodeID
	// Incarnation tells this run of the node from its earlier ones: the
	// instances the node leads are (node, Incarnation, 0), (node,
	// Incarnation, 1), ..., so that a leader that restarts, and numbers
	// its broadcasts from 0 again, starts instances no node has seen. The
	// deployment chooses it at start-up, higher at every start of the node
	// (a counter kept on disk, or the start time in nanoseconds), and
	// gives the reliablenet module the same: the protocol stays
	// deterministic. The other nodes take a leader's highest incarnation
	// for the current one, and ignore the instances of earlier ones.
	Incarnation uint64
	// F is the number of Byzantine nodes tolerated: len(Nodes) must
	// be at least 3F+1.
	F int
	// MaxPayloadBytes bounds a payload, from the network and from the
	// local caller alike.
	MaxPayloadBytes int
	// Window is the number of instances of each leader a node keeps open
	// at once: a node takes part in instances Low to Low+Window-1 of each
	// leader, where Low is the oldest it has not finished. It bounds the
	// memory any leader, however Byzantine, can make a node use
	// (Window × (MaxPayloadBytes + a certificate) per leader, at most), and
	// the instances a leader has in flight.
	Window uint64
	// MaxQueuedBroadcasts bounds the Broadcasts the leader holds while its
	// window is full. Passing it means the application broadcasts faster
	// than instances finish, for long: the module fails (stops the node)
	// rather than grow without bound.
	MaxQueuedBroadcasts int
	// TickPeriod is the period of the Ticks that count RetainTicks.
	TickPeriod time.Duration
	// RetainTicks bounds how long the leader keeps an instance once n−f
	// nodes acknowledged it: after RetainTicks ticks more, it gives up on
	// the others (crashed, or cut off for that long), and has the
	// reliablenet module stop sending them the FINAL, so that its memory
	// and window move on. Consistent broadcast promises no more: a correct
	// node that misses an instance for that long may never deliver it.
	RetainTicks int
}

// maxPayloadBytes bounds MaxPayloadBytes: no transport carries a larger
// message (TCP's frames stop at 4 MiB by default), and sizes computed
// from it must not overflow.
const maxPayloadBytes = 1 << 30

// DefaultModuleParams returns parameters for the given nodes, with the
// largest F it tolerates, (n−1)/3, and incarnation 0: a deployment whose
// nodes may restart sets Incarnation.
func DefaultModuleParams(nodes []stdtypes.NodeID) ModuleParams {
	return ModuleParams{
		Nodes:               slices.Clone(nodes),
		F:                   (len(nodes) - 1) / 3,
		MaxPayloadBytes:     1 << 20,
		Window:              1024,
		MaxQueuedBroadcasts: 1 << 16,
		TickPeriod:          200 * time.Millisecond,
		RetainTicks:         50,
	}
}

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	n := len(p.Nodes)
	if p.F < 0 || n < 3*p.F+1 {
		errs = append(errs, fmt.Errorf("%d nodes cannot tolerate %d Byzantine faults: need at least 3f+1", n, p.F))
	}
	seen := make(map[stdtypes.NodeID]bool, n)
	for _, id := range p.Nodes {
		if id == "" || seen[id] {
			errs = append(errs, fmt.Errorf("nodes %q: node IDs must be non-empty and distinct", p.Nodes))
			break
		}
		seen[id] = true
	}
	if p.MaxPayloadBytes < 0 || p.MaxPayloadBytes > maxPayloadBytes {
		errs = append(errs, fmt.Errorf("MaxPayloadBytes is %d; it must be between 0 and %d", p.MaxPayloadBytes, maxPayloadBytes))
	}
	if p.Window < 1 || p.Window > 1<<20 {
		errs = append(errs, fmt.Errorf("the window is %d; it must be between 1 and 2^20", p.Window))
	}
	if p.MaxQueuedBroadcasts < 0 {
		errs = append(errs, fmt.Errorf("MaxQueuedBroadcasts is %d; it must not be negative", p.MaxQueuedBroadcasts))
	}
	if p.TickPeriod <= 0 {
		errs = append(errs, fmt.Errorf("TickPeriod is %v; it must be positive", p.TickPeriod))
	}
	if p.RetainTicks < 0 {
		errs = append(errs, fmt.Errorf("RetainTicks is %d; it must not be negative", p.RetainTicks))
	}
	return errors.Join(errs...)
}

// Quorum returns the size of a certificate: the smallest number of nodes
// more than (n+f)/2, that is ⌈(n+f+1)/2⌉. Two such sets of nodes share a
// correct node, which signs only one digest per instance: that is why no
// two certificates of one instance certify different payloads.
func (p ModuleParams) Quorum() int { return (len(p.Nodes) + p.F + 2) / 2 }

// ReliableNetParams returns the parameters of the reliablenet module that
// sends the bcb module's messages: the defaults, with the bcb module's
// incarnation, room for everything it can have in flight, and
// retransmissions frequent enough that a node that comes back within
// RetainTicks gets a few before the leader gives up on it (the wait
// between two is at most an eighth of RetainTicks ticks).
//
// Each instance has one message of its leader in flight, the SEND or the
// FINAL, and two of each other node, its ECHO and its ACK; a node keeps
// the ACKs of at most 2·Window instances of each leader (see the package
// documentation), so in all, Window·(3n−2) messages.
func ReliableNetParams(p ModuleParams) reliablenet.ModuleParams {
	rp := reliablenet.DefaultModuleParams(p.Incarnation)
	retainTicks := time.Duration(p.RetainTicks) * p.TickPeriod / rp.TickPeriod
	rp.MaxBackoffTicks = max(rp.MinBackoffTicks, min(rp.MaxBackoffTicks, int(retainTicks/8)))
	n := len(p.Nodes)
	maxID := 0
	for _, id := range p.Nodes {
		maxID = max(maxID, len(id))
	}
	// Bounds on the encodings, generous: field names, tags and lengths
	// cost tens of bytes per message and per signature.
	const overhead = 256
	final := p.MaxPayloadBytes + n*(MaxSignatureBytes+maxID+overhead) + overhead
	small := MaxSignatureBytes + 32 + overhead // An ECHO or an ACK.
	messages := int(p.Window) * (3*n - 2)
	rp.MaxPendingMessages = max(rp.MaxPendingMessages, messages)
	rp.MaxPendingBytes = max(rp.MaxPendingBytes, int(p.Window)*(final+3*(n-1)*small))
	return rp
}
