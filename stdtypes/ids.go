package stdtypes

import (
	"strconv"
	"strings"
)

// NodeID identifies a node of a distributed system.
type NodeID string

// String returns the node ID as a string.
func (id NodeID) String() string { return string(id) }

// NewNodeIDFromInt returns the node ID whose text is the decimal form of i.
// Tests and samples number their nodes this way.
func NewNodeIDFromInt(i int) NodeID { return NodeID(strconv.Itoa(i)) }

// NumberedNodeIDs returns the IDs of n nodes numbered as NewNodeIDFromInt
// numbers them: "0" to "n-1" (none if n is not positive).
func NumberedNodeIDs(n int) []NodeID {
	ids := make([]NodeID, max(n, 0))
	for i := range ids {
		ids[i] = NewNodeIDFromInt(i)
	}
	return ids
}

// ModuleID identifies a module within a node. It is a path of segments
// separated by ModuleIDSeparator, such as "iss/pbft/3": the node routes an
// event by the first segment ("iss") and that module routes the rest
// ("pbft/3") to its submodules.
type ModuleID string

// ModuleIDSeparator separates the segments of a ModuleID.
const ModuleIDSeparator = "/"

// String returns the module ID as a string.
func (id ModuleID) String() string { return string(id) }

// Top returns the first segment of the path: "iss" for "iss/pbft/3".
func (id ModuleID) Top() ModuleID {
	if i := strings.IndexByte(string(id), '/'); i >= 0 {
		return id[:i]
	}
	return id
}

// Sub returns the path without its first segment: "pbft/3" for
// "iss/pbft/3", and "" for a single segment.
func (id ModuleID) Sub() ModuleID {
	if i := strings.IndexByte(string(id), '/'); i >= 0 {
		return id[i+1:]
	}
	return ""
}

// Parent returns the path without its last segment: "iss/pbft" for
// "iss/pbft/3", and "" for a single segment. A factory's submodules lie
// one segment below it, so their Parent is the factory.
func (id ModuleID) Parent() ModuleID {
	if i := strings.LastIndexByte(string(id), '/'); i >= 0 {
		return id[:i]
	}
	return ""
}

// Then joins sub below id: ModuleID("iss").Then("pbft/3") is "iss/pbft/3".
// An empty side is left out, so no path gets an empty segment from joining.
func (id ModuleID) Then(sub ModuleID) ModuleID {
	switch {
	case id == "":
		return sub
	case sub == "":
		return id
	}
	return id + ModuleIDSeparator + sub
}

// IsSubOf reports whether id equals parent or lies below it in the path
// hierarchy: "iss/pbft" is a sub of "iss", "issx" is not.
func (id ModuleID) IsSubOf(parent ModuleID) bool {
	if !strings.HasPrefix(string(id), string(parent)) {
		return false
	}
	rest := id[len(parent):]
	return rest == "" || parent == "" || rest[0] == '/'
}

// Validate reports whether id is a usable module path: not empty, and no
// empty segment (no leading, trailing or doubled separator).
func (id ModuleID) Validate() error {
	if id == "" {
		return errEmptyModuleID
	}
	for seg := range strings.SplitSeq(string(id), ModuleIDSeparator) {
		if seg == "" {
			return &InvalidModuleIDError{ID: id}
		}
	}
	return nil
}

// EpochNr numbers the epochs of a protocol that has them (ISS): 0, 1, ...
type EpochNr uint64

// SeqNr numbers the slots of a totally ordered log: 0, 1, ...
type SeqNr uint64

// RetentionIndex is a monotonically increasing number, such as an epoch,
// below which a module may garbage-collect state: timers, submodules,
// buffered messages. What it counts is up to the protocol.
type RetentionIndex uint64
