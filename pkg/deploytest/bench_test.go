package deploytest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/samples/bracha"
	"github.com/mirframework/mir/stdtypes"
)

// BenchmarkBroadcastSimulated: 4 simulated nodes broadcast 1,000 values in
// all (250 each) with Bracha's protocol, until every node has delivered
// every value. It is a whole-system figure: protocol, engine, simulated
// network and timers.
func BenchmarkBroadcastSimulated(b *testing.B) {
	const n, values = 4, 1000
	b.ReportAllocs()
	var events uint64
	seed := uint64(0)
	for b.Loop() {
		seed++
		d, err := deploytest.NewSimulated(brachaConfig(n, 1, false), deploytest.SimOptions{Seed: seed})
		if err != nil {
			b.Fatal(err)
		}
		delivered := deploytest.Collect[*bracha.Deliver](d)
		if err := d.Start(); err != nil {
			b.Fatal(err)
		}
		for i := range values {
			origin := stdtypes.NewNodeIDFromInt(i % n)
			if err := d.Submit(origin, bracha.NewBroadcast(brachaID, origin, uint64(i/n+1), fmt.Sprint("value ", i))); err != nil {
				b.Fatal(err)
			}
		}
		if err := d.WaitFor(func() bool { return delivered.Len() == n*values }, time.Minute); err != nil {
			b.Fatal(err)
		}
		events += d.Sim().Events()
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}
