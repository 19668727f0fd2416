package dsl

import (
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// dispatcher holds the handlers of one type of event (V is
// stdtypes.Event) or of message (V is stdtypes.Message). dispatch reports
// whether v has that type; if so, it has run the handlers.
type dispatcher[V any] interface {
	dispatch(m *Module, v V) (handled bool, err error)
}

// eventDispatcher holds the handlers of events of type *E. Dispatching is a
// type assertion to a concrete type, a comparison of two words: no
// reflection per event.
type eventDispatcher[E any, PE interface {
	*E
	stdtypes.Event
}] struct {
	name     string
	handlers []func(ev *E) error
	sites    []site
}

func (d *eventDispatcher[E, PE]) dispatch(m *Module, ev stdtypes.Event) (bool, error) {
	e, ok := ev.(PE)
	if !ok {
		return false, nil
	}
	if e == nil {
		return true, m.nilEvent(d.name)
	}
	for i, h := range d.handlers {
		if err := h(e); err != nil {
			if err := m.handled(err, kindEvent, d.name, d.sites[i]); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// messageDispatcher holds the handlers of received messages of type *M.
type messageDispatcher[M any, PM interface {
	*M
	stdtypes.Message
}] struct {
	name     string
	handlers []func(from stdtypes.NodeID, msg *M) error
	sites    []site
}

func (d *messageDispatcher[M, PM]) dispatch(m *Module, msg stdtypes.Message) (bool, error) {
	p, ok := msg.(PM)
	if !ok || p == nil {
		// A nil pointer came from the network too: nobody handles it.
		return false, nil
	}
	for i, h := range d.handlers {
		if err := h(m.from, p); err != nil {
			if err := m.handled(err, kindMessage, d.name, d.sites[i]); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// UponEvent registers handler for events of type *E addressed to the
// module:
//
//	dsl.UponEvent(m, func(ev *crypto.SignResult) error { ... })
//
// Several handlers of one type run in the order they were registered. An
// error from handler stops the node, and the error names the handler by
// event type and the file and line of this call; see Drop for input that
// came from another node. A nil *E in the input is an error.
//
// Received messages have their own handlers (UponMessageReceived):
// registering UponEvent for stdevents.MessageReceived is an error, reported
// by ApplyEvents.
func UponEvent[E any, PE interface {
	*E
	stdtypes.Event
}](m *Module, handler func(ev *E) error) {
	at := callerSite(1)
	if handler == nil {
		m.addRegErr(at, "nil handler for event %s", stdtypes.TypeName((*E)(nil)))
		return
	}
	var probe stdtypes.Event = PE(nil)
	if _, ok := probe.(*stdevents.MessageReceived); ok {
		m.addRegErr(at, "UponEvent for %s: use UponMessageReceived", stdtypes.TypeName(probe))
		return
	}
	d := findDispatcher[*eventDispatcher[E, PE]](m.events.dispatchers)
	if d == nil {
		d = &eventDispatcher[E, PE]{name: stdtypes.TypeName(probe)}
		m.events.add(typeKey(probe), d)
	}
	d.handlers = append(d.handlers, handler)
	d.sites = append(d.sites, at)
}

// UponInit registers handler for the module's Init event, the first event
// it gets. A module without one accepts Init and does nothing.
func UponInit(m *Module, handler func() error) {
	at := callerSite(1)
	if handler == nil {
		m.addRegErr(at, "nil handler for Init")
		return
	}
	d := findDispatcher[*eventDispatcher[stdevents.Init, *stdevents.Init]](m.events.dispatchers)
	if d == nil {
		d = &eventDispatcher[stdevents.Init, *stdevents.Init]{name: stdtypes.TypeName((*stdevents.Init)(nil))}
		m.events.add(typeKey((*stdevents.Init)(nil)), d)
	}
	d.handlers = append(d.handlers, func(*stdevents.Init) error { return handler() })
	d.sites = append(d.sites, at)
}

// UponMessageReceived registers handler for messages of type *M that other
// nodes (or this node itself) sent to the module, that is MessageReceived
// events whose Msg is a non-nil *M. handler gets the sender, as the
// transport authenticated it, and the message:
//
//	dsl.UponMessageReceived(m, func(from stdtypes.NodeID, msg *EchoMessage) error { ... })
//
// The message is untrusted: handler validates it before changing any state
// and returns Drop for an invalid one, which is then counted and logged.
// Any other error stops the node, so it must never be caused by what a
// peer sent. Messages of a type without a handler are dropped and counted.
func UponMessageReceived[M any, PM interface {
	*M
	stdtypes.Message
}](m *Module, handler func(from stdtypes.NodeID, msg *M) error) {
	at := callerSite(1)
	name := stdtypes.TypeName(PM(nil))
	if handler == nil {
		m.addRegErr(at, "nil handler for message %s", name)
		return
	}
	d := findDispatcher[*messageDispatcher[M, PM]](m.messages.dispatchers)
	if d == nil {
		d = &messageDispatcher[M, PM]{name: name}
		m.messages.add(typeKey(PM(nil)), d)
	}
	d.handlers = append(d.handlers, handler)
	d.sites = append(d.sites, at)
}

// findDispatcher returns the dispatcher of type D among ds, or nil.
func findDispatcher[D dispatcher[V], V any](ds []dispatcher[V]) D {
	for _, d := range ds {
		if d, ok := d.(D); ok {
			return d
		}
	}
	var none D
	return none
}

// condition is a handler run after each batch.
type condition struct {
	fn func() error
	at site
}

// UponCondition registers handler to run after each batch of events, once
// all events of the batch have been handled, whether or not they changed
// anything. It is the textbook's "upon exists ... such that ...": handler
// checks the condition on the module's state, acts if it holds, and
// remembers that it did (the textbook's "sentfinal := TRUE") so that it
// does not act again:
//
//	dsl.UponCondition(m, func() error {
//		if state.sentFinal || len(state.echos) < quorum {
//			return nil
//		}
//		state.sentFinal = true
//		...
//	})
//
// Conditions run once per batch, in the order they were registered: a
// condition sees what the conditions before it did in the same batch, one
// registered before it sees it only at the next batch. Register them in the
// order the protocol needs. An error stops the node, like a handler's.
func UponCondition(m *Module, handler func() error) {
	at := callerSite(1)
	if handler == nil {
		m.addRegErr(at, "nil condition")
		return
	}
	m.conditions = append(m.conditions, condition{fn: handler, at: at})
}

// runCondition runs one condition and interprets its error.
func (m *Module) runCondition(c *condition) error {
	if err := c.fn(); err != nil {
		return m.handled(err, kindCondition, "", c.at)
	}
	return nil
}
