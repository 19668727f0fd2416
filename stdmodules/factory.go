package stdmodules

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Generator creates the submodule with ID id from the Params of a
// stdevents.NewSubmodule. It must be deterministic, like the module it
// creates: replaying the same events must create the same submodules.
type Generator func(id stdtypes.ModuleID, params any) (modules.PassiveModule, error)

// Factory is a passive module whose submodules are created and removed at
// run time: one per protocol instance, such as an orderer per epoch
// ("iss/ord/5"). A stdevents.NewSubmodule addressed to the factory creates
// a submodule one path segment below it, and a stdevents.GarbageCollect
// removes those with a lower retention index. Every other event below the
// factory's ID is routed to the submodule it names, by a modules.Router.
//
// Events for a submodule that does not exist, typically one already
// garbage-collected whose messages still arrive from other nodes, are
// dropped and counted (Dropped), not treated as errors. With
// WithEarlyMessages, messages for a submodule that may still be created
// are kept instead, within bounds, and handed to it right after its Init.
type Factory struct {
	id        stdtypes.ModuleID
	router    *modules.Router
	generator Generator
	logger    *logging.Logger

	// retention maps each submodule's name (its last path segment) to its
	// retention index.
	retention map[stdtypes.ModuleID]stdtypes.RetentionIndex
	// gcIndex is the highest index of a GarbageCollect so far: submodules
	// with a lower index are gone and are not created again.
	gcIndex stdtypes.RetentionIndex
	// dropped counts events for submodules that do not exist. It is
	// atomic so that a test or a status page may read it while the node
	// runs the factory.
	dropped atomic.Uint64
	// early keeps messages for submodules not created yet; nil unless
	// the factory was built WithEarlyMessages.
	early *earlyBuffer
}

// NewFactory returns a factory with ID id that creates its submodules with
// generator, which must not be nil. logger may be nil. It panics if an
// option is invalid, a programming error (each option says how to check
// it first).
func NewFactory(id stdtypes.ModuleID, generator Generator, logger *logging.Logger, opts ...FactoryOption) *Factory {
	f := &Factory{
		id:        id,
		generator: generator,
		logger:    logger,
		retention: make(map[stdtypes.ModuleID]stdtypes.RetentionIndex),
	}
	f.router = modules.NewRouter(id, factorySelf{f})
	f.router.OnUnknown = f.dropUnknown
	for _, opt := range opts {
		if err := opt(f); err != nil {
			panic(fmt.Sprintf("stdmodules.NewFactory(%q): %v", id, err))
		}
	}
	return f
}

var (
	_ modules.PassiveModule   = (*Factory)(nil)
	_ modules.MessageReceiver = (*Factory)(nil)
)

// ReceivesMessages implements modules.MessageReceiver: the factory hands
// messages on to the submodules that take them (see modules.Router).
// Messages for the factory itself, for a submodule that takes none and for
// one that does not exist are dropped and counted (Dropped).
func (f *Factory) ReceivesMessages() {}

// ID returns the factory's module ID.
func (f *Factory) ID() stdtypes.ModuleID { return f.id }

// ApplyEvents handles the events for the factory itself and routes the
// others to the submodules, keeping their order.
func (f *Factory) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return f.router.ApplyEvents(events)
}

// Submodules returns the IDs of the current submodules, sorted.
func (f *Factory) Submodules() []stdtypes.ModuleID {
	names := f.router.Submodules()
	for i, name := range names {
		names[i] = f.id.Then(name)
	}
	return names
}

// Dropped returns how many events the factory has dropped: events for
// submodules that do not exist, and messages from other nodes for the
// factory itself or for a submodule that takes none.
func (f *Factory) Dropped() uint64 { return f.dropped.Load() + f.router.DroppedMessages() }

// factorySelf receives, from the router, the events addressed to the
// factory itself.
type factorySelf struct{ f *Factory }

func (s factorySelf) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(events, s.f.applyOwn)
}

// applyOwn handles one event addressed to the factory itself.
func (f *Factory) applyOwn(ev stdtypes.Event) (*stdtypes.EventList, error) {
	switch ev := ev.(type) {
	case *stdevents.Init:
		return nil, nil
	case *stdevents.NewSubmodule:
		return f.newSubmodule(ev)
	case *stdevents.GarbageCollect:
		return nil, f.garbageCollect(ev.RetentionIndex)
	default:
		return nil, fmt.Errorf("factory %q: unexpected event %s", f.id, stdtypes.TypeName(ev))
	}
}

// newSubmodule creates the submodule ev asks for and gives it its Init. The
// Init's output is part of the factory's output, ahead of whatever later
// events the submodule receives, so the submodule sees Init first. The
// early messages kept for it (WithEarlyMessages) follow as output
// addressed to it, which the node routes back.
//
// A bad request is an error, not dropped input: only local modules address
// the factory, so a bad one is a bug.
func (f *Factory) newSubmodule(ev *stdevents.NewSubmodule) (*stdtypes.EventList, error) {
	seg, err := f.submoduleName(ev.SubmoduleID)
	if err != nil {
		return nil, fmt.Errorf("factory %q: %s: %w", f.id, stdtypes.TypeName(ev), err)
	}
	if _, ok := f.router.Get(seg); ok {
		return nil, fmt.Errorf("factory %q: submodule %q already exists", f.id, ev.SubmoduleID)
	}
	if ev.RetentionIndex < f.gcIndex {
		// Garbage collection has passed this submodule's index: a late
		// request from an old epoch, ignored like the events for
		// submodules already removed.
		f.logger.LogAttrs(logging.LevelDebug, "factory: not creating submodule below the retention index",
			slog.String("factory", string(f.id)),
			slog.String("submodule", string(ev.SubmoduleID)),
			slog.Uint64("retentionIndex", uint64(ev.RetentionIndex)),
			slog.Uint64("gcIndex", uint64(f.gcIndex)))
		return nil, nil
	}
	sub, err := f.generator(ev.SubmoduleID, ev.Params)
	if err != nil {
		return nil, fmt.Errorf("factory %q: creating submodule %q: %w", f.id, ev.SubmoduleID, err)
	}
	if err := f.router.Add(seg, sub); err != nil { // e.g. a nil module
		return nil, fmt.Errorf("factory %q: creating submodule %q: %w", f.id, ev.SubmoduleID, err)
	}
	f.retention[seg] = ev.RetentionIndex
	// Applied directly rather than through the router, which is in the
	// middle of handing this very event to the factory.
	out, err := sub.ApplyEvents(stdtypes.ListOf(stdevents.NewInit(ev.SubmoduleID)))
	if err != nil {
		return nil, fmt.Errorf("submodule %q: %w", ev.SubmoduleID, err)
	}
	early, err := f.releaseEarly(seg, sub)
	if err != nil {
		return nil, fmt.Errorf("submodule %q: %w", ev.SubmoduleID, err)
	}
	if early != nil {
		if out == nil {
			out = early
		} else {
			out.PushBackList(early)
		}
	}
	return out, nil
}

var errNotOneBelow = errors.New("not exactly one path segment below the factory")

// submoduleName checks that id lies exactly one path segment below the
// factory and returns that segment.
func (f *Factory) submoduleName(id stdtypes.ModuleID) (stdtypes.ModuleID, error) {
	if err := id.Validate(); err != nil {
		return "", fmt.Errorf("submodule ID: %w", err)
	}
	seg, ok := modules.SubmoduleOf(f.id, id)
	if !ok || seg == "" || f.id.Then(seg) != id {
		return "", fmt.Errorf("submodule ID %q: %w", id, errNotOneBelow)
	}
	return seg, nil
}

// garbageCollect removes the submodules with an index below retIdx, in
// sorted order so that the log is the same on every run, and the early
// messages kept for them.
func (f *Factory) garbageCollect(retIdx stdtypes.RetentionIndex) error {
	if retIdx <= f.gcIndex {
		return nil
	}
	f.gcIndex = retIdx
	for _, seg := range f.router.Submodules() {
		if f.retention[seg] >= retIdx {
			continue
		}
		f.router.Remove(seg)
		delete(f.retention, seg)
		f.logger.LogAttrs(logging.LevelDebug, "factory: removed submodule",
			slog.String("factory", string(f.id)),
			slog.String("submodule", string(f.id.Then(seg))))
	}
	return f.collectEarly()
}

// dropUnknown handles an event for a submodule that does not exist: it is
// dropped and counted. Events for the factory itself always have a handler,
// so they never come here.
func (f *Factory) dropUnknown(ev stdtypes.Event) (*stdtypes.EventList, error) {
	if msg, ok := ev.(*stdevents.MessageReceived); ok {
		if seg, _ := modules.SubmoduleOf(f.id, ev.Dest()); f.keepEarly(seg, msg) {
			return nil, nil
		}
	}
	f.dropped.Add(1)
	f.logger.LogAttrs(logging.LevelDebug, "factory: dropping event for missing submodule",
		slog.String("factory", string(f.id)),
		slog.String("event", stdtypes.TypeName(ev)),
		slog.String("dest", string(ev.Dest())))
	return nil, nil
}
