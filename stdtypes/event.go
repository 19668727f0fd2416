package stdtypes

import (
	"reflect"
	"sync"
)

// Event is what modules consume and produce. Every event type is a struct
// that embeds Header, which is the only way to implement this interface:
// the methods shared by all events are written once, in Header.
//
// Events are used by pointer (*Ping, not Ping). Once a module has emitted an
// event, nobody modifies it: the node, the interceptor and other modules may
// all hold it.
type Event interface {
	// Dest returns the path of the module the event is for.
	Dest() ModuleID
	// FollowUps returns the events the node releases only after the
	// destination module has processed this event.
	FollowUps() []Event
	// header is unexported so that only types embedding Header are events.
	header() *Header
}

// Header holds what every event has. Embed it in each event type.
type Header struct {
	// DestModule is the path of the module the event is for.
	DestModule ModuleID
	// Next holds follow-up events: the node hands them on only once the
	// destination module has returned from processing this event. That
	// expresses "only after", e.g. persist to the WAL, then send: the WAL
	// module (pkg/wal) returns from a batch of Appends once they are
	// durable.
	Next []Event `cbor:",omitempty"`
}

// NewHeader returns a header for an event destined to dest.
func NewHeader(dest ModuleID) Header { return Header{DestModule: dest} }

// Dest returns the path of the module the event is for.
func (h *Header) Dest() ModuleID { return h.DestModule }

// FollowUps returns the events to release after this one is processed.
func (h *Header) FollowUps() []Event { return h.Next }

func (h *Header) header() *Header { return h }

// WithFollowUps appends follow-up events to ev and returns ev, so it can be
// written inline: stdtypes.WithFollowUps(persist, send). It changes ev and
// so must only be called before ev is emitted.
func WithFollowUps[E Event](ev E, next ...Event) E {
	h := ev.header()
	h.Next = append(h.Next, next...)
	return ev
}

// Named is implemented by events and messages that choose their own short
// type name for logs. Most types don't need it: TypeName derives one.
type Named interface {
	TypeName() string
}

// typeNames caches derived names so logging an event does not use
// reflection more than once per type.
var typeNames sync.Map // reflect.Type -> string

// TypeName returns a short type name for logs, such as "stdevents.Init"
// for *stdevents.Init. A value implementing Named chooses its own.
func TypeName(v any) string {
	if n, ok := v.(Named); ok {
		return n.TypeName()
	}
	if v == nil {
		return "<nil>"
	}
	t := reflect.TypeOf(v)
	if name, ok := typeNames.Load(t); ok {
		return name.(string)
	}
	name := t.String()
	for len(name) > 0 && name[0] == '*' {
		name = name[1:]
	}
	typeNames.Store(t, name)
	return name
}

// Message is a protocol message, sent between nodes. A message type is a
// struct that embeds MessageBase; it is used by pointer, like events.
type Message interface {
	mirMessage()
}

// MessageBase marks a struct as a Message. It has no fields and adds nothing
// to the message's encoding.
type MessageBase struct{}

func (MessageBase) mirMessage() {}
