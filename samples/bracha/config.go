package bracha

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules the protocol module talks to.
type ModuleConfig struct {
	// Self is the module's own ID: its messages go to Self on the other
	// nodes.
	Self stdtypes.ModuleID
	// ReliableNet sends the messages (pkg/reliablenet) and retransmits
	// them until they arrive; Self must be one of its users.
	ReliableNet stdtypes.ModuleID
	// App receives the Deliver events.
	App stdtypes.ModuleID
	// WAL, if set, is the node's WAL module (pkg/wal): the module
	// persists each message before it sends it, and a restarted node
	// sends nothing that contradicts what it sent before. Empty: the
	// module keeps nothing across restarts.
	WAL stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs the sample uses.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{Self: "bracha", ReliableNet: "reliablenet", App: "app"}
}

// Validate reports whether every ID is a valid module ID.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name string
		id   stdtypes.ModuleID
	}{{"Self", mc.Self}, {"ReliableNet", mc.ReliableNet}, {"App", mc.App}, {"WAL", mc.WAL}} {
		if m.id == "" && m.name == "WAL" {
			continue // No WAL.
		}
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	return errors.Join(errs...)
}

// ModuleParams are the protocol's parameters.
type ModuleParams struct {
	// Nodes lists the nodes, this one included, each once.
	Nodes []stdtypes.NodeID
	// F is the number of Byzantine nodes tolerated: len(Nodes) must
	// be at least 3F+1.
	F int
	// Incarnation tells this start of the node from its earlier ones: the
	// deployment chooses it, higher at every start (a counter kept on
	// disk, or the start time in nanoseconds), so that the module stays
	// deterministic. The reliablenet module gets the same
	// (ReliableNetParams).
	Incarnation uint64
	// MaxSeq bounds the sequence numbers of each origin, and so the
	// instances a node keeps: a Byzantine node cannot make it keep more
	// than MaxSeq of its own, nor make it send more than three messages
	// for each.
	MaxSeq uint64
	// MaxValueBytes bounds a value, from the network and from the local
	// caller alike.
	MaxValueBytes int
	// Broken turns on the deliberate bug (see the package documentation).
	Broken bool
}

// Bounds on the parameters, so that what ReliableNetParams computes from
// them cannot overflow.
const (
	maxNodes      = 1024
	maxSeq        = 1 << 16
	maxValueBytes = 1 << 20 // TCP's frames stop at 4 MiB by default.
)

// DefaultModuleParams returns parameters for the given nodes, with
// the largest F it tolerates, (n−1)/3, and incarnation 0: a deployment
// whose nodes may restart sets Incarnation.
func DefaultModuleParams(nodes []stdtypes.NodeID) ModuleParams {
	return ModuleParams{
		Nodes:         slices.Clone(nodes),
		F:             (len(nodes) - 1) / 3,
		MaxSeq:        1024,
		MaxValueBytes: 1024,
	}
}

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	n := len(p.Nodes)
	if p.F < 0 || n < 3*p.F+1 || n > maxNodes {
		errs = append(errs, fmt.Errorf("%d nodes cannot tolerate %d Byzantine faults: need 3f+1 to %d", n, p.F, maxNodes))
	}
	for i, id := range p.Nodes {
		if id == "" || slices.Contains(p.Nodes[:i], id) {
			errs = append(errs, fmt.Errorf("nodes %q: node IDs must be non-empty and distinct", p.Nodes))
			break
		}
	}
	if p.MaxSeq < 1 || p.MaxSeq > maxSeq {
		errs = append(errs, fmt.Errorf("MaxSeq is %d; it must be between 1 and %d", p.MaxSeq, maxSeq))
	}
	if p.MaxValueBytes < 0 || p.MaxValueBytes > maxValueBytes {
		errs = append(errs, fmt.Errorf("MaxValueBytes is %d; it must be between 0 and %d", p.MaxValueBytes, maxValueBytes))
	}
	return errors.Join(errs...)
}

// ReliableNetParams returns the parameters of the reliablenet module that
// carries the protocol module's messages: the defaults, with the
// protocol's incarnation and room for everything the protocol can have in
// flight. A node sends at most three messages per instance (SEND, ECHO,
// READY), once to all and once more to each peer that says HELLO, and
// keeps at most MaxSeq instances per origin: 3·n²·MaxSeq messages. A
// message stays in flight until every destination acknowledged it, which
// a Byzantine or crashed node never does.
func ReliableNetParams(p ModuleParams) reliablenet.ModuleParams {
	rp := reliablenet.DefaultModuleParams(p.Incarnation)
	n := len(p.Nodes)
	maxID := 0
	for _, id := range p.Nodes {
		maxID = max(maxID, len(id))
	}
	// A bound on a message's encoding beyond its value and origin: field
	// names, tags and lengths, generously.
	const overhead = 128
	messages := 3 * n * n * int(p.MaxSeq)
	rp.MaxPendingMessages = max(rp.MaxPendingMessages, messages)
	rp.MaxPendingBytes = max(rp.MaxPendingBytes, messages*(p.MaxValueBytes+maxID+overhead))
	return rp
}
