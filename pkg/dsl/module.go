package dsl

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"runtime"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Module is a passive module whose logic is a set of handlers registered
// with UponInit, UponEvent, UponMessageReceived and UponCondition. It
// implements modules.PassiveModule: ApplyEvents hands each event to the
// handlers of its type, in the order of the list, then runs the conditions.
// Handlers emit events with EmitEvent, SendMessage and friends, which the
// module returns as its output.
//
// Register every handler before the first ApplyEvents. Like any passive
// module, a Module is used by one goroutine at a time; only ReportStats may
// be called from another.
type Module struct {
	id     stdtypes.ModuleID
	logger *logging.Logger

	// events holds the handlers of local events, one dispatcher per event
	// type, in the order the types were first registered.
	events table[stdtypes.Event]
	// messages holds the handlers of received messages, one dispatcher per
	// message type.
	messages table[stdtypes.Message]
	// conditions run after each batch, in the order of registration.
	conditions []condition
	// regErr is the first registration mistake. It is returned by every
	// ApplyEvents, which stops the node before any event is handled.
	regErr error

	// out collects what handlers emit; ApplyEvents hands it to the node.
	out *stdtypes.EventList
	// from is the sender of the message being handled: message handlers
	// get it, and drop logs name it.
	from stdtypes.NodeID

	// Counters are atomic: ReportStats reads them from any goroutine.
	unknownMessages atomic.Uint64
	droppedMessages atomic.Uint64
	droppedEvents   atomic.Uint64
}

// Option changes how NewModule builds a module.
type Option func(*Module)

// WithLogger makes the module log, at LevelDebug, each input it drops.
// Without it the module logs nothing; it counts drops either way (Stats).
func WithLogger(logger *logging.Logger) Option {
	return func(m *Module) { m.logger = logger }
}

// NewModule returns a module with ID id and no handlers yet.
func NewModule(id stdtypes.ModuleID, opts ...Option) *Module {
	m := &Module{id: id}
	for _, opt := range opts {
		opt(m)
	}
	if err := id.Validate(); err != nil {
		m.regErr = fmt.Errorf("dsl: %w", err)
	}
	return m
}

var (
	_ modules.PassiveModule   = (*Module)(nil)
	_ modules.MessageReceiver = (*Module)(nil)
	_ modules.StatsReporter   = (*Module)(nil)
)

// ReceivesMessages implements modules.MessageReceiver: a Module takes
// messages from other nodes, which go to its UponMessageReceived handlers;
// one of a type it has no handler for is dropped and counted
// (Stats.UnknownMessages).
func (m *Module) ReceivesMessages() {}

// ID returns the module's ID. SendMessage addresses messages to the module
// with this ID on the destination nodes.
func (m *Module) ID() stdtypes.ModuleID { return m.id }

// Logger returns the logger given to NewModule, nil without one. A nil
// logger logs nothing, so it is always safe to use.
func (m *Module) Logger() *logging.Logger { return m.logger }

// ApplyEvents hands each event to the handlers registered for its type, in
// order, then runs every condition once, and returns what they emitted.
//
// A MessageReceived goes to the handlers of its message's type. A message
// of a type nobody handles, and a nil message, come from another node and
// are dropped (counted in Stats.UnknownMessages), never an error. Any other
// event nobody handles is a bug of a local module and an error, except
// Init, which every module gets and may ignore.
//
// A handler's error stops the batch and is returned, naming the module, the
// handler's type and where it was registered; the node then stops. An error
// that wraps ErrDropped is not returned: the input is dropped and counted
// and the batch goes on (see Drop).
func (m *Module) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	if m.regErr != nil {
		return nil, m.regErr
	}
	for _, ev := range events.Slice() {
		if err := m.applyEvent(ev); err != nil {
			m.out = nil
			return nil, err
		}
	}
	for i := range m.conditions {
		if err := m.runCondition(&m.conditions[i]); err != nil {
			m.out = nil
			return nil, err
		}
	}
	out := m.out
	m.out = nil
	return out, nil
}

// applyEvent dispatches one event.
func (m *Module) applyEvent(ev stdtypes.Event) error {
	if rcv, ok := ev.(*stdevents.MessageReceived); ok && rcv != nil {
		return m.applyMessage(rcv)
	}
	if handled, err := m.events.dispatch(m, typeKey(ev), ev); handled {
		return err
	}
	return m.unhandledEvent(ev)
}

// unhandledEvent decides about an event no handler takes: an error, but
// for Init, which a module may ignore.
func (m *Module) unhandledEvent(ev stdtypes.Event) error {
	switch ev := ev.(type) {
	case nil:
		return fmt.Errorf("module %q: nil event", m.id)
	case *stdevents.MessageReceived: // Only a nil one gets here.
		return m.nilEvent(stdtypes.TypeName(ev))
	case *stdevents.Init:
		if ev == nil {
			return m.nilEvent(stdtypes.TypeName(ev))
		}
		return nil
	}
	return fmt.Errorf("module %q: no handler for event %s", m.id, stdtypes.TypeName(ev))
}

// nilEvent returns the error for a nil pointer of event type typeName.
//
//go:noinline
func (m *Module) nilEvent(typeName string) error {
	return fmt.Errorf("module %q: nil %s", m.id, typeName)
}

// applyMessage dispatches a received message by its type. What nobody
// handles came from another node and is dropped.
func (m *Module) applyMessage(rcv *stdevents.MessageReceived) error {
	m.from = rcv.From
	handled, err := m.messages.dispatch(m, typeKey(rcv.Msg), rcv.Msg)
	m.from = ""
	if handled {
		return err
	}
	m.unknownMessages.Add(1)
	if m.logger.Enabled(logging.LevelDebug) {
		m.logger.LogAttrs(logging.LevelDebug, "dropped message of unknown type",
			slog.String("module", string(m.id)), slog.String("from", string(rcv.From)),
			slog.String("type", stdtypes.TypeName(rcv.Msg)))
	}
	return nil
}

// Stats counts the input a module dropped.
type Stats struct {
	// UnknownMessages counts received messages that no handler takes: of a
	// type nobody registered, nil, or a nil pointer.
	UnknownMessages uint64
	// DroppedMessages counts received messages a handler dropped (Drop).
	DroppedMessages uint64
	// DroppedEvents counts local events a handler dropped (Drop), for
	// example a VerifyResult that found a peer's signature invalid, and
	// drops returned by conditions.
	DroppedEvents uint64
}

// Stats returns the module's counters. It is safe to call from any
// goroutine.
func (m *Module) Stats() Stats {
	return Stats{
		UnknownMessages: m.unknownMessages.Load(),
		DroppedMessages: m.droppedMessages.Load(),
		DroppedEvents:   m.droppedEvents.Load(),
	}
}

// ReportStats returns Stats, so that a node includes them in its own.
func (m *Module) ReportStats() any { return m.Stats() }

// ErrDropped marks an error a handler returns to drop its input rather than
// stop the node. Drop makes such errors.
var ErrDropped = errors.New("input dropped")

// droppedError is what Drop returns.
type droppedError struct{ reason string }

func (e *droppedError) Error() string        { return "dropped: " + e.reason }
func (e *droppedError) Is(target error) bool { return target == ErrDropped }

// Drop returns an error that tells the module to drop the input being
// handled, with the reason formatted as by fmt.Sprintf, instead of stopping
// the node: return it from a handler of a message (or of an event whose
// content came from another node) that turns out to be invalid. The module
// counts it (Stats) and logs the reason with the handler's name at
// LevelDebug. Other errors stop the node. An error that wraps ErrDropped
// in another way (fmt.Errorf("...: %w", dsl.ErrDropped)) is dropped too.
//
// Whatever the handler changed before returning stays changed: validate
// the input first, then change the state.
func Drop(format string, args ...any) error {
	return &droppedError{reason: fmt.Sprintf(format, args...)}
}

// site is where a handler was registered, for error messages.
type site string

// callerSite returns "dir/file.go:line" of the caller skip frames up.
func callerSite(skip int) site {
	_, file, line, ok := runtime.Caller(skip + 1)
	if !ok {
		return "unknown site"
	}
	return site(fmt.Sprintf("%s:%d", path.Join(path.Base(path.Dir(file)), path.Base(file)), line))
}

// handled decides what a handler's error means: nil or a drop (counted and
// logged) let the batch go on; anything else is wrapped with the handler's
// name and stops the node.
func (m *Module) handled(err error, kind, typeName string, at site) error {
	if err == nil {
		return nil
	}
	what := kind
	if typeName != "" {
		what += " " + typeName
	}
	if !errors.Is(err, ErrDropped) {
		return fmt.Errorf("module %q: upon %s (registered at %s): %w", m.id, what, at, err)
	}
	switch kind {
	case kindMessage:
		m.droppedMessages.Add(1)
	default:
		m.droppedEvents.Add(1)
	}
	if m.logger.Enabled(logging.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("module", string(m.id)), slog.String("handler", what),
			slog.String("registered", string(at)), slog.String("reason", err.Error()),
		}
		if kind == kindMessage {
			attrs = append(attrs, slog.String("from", string(m.from)))
		}
		m.logger.LogAttrs(logging.LevelDebug, "dropped input", attrs...)
	}
	return nil
}

// The kinds of handler, as error messages name them.
const (
	kindEvent     = "event"
	kindMessage   = "message"
	kindCondition = "condition"
)

// addRegErr keeps the first registration mistake.
func (m *Module) addRegErr(at site, format string, args ...any) {
	if m.regErr == nil {
		m.regErr = fmt.Errorf("module %q: handler registered at %s: %s", m.id, at, fmt.Sprintf(format, args...))
	}
}
