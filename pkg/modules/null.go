package modules

import (
	"context"

	"github.com/mirframework/mir/stdtypes"
)

// NullPassive is a passive module that accepts and drops every event. It
// stands in for a module a test or a deployment does not need.
type NullPassive struct{}

// ApplyEvents drops events.
func (NullPassive) ApplyEvents(*stdtypes.EventList) (*stdtypes.EventList, error) { return nil, nil }

// NullActive is an active module that drops every event and never emits.
type NullActive struct{}

// ApplyEvents drops events.
func (NullActive) ApplyEvents(context.Context, *stdtypes.EventList) error { return nil }

// EventsOut returns a nil channel, on which nothing is ever sent.
func (NullActive) EventsOut() <-chan *stdtypes.EventList { return nil }
