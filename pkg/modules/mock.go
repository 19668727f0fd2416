package modules

import (
	"context"
	"sync"

	"github.com/mirframework/mir/stdtypes"
)

// MockPassive is a passive module for tests: it records every event it
// receives and answers with scripted output. It is safe to inspect from the
// test's goroutine while a node runs it. Like the protocol module it
// usually stands in for, it takes messages from other nodes
// (MessageReceiver).
type MockPassive struct {
	mu       sync.Mutex
	received []stdtypes.Event
	batches  int
	// respond computes the output for one event; nil means no output.
	respond func(stdtypes.Event) (*stdtypes.EventList, error)
}

// NewMockPassive returns a mock that answers each event with respond(event),
// in order. A nil respond makes a mock that only records.
func NewMockPassive(respond func(stdtypes.Event) (*stdtypes.EventList, error)) *MockPassive {
	return &MockPassive{respond: respond}
}

// ReceivesMessages implements MessageReceiver.
func (m *MockPassive) ReceivesMessages() {}

// ApplyEvents records events and returns the scripted output.
func (m *MockPassive) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	m.mu.Lock()
	m.received = append(m.received, events.Slice()...)
	m.batches++
	respond := m.respond
	m.mu.Unlock()
	if respond == nil {
		return nil, nil
	}
	return ApplyAllFunc(events, respond)
}

// Received returns a copy of the events received so far, in order.
func (m *MockPassive) Received() []stdtypes.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]stdtypes.Event(nil), m.received...)
}

// Batches returns how many times ApplyEvents was called.
func (m *MockPassive) Batches() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.batches
}

// MockActive is an active module for tests: it records what it receives and
// emits exactly the lists the test gives to Emit.
type MockActive struct {
	mu       sync.Mutex
	received []stdtypes.Event
	out      chan *stdtypes.EventList
	// onApply, if set, runs for each batch received, outside the lock.
	onApply func(ctx context.Context, events *stdtypes.EventList) error
}

// NewMockActive returns a mock whose output channel holds up to capacity
// lists before Emit blocks. onApply, if not nil, is called with every batch
// the node hands to the module; its error stops the node.
func NewMockActive(capacity int, onApply func(ctx context.Context, events *stdtypes.EventList) error) *MockActive {
	return &MockActive{out: make(chan *stdtypes.EventList, capacity), onApply: onApply}
}

// ApplyEvents records events and runs the onApply hook.
func (m *MockActive) ApplyEvents(ctx context.Context, events *stdtypes.EventList) error {
	m.mu.Lock()
	m.received = append(m.received, events.Slice()...)
	m.mu.Unlock()
	if m.onApply != nil {
		return m.onApply(ctx, events)
	}
	return nil
}

// EventsOut returns the channel Emit writes to.
func (m *MockActive) EventsOut() <-chan *stdtypes.EventList { return m.out }

// Emit sends events to the node, blocking while the channel is full, until
// ctx ends. It reports whether the events were sent.
func (m *MockActive) Emit(ctx context.Context, events *stdtypes.EventList) bool {
	// A plain send first: when the channel has room it costs a fraction of
	// the two-way select below.
	select {
	case m.out <- events:
		return true
	default:
	}
	select {
	case m.out <- events:
		return true
	case <-ctx.Done():
		return false
	}
}

// TryEmit sends events if the channel has room, without blocking, and
// reports whether it did.
func (m *MockActive) TryEmit(events *stdtypes.EventList) bool {
	select {
	case m.out <- events:
		return true
	default:
		return false
	}
}

// Pending returns how many emitted lists the node has not read yet.
func (m *MockActive) Pending() int { return len(m.out) }

// Received returns a copy of the events received so far, in order.
func (m *MockActive) Received() []stdtypes.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]stdtypes.Event(nil), m.received...)
}
