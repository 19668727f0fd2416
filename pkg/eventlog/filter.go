package eventlog

import (
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Filter selects events by destination module and type; the zero Filter
// selects all. A recorder applies it to what it records; a Query applies it
// to what a Source reads.
type Filter struct {
	// Modules selects events for these modules or their submodules
	// (a filter on "iss" selects events for "iss/pbft/3" too).
	Modules []stdtypes.ModuleID
	// Types selects events of these types, by the name they are registered
	// under with package codec ("mir.SendMessage").
	Types []string
}

// compiledFilter is a Filter ready to match events.
type compiledFilter struct {
	modules []stdtypes.ModuleID
	types   map[string]bool
}

func (f Filter) compile() (*compiledFilter, error) {
	for _, m := range f.Modules {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("eventlog: filter: %w", err)
		}
	}
	c := &compiledFilter{modules: slices.Clone(f.Modules)}
	if len(f.Types) > 0 {
		c.types = make(map[string]bool, len(f.Types))
		for _, t := range f.Types {
			c.types[t] = true
		}
	}
	return c, nil
}

// match reports whether the filter selects ev.
func (c *compiledFilter) match(ev stdtypes.Event) bool {
	if len(c.modules) > 0 && !c.matchDest(ev.Dest()) {
		return false
	}
	if c.types != nil {
		name, ok := codec.Name(ev)
		if !ok {
			name = stdtypes.TypeName(ev)
		}
		return c.types[name]
	}
	return true
}

func (c *compiledFilter) matchDest(dest stdtypes.ModuleID) bool { return inModules(dest, c.modules) }

// inModules reports whether dest is one of modules or a submodule of one.
func inModules(dest stdtypes.ModuleID, modules []stdtypes.ModuleID) bool {
	for _, m := range modules {
		if dest == m || dest.IsSubOf(m) {
			return true
		}
	}
	return false
}

// Query selects records: by node, module, type, sequence number and time.
// The zero Query selects all.
type Query struct {
	Filter
	// Nodes selects records of these nodes.
	Nodes []stdtypes.NodeID
	// Runs selects records of these runs (Record.Run).
	Runs []int64
	// FromSeq and ToSeq, if ToSeq is not 0, select sequence numbers in
	// [FromSeq, ToSeq]; FromSeq alone selects from it on.
	FromSeq, ToSeq uint64
	// From and To, if not zero, select records dispatched at or after From
	// and at or before To.
	From, To time.Time
}

// Match reports whether q selects rec.
func (q *Query) Match(rec *Record) bool {
	if len(q.Nodes) > 0 && !slices.Contains(q.Nodes, rec.Node) {
		return false
	}
	if len(q.Runs) > 0 && !slices.Contains(q.Runs, rec.Run) {
		return false
	}
	if rec.Seq < q.FromSeq || (q.ToSeq != 0 && rec.Seq > q.ToSeq) {
		return false
	}
	if !q.From.IsZero() && rec.Time.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && rec.Time.After(q.To) {
		return false
	}
	if len(q.Types) > 0 && !slices.Contains(q.Types, rec.Type) {
		return false
	}
	return len(q.Modules) == 0 || inModules(rec.Dest, q.Modules)
}
