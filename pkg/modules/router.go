package modules

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Router is a passive module made of passive submodules: it routes each
// event to the submodule named by the path segment after its own ID, so
// with ID "iss", an event for "iss/pbft/3" goes to submodule "pbft" (whose
// own ID is "iss/pbft"). Events for the router's own ID go to its self
// module.
//
// Events keep their order: a run of consecutive events for one submodule is
// handed over as one batch, and the outputs follow the input order. The set
// of submodules can change between batches, which is how factories create
// and remove submodules at run time.
//
// A Router takes messages from other nodes (it implements MessageReceiver)
// and hands each on only if the submodule it names takes messages too; a
// message for any other submodule, or for a self module that takes none,
// is dropped and counted (DroppedMessages).
//
// A Router is a passive module like any other: ApplyEvents is called by one
// goroutine at a time and must not be re-entered (a submodule must not call
// its parent's ApplyEvents); it reuses its batch list from call to call.
type Router struct {
	id   stdtypes.ModuleID
	self submodule
	subs map[stdtypes.ModuleID]submodule
	// OnUnknown handles an event for a submodule that does not exist, and
	// an event for the router itself when it has no self module. The
	// default drops received messages (their destination comes from a
	// peer; see DroppedMessages) and returns an error for any other event,
	// which stops the node: a local module addressed a module that does not
	// exist, which is a bug. A factory whose old
	// submodules are garbage-collected drops such events instead (and has a
	// self module, so that events for the factory itself are never dropped
	// by mistake).
	OnUnknown func(ev stdtypes.Event) (*stdtypes.EventList, error)

	// batch is reused to hand runs of events to submodules.
	batch stdtypes.EventList
	// droppedMessages counts the messages the default OnUnknown dropped
	// and those for modules that take none. It is atomic so that a status
	// page may read it while the node runs the router.
	droppedMessages atomic.Uint64
}

// submodule is a submodule and whether it takes messages from other nodes.
type submodule struct {
	m        PassiveModule
	receives bool
}

var (
	_ PassiveModule   = (*Router)(nil)
	_ MessageReceiver = (*Router)(nil)
)

// NewRouter returns a router with ID id. self handles events addressed to id
// itself; it may be nil if there are none.
func NewRouter(id stdtypes.ModuleID, self PassiveModule) *Router {
	r := &Router{
		id:   id,
		self: submodule{m: self, receives: ReceivesMessages(self)},
		subs: make(map[stdtypes.ModuleID]submodule),
	}
	r.OnUnknown = r.unknownSubmodule
	return r
}

// ReceivesMessages implements MessageReceiver: the router hands messages on
// to the submodules that take them.
func (*Router) ReceivesMessages() {}

// ID returns the router's own module ID.
func (r *Router) ID() stdtypes.ModuleID { return r.id }

// Add makes m the submodule named seg, a single path segment; its ID is
// r.ID().Then(seg). Adding a name twice is an error.
func (r *Router) Add(seg stdtypes.ModuleID, m PassiveModule) error {
	if err := seg.Validate(); err != nil {
		return fmt.Errorf("router %q: %w", r.id, err)
	}
	if seg.Sub() != "" {
		return fmt.Errorf("router %q: submodule name %q is not a single path segment", r.id, seg)
	}
	if m == nil {
		return fmt.Errorf("router %q: submodule %q is nil", r.id, seg)
	}
	if _, ok := r.subs[seg]; ok {
		return fmt.Errorf("router %q: submodule %q already exists", r.id, seg)
	}
	r.subs[seg] = submodule{m: m, receives: ReceivesMessages(m)}
	return nil
}

// Remove deletes submodule seg, if it exists.
func (r *Router) Remove(seg stdtypes.ModuleID) { delete(r.subs, seg) }

// Get returns submodule seg, if it exists.
func (r *Router) Get(seg stdtypes.ModuleID) (PassiveModule, bool) {
	sub, ok := r.subs[seg]
	return sub.m, ok
}

// Submodules returns the names of the submodules, sorted.
func (r *Router) Submodules() []stdtypes.ModuleID {
	names := make([]stdtypes.ModuleID, 0, len(r.subs))
	for name := range r.subs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// SubmoduleOf returns the name of the submodule of parent that dest lies in:
// "pbft" for parent "iss" and dest "iss/pbft/3". It returns "" if dest is
// parent itself, and false if dest is not below parent at all.
func SubmoduleOf(parent, dest stdtypes.ModuleID) (stdtypes.ModuleID, bool) {
	if !dest.IsSubOf(parent) {
		return "", false
	}
	if len(dest) == len(parent) {
		return "", true
	}
	rest := dest
	if parent != "" {
		rest = dest[len(parent)+1:]
	}
	seg := rest.Top()
	if seg == "" {
		return "", false // an empty path segment: "iss//pbft" is no valid path
	}
	return seg, true
}

// ApplyEvents routes events to the self module and the submodules.
func (r *Router) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	evs := events.Slice()
	var out *stdtypes.EventList
	for start := 0; start < len(evs); {
		seg, ok := SubmoduleOf(r.id, evs[start].Dest())
		if !ok {
			return nil, fmt.Errorf("router %q: event %s for %q is not for this module or a submodule",
				r.id, stdtypes.TypeName(evs[start]), evs[start].Dest())
		}
		end := start + 1
		for end < len(evs) {
			next, ok := SubmoduleOf(r.id, evs[end].Dest())
			if !ok || next != seg {
				break
			}
			end++
		}
		runOut, err := r.applyRun(seg, evs[start:end])
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = runOut
		} else {
			out.PushBackList(runOut)
		}
		start = end
	}
	return out, nil
}

// applyRun hands a run of events for one submodule (or self, for seg "") to it.
func (r *Router) applyRun(seg stdtypes.ModuleID, run []stdtypes.Event) (*stdtypes.EventList, error) {
	sub := r.self
	if seg != "" {
		sub = r.subs[seg]
	}
	m := sub.m
	if m == nil {
		return ApplyAllFunc(stdtypes.ListOf(run...), r.OnUnknown)
	}
	if !sub.receives {
		if run = r.dropMessages(run); len(run) == 0 {
			return nil, nil
		}
	}
	// A three-index slice: a module that appends to its input list gets a
	// copy instead of writing over the events that follow the run.
	r.batch.SetSlice(run[:len(run):len(run)])
	out, err := m.ApplyEvents(&r.batch)
	if out == &r.batch {
		// A module that returns its input list (an echo) gets to keep it:
		// the router's list is about to be reused.
		out = stdtypes.ListOf(out.Slice()...)
	}
	r.batch.SetSlice(nil)
	if err != nil {
		if seg == "" {
			return nil, err
		}
		return nil, fmt.Errorf("submodule %q: %w", r.id.Then(seg), err)
	}
	return out, nil
}

// dropMessages returns run without its messages from other nodes, which
// are for a module that takes none, counting them. A run without messages,
// the usual case, is returned as it is; otherwise the rest is copied, which
// only a misaddressed message costs.
func (r *Router) dropMessages(run []stdtypes.Event) []stdtypes.Event {
	i := slices.IndexFunc(run, isMessage)
	if i < 0 {
		return run
	}
	kept := slices.Clip(run[:i])
	for _, ev := range run[i:] {
		if isMessage(ev) {
			r.droppedMessages.Add(1)
		} else {
			kept = append(kept, ev)
		}
	}
	return kept
}

func isMessage(ev stdtypes.Event) bool {
	_, ok := ev.(*stdevents.MessageReceived)
	return ok
}

// DroppedMessages returns how many messages from other nodes the router has
// dropped: those for submodules (or a self module) that do not take
// messages (see MessageReceiver), and, with the default OnUnknown, those
// for submodules that do not exist. It is safe to call from any goroutine.
func (r *Router) DroppedMessages() uint64 { return r.droppedMessages.Load() }

func (r *Router) unknownSubmodule(ev stdtypes.Event) (*stdtypes.EventList, error) {
	if isMessage(ev) {
		// A peer chose this destination: dropping it is the only answer
		// that does not let the peer stop the node.
		r.droppedMessages.Add(1)
		return nil, nil
	}
	if seg, _ := SubmoduleOf(r.id, ev.Dest()); seg == "" {
		return nil, fmt.Errorf("router %q: event %s is for the router itself, which has no handler",
			r.id, stdtypes.TypeName(ev))
	}
	return nil, fmt.Errorf("router %q: event %s for %q: no such submodule", r.id, stdtypes.TypeName(ev), ev.Dest())
}
