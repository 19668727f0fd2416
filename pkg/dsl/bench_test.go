package dsl_test

import (
	"fmt"
	"testing"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// dispatchModule returns a DSL module with handlers for eight event types
// and four message types, each counting into *n, and one condition.
func dispatchModule(n *int) *dsl.Module {
	m := dsl.NewModule(self)
	count := func() error { *n++; return nil }
	dsl.UponEvent(m, func(*ev0) error { return count() })
	dsl.UponEvent(m, func(*ev1) error { return count() })
	dsl.UponEvent(m, func(*ev2) error { return count() })
	dsl.UponEvent(m, func(*ev3) error { return count() })
	dsl.UponEvent(m, func(*ev4) error { return count() })
	dsl.UponEvent(m, func(*ev5) error { return count() })
	dsl.UponEvent(m, func(*ev6) error { return count() })
	dsl.UponEvent(m, func(*ev7) error { return count() })
	dsl.UponMessageReceived(m, func(stdtypes.NodeID, *msg0) error { return count() })
	dsl.UponMessageReceived(m, func(stdtypes.NodeID, *msg1) error { return count() })
	dsl.UponMessageReceived(m, func(stdtypes.NodeID, *msg2) error { return count() })
	dsl.UponMessageReceived(m, func(stdtypes.NodeID, *msg3) error { return count() })
	dsl.UponCondition(m, func() error { return nil })
	return m
}

// switchModule is the same module written by hand with a type switch: the
// baseline the DSL's overhead is measured against.
type switchModule struct{ n *int }

func (s *switchModule) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	for _, ev := range events.Slice() {
		switch ev := ev.(type) {
		case *ev0, *ev1, *ev2, *ev3, *ev4, *ev5, *ev6, *ev7:
			*s.n++
		case *stdevents.MessageReceived:
			switch ev.Msg.(type) {
			case *msg0, *msg1, *msg2, *msg3:
				*s.n++
			}
		default:
			return nil, fmt.Errorf("unexpected %T", ev)
		}
	}
	return nil, nil
}

// dispatchInputs are batches of 64 events: all of the first event type,
// all of the last, a mix of all eight, and received messages of the four
// types.
func dispatchInputs() map[string]*stdtypes.EventList {
	evs := []stdtypes.Event{&ev0{Header: hdr()}, &ev1{hdr()}, &ev2{hdr()}, &ev3{hdr()},
		&ev4{hdr()}, &ev5{hdr()}, &ev6{hdr()}, &ev7{hdr()}}
	msgs := []stdtypes.Message{&msg0{}, &msg1{}, &msg2{}, &msg3{}}
	first, last, mixed, messages := stdtypes.EmptyList(), stdtypes.EmptyList(), stdtypes.EmptyList(), stdtypes.EmptyList()
	for i := range 64 {
		first.PushBack(evs[0])
		last.PushBack(evs[7])
		mixed.PushBack(evs[(i*5)%8])
		messages.PushBack(recv("1", msgs[(i*3)%4]))
	}
	return map[string]*stdtypes.EventList{"first": first, "last": last, "mixed": mixed, "messages": messages}
}

// BenchmarkDSLDispatch measures the time per event of handing events to
// handlers that do nothing but count, against a hand-written type switch
// (impl=switch). The module has eight event types and four message types;
// inputs are batches of 64 events (see dispatchInputs). Reported: ns/event.
func BenchmarkDSLDispatch(b *testing.B) {
	inputs := dispatchInputs()
	for _, input := range []string{"first", "last", "mixed", "messages"} {
		for _, impl := range []string{"dsl", "switch"} {
			b.Run(fmt.Sprintf("input=%s/impl=%s", input, impl), func(b *testing.B) {
				var n int
				var m interface {
					ApplyEvents(*stdtypes.EventList) (*stdtypes.EventList, error)
				} = dispatchModule(&n)
				if impl == "switch" {
					m = &switchModule{n: &n}
				}
				list := inputs[input]
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := m.ApplyEvents(list); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*list.Len()), "ns/event")
				if n != b.N*list.Len() {
					b.Fatalf("handled %d events, want %d", n, b.N*list.Len())
				}
			})
		}
	}
}
