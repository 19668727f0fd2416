package counter_test

import (
	"flag"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/samples/counter"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var nodes = []stdtypes.NodeID{"0", "1", "2"}

// crashSeeds are the seeds of TestNeverBackwards: 500, or 50 in short
// mode; or the one -sim.seed gives, to reproduce a failure.
func crashSeeds() []uint64 {
	if f := flag.Lookup("sim.seed"); f != nil && f.Value.String() != "" {
		return testsim.Seeds()
	}
	n := 500
	if testing.Short() {
		n = 50
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// crashRun runs three counters for a simulated second, each counting in
// bursts at random moments, while the nodes crash and restart at random
// points of the run (many while a sync is in flight), their disks losing
// what was not synced as the storage faults of the seed say. It returns
// the deployment, stopped.
func crashRun(t *testing.T, seed uint64, observe func(*testsim.Observation)) (*deploytest.Simulated, error) {
	d, err := deploytest.NewSimulated(counter.DeployConfig(nodes), deploytest.SimOptions{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	d.Check(counter.Monotonic())
	d.Observe(observe)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	s, r := d.Sim(), d.Sim().Rand()
	for _, id := range nodes {
		node := d.Node(id)
		bursts := make([]time.Duration, 40)
		for i := range bursts {
			bursts[i] = time.Duration(r.IntN(1000)) * time.Millisecond
			// A burst of increments: the WAL module gets them in one
			// batch or several, while it syncs.
			burst := make([]stdtypes.Event, 1+r.IntN(5))
			for i := range burst {
				burst[i] = counter.NewIncrement(counter.ID)
			}
			s.At(bursts[i], func() {
				if node.Up() {
					_ = node.Inject(burst...)
				}
			})
		}
		slices.Sort(bursts)
		at := time.Duration(0)
		for range 1 + r.IntN(4) {
			at = crashTime(r, at, bursts)
			if r.IntN(3) == 0 {
				// At the node's next events, wherever it is then.
				s.At(at, func() { node.CrashAtEvent(node.Events() + 1 + uint64(r.IntN(20))) })
			} else {
				node.CrashAt(at)
			}
			at += time.Duration(1+r.IntN(50)) * time.Millisecond
			node.RestartAt(at)
		}
	}
	err = s.Run(2 * time.Second)
	return d, err
}

// crashTime draws the time of a crash after after: at random, or, one
// time in two, within the syncs of a burst of increments.
func crashTime(r *rand.Rand, after time.Duration, bursts []time.Duration) time.Duration {
	base := after + time.Millisecond
	if r.IntN(2) == 0 {
		i, _ := slices.BinarySearch(bursts, base)
		if i += r.IntN(3); i < len(bursts) {
			return bursts[i] + time.Duration(r.IntN(1500))*time.Microsecond
		}
	}
	return base + time.Duration(r.IntN(300))*time.Millisecond
}

// TestNeverBackwards: over 500 seeds (50 in short mode), with nodes that
// crash and restart at random points and disks that lose what was not
// synced, tear the last record and flip bits, no node ever sends a count
// it sent already or a lower one, and each restarted node recovers at
// least the highest count it had sent (counter.Monotonic).
func TestNeverBackwards(t *testing.T) {
	restarts, recovered, faults := 0, 0, map[wal.KeepPolicy]int{}
	countRecovered := func(o *testsim.Observation) {
		if _, ok := o.Event.(*counter.Counted); ok {
			recovered++
		}
	}
	seeds := crashSeeds()
	for _, seed := range seeds {
		d, err := crashRun(t, seed, countRecovered)
		if err != nil {
			t.Fatalf("%v\nreproduce with: %s", err, testsim.ReproduceCommand(t, seed))
		}
		for _, id := range nodes {
			restarts += d.Node(id).Incarnation() - 1
			for _, c := range d.Disk(id).Crashes() {
				faults[c.Fate]++
			}
		}
	}
	t.Logf("%d restarts, %d recovered a count; storage faults: %v", restarts, recovered, faults)
	if len(seeds) < 50 {
		return // A failure's seed, alone: it need not have every fault.
	}
	if recovered == 0 || faults[wal.KeepNone] == 0 || faults[wal.KeepAll] == 0 || faults[wal.KeepPrefix] == 0 {
		t.Errorf("the runs lack recoveries or faults: %d restarts, %d recovered, %v", restarts, recovered, faults)
	}
}

// TestModule: the counter's output, event in, events out: an Increment
// persists the count with the send as its follow-up, and truncates the
// counts before; a recovered count is where it counts on from.
func TestModule(t *testing.T) {
	m, err := counter.New("0", counter.ModuleConfig{Self: "c", WAL: "wal", Net: "net"}, nodes)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(evs ...stdtypes.Event) []stdtypes.Event {
		t.Helper()
		out, err := m.ApplyEvents(stdtypes.ListOf(evs...))
		if err != nil {
			t.Fatal(err)
		}
		return out.Slice()
	}
	apply(stdevents.NewInit("c"), &counter.Counted{Header: stdtypes.NewHeader("c"), Value: 41})
	out := apply(counter.NewIncrement("c"))
	if len(out) != 2 {
		t.Fatalf("output %v", out)
	}
	app, ok := out[0].(*wal.Append)
	if !ok || app.Dest() != "wal" || app.Event.(*counter.Counted).Value != 42 || app.RetentionIndex != 42 {
		t.Fatalf("first output %#v, want the Append of count 42", out[0])
	}
	send, ok := app.FollowUps()[0].(*stdevents.SendMessage)
	if len(app.FollowUps()) != 1 || !ok || send.Msg.(*counter.CountMsg).Value != 42 ||
		!slices.Equal(send.Destinations, []stdtypes.NodeID{"1", "2"}) {
		t.Fatalf("follow-ups %v, want the send of count 42 to the peers", app.FollowUps())
	}
	if tr, ok := out[1].(*wal.Truncate); !ok || tr.Owner != "c" || tr.RetentionIndex != 42 {
		t.Fatalf("second output %#v, want the Truncate below 42", out[1])
	}
	apply(stdevents.NewMessageReceived("c", "1", &counter.CountMsg{Value: 7}),
		stdevents.NewMessageReceived("c", "1", &counter.CountMsg{Value: 5}),
		stdevents.NewMessageReceived("c", "9", &counter.CountMsg{Value: 9}))
	if m.PeerCount("1") != 7 || m.PeerCount("9") != 0 || m.Count() != 42 {
		t.Errorf("count %d, peer counts %d %d", m.Count(), m.PeerCount("1"), m.PeerCount("9"))
	}
}

// TestRealRestart: real nodes, each with its WAL in a directory; a second
// deployment on the same directories counts on from where the first
// stopped.
func TestRealRestart(t *testing.T) {
	dir := t.TempDir()
	run := func(increments int) (recovered, sent []uint64) {
		t.Helper()
		d, err := deploytest.NewReal(counter.DeployConfig(nodes), deploytest.RealOptions{WALDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		d.Observe(func(o *testsim.Observation) {
			if o.Node != "0" {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch ev := o.Event.(type) {
			case *counter.Counted:
				recovered = append(recovered, ev.Value)
			case *stdevents.SendMessage:
				sent = append(sent, ev.Msg.(*counter.CountMsg).Value)
			}
		})
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		for range increments {
			if err := d.Submit("0", counter.NewIncrement(counter.ID)); err != nil {
				t.Fatal(err)
			}
		}
		err = d.WaitFor(func() bool { return len(sent) == increments }, 10*time.Second)
		if stopErr := d.Stop(); err == nil {
			err = stopErr
		}
		if err != nil {
			t.Fatal(err)
		}
		return recovered, sent
	}
	if rec, sent := run(3); len(rec) != 0 || !slices.Equal(sent, []uint64{1, 2, 3}) {
		t.Fatalf("first run: recovered %v, sent %v", rec, sent)
	}
	if rec, sent := run(2); !slices.Equal(rec, []uint64{3}) || !slices.Equal(sent, []uint64{4, 5}) {
		t.Fatalf("second run: recovered %v, sent %v; want 3, then 4 5", rec, sent)
	}
}
