package bcb

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules the bcb module talks to.
type ModuleConfig struct {
	// Self is the bcb module's own ID: messages go to it on other nodes,
	// and the timer and the crypto module answer to it.
	Self stdtypes.ModuleID
	// Net is the transport.
	Net stdtypes.ModuleID
	// Crypto signs and verifies (pkg/crypto: NewModule or NewPool).
	Crypto stdtypes.ModuleID
	// Timer sends the Ticks that drive retransmission.
	Timer stdtypes.ModuleID
	// App receives the Deliver events.
	App stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs the samples and tests use.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{Self: "bcb", Net: "net", Crypto: "crypto", Timer: "timer", App: "app"}
}

// Validate reports whether every ID is a valid module ID.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name string
		id   stdtypes.ModuleID
	}{{"Self", mc.Self}, {"Net", mc.Net}, {"Crypto", mc.Crypto}, {"Timer", mc.Timer}, {"App", mc.App}} {
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	return errors.Join(errs...)
}

// ModuleParams are the protocol's parameters.
type ModuleParams struct {
	// Membership lists the nodes, this one included, each once. Its order
	// is the order of signers in certificates.
	Membership []stdtypes.NodeID
	// F is the number of Byzantine nodes tolerated: len(Membership) must
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
	// RetransmitPeriod is the time between two retransmissions of what has
	// not been acknowledged: the leader's SEND to nodes that did not echo,
	// its FINAL to nodes that did not acknowledge it.
	RetransmitPeriod time.Duration
	// RetainTicks bounds how long the leader keeps retransmitting an
	// instance's FINAL once n−f nodes acknowledged it: after RetainTicks
	// retransmission periods more, it gives up on the others (crashed,
	// or cut off for that long) so that its memory and window move on.
	// Consistent broadcast promises no more: a correct node that misses an
	// instance for that long may never deliver it.
	RetainTicks int
}

// DefaultModuleParams returns parameters for the given membership, with the
// largest F it tolerates, (n−1)/3.
func DefaultModuleParams(membership []stdtypes.NodeID) ModuleParams {
	return ModuleParams{
		Membership:          slices.Clone(membership),
		F:                   (len(membership) - 1) / 3,
		MaxPayloadBytes:     1 << 20,
		Window:              1024,
		MaxQueuedBroadcasts: 1 << 16,
		RetransmitPeriod:    200 * time.Millisecond,
		RetainTicks:         50,
	}
}

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	n := len(p.Membership)
	if p.F < 0 || n < 3*p.F+1 {
		errs = append(errs, fmt.Errorf("%d nodes cannot tolerate %d Byzantine faults: need at least 3f+1", n, p.F))
	}
	seen := make(map[stdtypes.NodeID]bool, n)
	for _, id := range p.Membership {
		if id == "" || seen[id] {
			errs = append(errs, fmt.Errorf("membership %q: node IDs must be non-empty and distinct", p.Membership))
			break
		}
		seen[id] = true
	}
	if p.MaxPayloadBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxPayloadBytes is %d; it must not be negative", p.MaxPayloadBytes))
	}
	if p.Window < 1 || p.Window > 1<<20 {
		errs = append(errs, fmt.Errorf("the window is %d; it must be between 1 and 2^20", p.Window))
	}
	if p.MaxQueuedBroadcasts < 0 {
		errs = append(errs, fmt.Errorf("MaxQueuedBroadcasts is %d; it must not be negative", p.MaxQueuedBroadcasts))
	}
	if p.RetransmitPeriod <= 0 {
		errs = append(errs, fmt.Errorf("RetransmitPeriod is %v; it must be positive", p.RetransmitPeriod))
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
func (p ModuleParams) Quorum() int { return (len(p.Membership) + p.F + 2) / 2 }
