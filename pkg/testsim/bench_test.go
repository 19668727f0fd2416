package testsim_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// allToAll is the benchmark's protocol module: on Init it sends inFlight
// messages to every other node, and it answers every message with a new
// one to its sender, so that each pair of nodes keeps 2·inFlight messages
// in flight for ever.
type allToAll struct {
	peers    []stdtypes.NodeID
	inFlight int
}

// ReceivesMessages declares that the module takes messages from other nodes.
func (*allToAll) ReceivesMessages() {}

func (a *allToAll) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			for i := range a.inFlight {
				out.PushBack(stdevents.NewSendMessage("net", &msg{Seq: uint64(i)}, stdevents.To("app", a.peers...)))
			}
		case *stdevents.MessageReceived:
			out.PushBack(stdevents.NewSendMessage("net", &msg{Seq: ev.Msg.(*msg).Seq + 1}, stdevents.To("app", ev.From)))
		}
	}
	return out, nil
}

// newAllToAll returns a simulation of n nodes running allToAll.
func newAllToAll(tb testing.TB, n int, opts testsim.Options, netOpts sim.Options) *testsim.Sim {
	s := testsim.New(opts)
	ids := make([]stdtypes.NodeID, n)
	for i := range ids {
		ids[i] = stdtypes.NewNodeIDFromInt(i)
	}
	network, err := sim.New(s, ids, netOpts)
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range ids {
		var peers []stdtypes.NodeID
		for _, p := range ids {
			if p != id {
				peers = append(peers, p)
			}
		}
		tr, _ := network.Transport(id)
		if _, err := s.AddNode(id, testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
			return modules.Modules{"app": &allToAll{peers: peers, inFlight: 8}, "net": tr, "timer": testsim.NewTimer()}, nil
		}}); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// runEvents runs s until it has dispatched n events.
func runEvents(tb testing.TB, s *testsim.Sim, n uint64) {
	if _, err := s.RunUntil(func() bool { return s.Events() >= n }, testsim.Forever); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkSimulation: 4 nodes exchanging messages all-to-all over the
// simulated network, 100,000 events per run; the figure that matters is
// ns/event, the wall time per simulated event.
func BenchmarkSimulation(b *testing.B) {
	const events = 100_000
	cases := []struct {
		name string
		opts testsim.Options
		net  sim.Options
	}{
		{"default", testsim.Options{}, sim.Options{}},
		{"faults", testsim.Options{BatchDelay: testsim.Uniform(0, 10*time.Microsecond)}, sim.Options{Link: sim.LinkConfig{
			Latency: testsim.Pareto(time.Millisecond, 1.5, 100*time.Millisecond), Loss: 0.01, Duplicate: 0.01, Reorder: 0.1,
		}}},
		{"codec=every", testsim.Options{}, sim.Options{Codec: sim.CodecEvery}},
		{"hash=content", testsim.Options{HashContent: true}, sim.Options{}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var total uint64
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpuBefore := cpuTime()
			seed := uint64(0)
			for b.Loop() {
				seed++
				opts := c.opts
				opts.Seed = seed
				s := newAllToAll(b, 4, opts, c.net)
				runEvents(b, s, events)
				total += s.Events()
			}
			cpu := cpuTime() - cpuBefore
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/event")
			if cpu > 0 {
				// Processor time includes the garbage collector's
				// work on other threads; on a busy machine it is the
				// steadier figure.
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(total), "cpu-ns/event")
			}
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(total), "allocs/event")
			b.ReportMetric(float64(total)/float64(b.N), "events/op")
		})
	}
}

// heapAfterGC returns the live heap, after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkSimulationMemory runs 1,000,000 events and reports the live
// heap after 100,000 and after 1,000,000 of them: a simulation keeps no
// per-event history, so the second is no larger than the first.
func BenchmarkSimulationMemory(b *testing.B) {
	for b.Loop() {
		base := heapAfterGC()
		s := newAllToAll(b, 4, testsim.Options{Seed: 1}, sim.Options{})
		runEvents(b, s, 100_000)
		at100k := heapAfterGC()
		runEvents(b, s, 1_000_000)
		at1M := heapAfterGC()
		b.ReportMetric(float64(at100k-base)/1e6, "heap-MB@100k")
		b.ReportMetric(float64(int64(at1M)-int64(base))/1e6, "heap-MB@1M")
		b.ReportMetric(float64(int64(at1M)-int64(at100k))/1e3, "growth-kB")
		runtime.KeepAlive(s)
	}
}

// TestMemoryBounded is the short form of BenchmarkSimulationMemory: the
// live heap does not grow with the number of events.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("runs 300,000 events; measures memory, which the race detector inflates")
	}
	s := newAllToAll(t, 4, testsim.Options{Seed: 1}, sim.Options{})
	runEvents(t, s, 50_000)
	early := heapAfterGC()
	runEvents(t, s, 300_000)
	late := heapAfterGC()
	// Allow for noise: the queues' backing arrays may have grown a
	// little more. Proportional growth would be tens of megabytes.
	if late > early+1<<20 {
		t.Errorf("live heap grew from %d to %d bytes between 50k and 300k events", early, late)
	}
	t.Logf("live heap %d bytes at 50k events, %d at 300k", early, late)
	runtime.KeepAlive(s)
}
