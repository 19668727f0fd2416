package engine

import (
	"testing"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// BenchmarkCoreRoute routes events to a passive module that takes no
// messages from other nodes, the case in which routing looks at each
// event's type, and applies them; one op is a batch of 256 events, and
// ns/event is the time per event. It isolates the core's routing from the
// node's goroutines.
func BenchmarkCoreRoute(b *testing.B) {
	const batch = 256
	c := New([]Spec{{ID: "p", Passive: modules.NullPassive{}}}, batch, nil)
	c.SetBusyTiming(false)
	evs := make([]stdtypes.Event, batch)
	for i := range evs {
		evs[i] = newTestEvent("p")
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Route(evs, nil, nil); err != nil {
			b.Fatal(err)
		}
		m := c.Next()
		if err := c.ApplyPassive(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/batch, "ns/event")
}
