package wal

import (
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// simRun is a simulated node with the WAL module's twin on a SimDisk,
// module "a" owning the records, and "net" getting the Appends'
// follow-ups ("sends").
type simRun struct {
	s    *testsim.Sim
	node *testsim.Node
	disk *SimDisk
	twin *SimModule
	// sent holds the tags sent (follow-ups dispatched), with the time and
	// the incarnation; recovered those each incarnation got back.
	sent      []string
	sentAt    []time.Duration
	sentBy    []int
	recovered map[int][]string
}

func newSimRun(t testing.TB, seed uint64, opts SimOptions) *simRun {
	t.Helper()
	r := &simRun{s: testsim.New(testsim.Options{Seed: seed}), recovered: map[int][]string{}}
	r.disk = NewSimDisk(r.s.NewRand("disk"), opts)
	r.s.Observe(func(o *testsim.Observation) {
		n, ok := o.Event.(*note)
		switch {
		case !ok:
		case o.Event.Dest() == "net":
			r.sent = append(r.sent, n.Tag)
			r.sentAt = append(r.sentAt, o.Time)
			r.sentBy = append(r.sentBy, o.Incarnation)
		case o.Event.Dest() == "a":
			r.recovered[o.Incarnation] = append(r.recovered[o.Incarnation], n.Tag)
		}
	})
	var err error
	r.node, err = r.s.AddNode("0", testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
		tw, err := r.disk.Start()
		if err != nil {
			return nil, err
		}
		r.twin = tw
		return modules.Modules{"wal": tw, "a": modules.NullPassive{}, "net": modules.NullPassive{}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// persistAt has the node append note tag and send it once durable, at
// time at, if the node is up then.
func (r *simRun) persistAt(at time.Duration, tag string) {
	r.s.At(at, func() {
		if r.node.Up() {
			_ = r.node.Inject(stdtypes.WithFollowUps(NewAppend("wal", newNote("a", tag), 0), newNote("net", tag)))
		}
	})
}

// TestTwinHoldsUntilSynced: the follow-ups of an Append come a sync
// latency after the batch, in simulated time; the batches that arrive
// meanwhile wait, and go to disk as the next group.
func TestTwinHoldsUntilSynced(t *testing.T) {
	r := newSimRun(t, 1, SimOptions{SyncLatency: testsim.Fixed(time.Millisecond)})
	r.persistAt(10*time.Millisecond, "1")
	r.persistAt(10*time.Millisecond+100*time.Microsecond, "2")
	r.persistAt(10*time.Millisecond+200*time.Microsecond, "3")
	if err := r.s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{11 * time.Millisecond, 12 * time.Millisecond, 12 * time.Millisecond}
	if !slices.Equal(r.sent, []string{"1", "2", "3"}) || !slices.Equal(r.sentAt, want) {
		t.Errorf("sent %v at %v, want 1 2 3 at %v", r.sent, r.sentAt, want)
	}
	if n := r.disk.FS().Unsynced(); n != 0 {
		t.Errorf("%d bytes unsynced at the end", n)
	}
}

// crashRestartRun appends a note every millisecond for a second, while the
// node crashes and restarts at times drawn from the seed, with storage
// faults.
func crashRestartRun(t testing.TB, seed uint64) *simRun {
	t.Helper()
	opts := SimOptions{Log: Options{SegmentBytes: 8 << 10}, Faults: CrashFaults{FlipProbability: 0.5}}
	r := newSimRun(t, seed, opts)
	rnd := r.s.Rand()
	for i := range 1000 {
		r.persistAt(time.Duration(i)*time.Millisecond, strconv.Itoa(i))
	}
	at := time.Duration(0)
	for range 5 {
		at += time.Duration(1+rnd.IntN(200)) * time.Millisecond
		r.node.CrashAt(at)
		at += time.Duration(1+rnd.IntN(20)) * time.Millisecond
		r.node.RestartAt(at)
	}
	if err := r.s.Run(2 * time.Second); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	return r
}

// TestTwinCrashes: whatever the crashes do to the disk, every note that
// was sent (its follow-up released) before a crash is recovered after it,
// in the order appended, and nothing that was never appended is.
func TestTwinCrashes(t *testing.T) {
	fates := map[KeepPolicy]int{}
	flips := 0
	for seed := range uint64(30) {
		r := crashRestartRun(t, seed)
		if r.node.Incarnation() != 6 {
			t.Fatalf("seed %d: %d incarnations", seed, r.node.Incarnation())
		}
		for inc := 2; inc <= 6; inc++ {
			rec := r.recovered[inc]
			if !slices.IsSortedFunc(rec, func(a, b string) int { return atoi(a) - atoi(b) }) {
				t.Fatalf("seed %d: incarnation %d recovered %v, out of order", seed, inc, rec)
			}
			// Everything sent before this start was recovered by it.
			for _, tag := range r.sentBefore(inc) {
				if !slices.Contains(rec, tag) {
					t.Fatalf("seed %d: %s was sent but incarnation %d did not recover it (crashes %+v)",
						seed, tag, inc, r.disk.Crashes())
				}
			}
		}
		for _, c := range r.disk.Crashes() {
			fates[c.Fate]++
			if c.FlippedBit >= 0 {
				flips++
			}
		}
	}
	if fates[KeepNone] == 0 || fates[KeepAll] == 0 || fates[KeepPrefix] == 0 || flips == 0 {
		t.Errorf("some fault never happened: %v, %d flips", fates, flips)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// sentBefore returns the notes sent before incarnation inc started.
func (r *simRun) sentBefore(inc int) []string {
	var tags []string
	for i, tag := range r.sent {
		if r.sentBy[i] < inc {
			tags = append(tags, tag)
		}
	}
	return tags
}

// TestTwinSameSeedSameRun: a seed gives the same crashes, the same faults
// and the same run.
func TestTwinSameSeedSameRun(t *testing.T) {
	for seed := range uint64(5) {
		a, b := crashRestartRun(t, seed), crashRestartRun(t, seed)
		if a.s.Hash() != b.s.Hash() || !reflect.DeepEqual(a.disk.Crashes(), b.disk.Crashes()) ||
			!reflect.DeepEqual(a.recovered, b.recovered) {
			t.Fatalf("seed %d: two runs differ: %016x %+v, %016x %+v", seed, a.s.Hash(), a.disk.Crashes(), b.s.Hash(), b.disk.Crashes())
		}
	}
}
