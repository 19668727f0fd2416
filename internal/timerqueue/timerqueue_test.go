package timerqueue

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// op is one step of a script run against a queue.
type op struct {
	do   string // delay, repeat, gc, wake, fail, late
	at   time.Duration
	d    time.Duration           // delay (delay) or period (repeat)
	idx  stdtypes.RetentionIndex // repeat, gc
	name string                  // the event's label (delay, repeat)
	// late is when a late emission ends (late): the entries due at at
	// are emitted then, as by a real timer whose node did not read.
	late time.Duration
	// want is what a wake, fail or late emits.
	want []string
	// wantIgnored says that a repeat must be refused.
	wantIgnored bool
}

// ev returns an event labelled name: an Init for module name.
func ev(name string) []stdtypes.Event {
	return []stdtypes.Event{stdevents.NewInit(stdtypes.ModuleID(name))}
}

func labels(due []*Entry) []string {
	var out []string
	for _, e := range due {
		for _, ev := range e.Events {
			out = append(out, string(ev.Dest()))
		}
	}
	return out
}

// forever is the longest delay there is.
const forever = time.Duration(math.MaxInt64)

func TestQueue(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		ops  []op
	}{
		{"by deadline, then by arrival", []op{
			{do: "delay", d: 20 * ms, name: "b"},
			{do: "delay", d: 10 * ms, name: "a"},
			{do: "delay", d: 10 * ms, name: "c"},
			{do: "wake", at: 5 * ms},
			{do: "wake", at: 10 * ms, want: []string{"a", "c"}},
			{do: "wake", at: 30 * ms, want: []string{"b"}},
			{do: "wake", at: time.Hour},
		}},
		{"a zero delay is due at once", []op{
			{do: "delay", at: 7 * ms, name: "a"},
			{do: "wake", at: 7 * ms, want: []string{"a"}},
		}},
		{"a request without events is dropped", []op{
			{do: "delay", d: ms},
			{do: "repeat", d: ms, idx: 1},
			{do: "wake", at: time.Hour},
		}},
		{"a repeat runs every period", []op{
			{do: "repeat", d: 10 * ms, name: "r"},
			{do: "wake", at: 9 * ms},
			{do: "wake", at: 10 * ms, want: []string{"r"}},
			{do: "wake", at: 19 * ms},
			{do: "wake", at: 20 * ms, want: []string{"r"}},
			{do: "wake", at: 30 * ms, want: []string{"r"}},
		}},
		{"a repeat keeps its place among equal deadlines", []op{
			{do: "repeat", d: 10 * ms, name: "r"},
			{do: "delay", d: 20 * ms, name: "d"},
			{do: "wake", at: 10 * ms, want: []string{"r"}},
			{do: "wake", at: 20 * ms, want: []string{"r", "d"}},
		}},
		{"a late emission keeps the phase while no period is missed", []op{
			{do: "repeat", d: 10 * ms, name: "r"},
			{do: "late", at: 10 * ms, late: 15 * ms, want: []string{"r"}},
			{do: "wake", at: 19 * ms},
			{do: "wake", at: 20 * ms, want: []string{"r"}},
		}},
		{"missed periods are skipped, not made up", []op{
			{do: "repeat", d: 10 * ms, name: "r"},
			{do: "late", at: 10 * ms, late: 35 * ms, want: []string{"r"}},
			{do: "wake", at: 44 * ms},
			{do: "wake", at: 45 * ms, want: []string{"r"}},
			{do: "wake", at: 55 * ms, want: []string{"r"}},
		}},
		{"a repeat taken late is emitted once", []op{
			{do: "repeat", d: 10 * ms, name: "r"},
			{do: "wake", at: 35 * ms, want: []string{"r"}},
			{do: "wake", at: 44 * ms},
			{do: "wake", at: 45 * ms, want: []string{"r"}},
		}},
		{"garbage collection stops repeats below the index only", []op{
			{do: "repeat", d: 10 * ms, idx: 1, name: "r1"},
			{do: "repeat", d: 10 * ms, idx: 2, name: "r2"},
			{do: "delay", d: 10 * ms, name: "d"},
			{do: "gc", idx: 2},
			{do: "wake", at: 10 * ms, want: []string{"r2", "d"}},
			{do: "wake", at: 20 * ms, want: []string{"r2"}},
		}},
		{"a repeat below a collected index is ignored", []op{
			{do: "gc", idx: 3},
			{do: "repeat", d: 10 * ms, idx: 2, name: "old", wantIgnored: true},
			{do: "repeat", d: 10 * ms, idx: 3, name: "new"},
			{do: "gc", idx: 1}, // Lower: changes nothing.
			{do: "repeat", d: 10 * ms, idx: 2, name: "old", wantIgnored: true},
			{do: "wake", at: 10 * ms, want: []string{"new"}},
		}},
		{"a repeat collected while out for emission does not come back", []op{
			{do: "repeat", d: 10 * ms, idx: 1, name: "r"},
			{do: "repeat", d: 10 * ms, idx: 5, name: "s"},
			{do: "late", at: 10 * ms, late: 10 * ms, idx: 2, want: []string{"r", "s"}},
			{do: "wake", at: 20 * ms, want: []string{"s"}},
		}},
		{"a deadline past the end of time never falls due", []op{
			{do: "delay", at: 5, d: forever, name: "never"},
			{do: "repeat", at: 5, d: forever - 1, name: "never again"},
			{do: "wake", at: forever - 1},
		}},
		{"a repeat whose next deadline is past the end of time stops", []op{
			{do: "repeat", d: forever/2 + 1, name: "r"},
			{do: "wake", at: forever/2 + 1, want: []string{"r"}},
			{do: "wake", at: forever - 1},
		}},
		{"a late repeat whose next deadline is past the end of time stops", []op{
			{do: "repeat", d: forever / 3, name: "r"},
			// Late by more than a period: the next deadline is one
			// period after the emission, past the end of time.
			{do: "late", at: forever / 3, late: 2*(forever/3) + 5, want: []string{"r"}},
			{do: "wake", at: forever - 1},
		}},
		{"entries not emitted go back in their places", []op{
			{do: "delay", d: 10 * ms, name: "a"},
			{do: "repeat", d: 10 * ms, name: "r"},
			{do: "delay", d: 10 * ms, name: "b"},
			{do: "fail", at: 10 * ms, want: []string{"a", "r", "b"}},
			{do: "wake", at: 11 * ms, want: []string{"a", "r", "b"}},
			{do: "wake", at: 20 * ms, want: []string{"r"}},
		}},
		{"repeats collected before a failed emission are not put back", []op{
			{do: "delay", d: 10 * ms, name: "a"},
			{do: "repeat", d: 10 * ms, idx: 1, name: "r"},
			{do: "fail", at: 10 * ms, idx: 2, want: []string{"a", "r"}},
			{do: "wake", at: time.Hour, want: []string{"a"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Queue
			for i, o := range tt.ops {
				var got []string
				switch o.do {
				case "delay":
					q.Delay(o.at, o.d, eventsOf(o.name))
				case "repeat":
					if taken := q.Repeat(o.at, o.d, o.idx, eventsOf(o.name)); taken == o.wantIgnored {
						t.Fatalf("op %d: Repeat = %v, want %v", i, taken, !o.wantIgnored)
					}
				case "gc":
					q.GarbageCollect(o.idx)
				case "wake":
					due := q.TakeDue(o.at, nil)
					got = labels(due)
					q.Reschedule(due, o.at)
				case "late", "fail":
					due := q.TakeDue(o.at, nil)
					got = labels(due)
					if o.idx != 0 {
						q.GarbageCollect(o.idx) // While the emission waits.
					}
					if o.do == "late" {
						q.Reschedule(due, o.late)
					} else {
						q.PutBack(due)
					}
				default:
					t.Fatalf("op %d: unknown op %q", i, o.do)
				}
				if !slices.Equal(got, o.want) {
					t.Fatalf("op %d (%s at %v): emitted %v, want %v", i, o.do, o.at, got, o.want)
				}
			}
		})
	}
}

// eventsOf returns the events labelled name, or none for "".
func eventsOf(name string) []stdtypes.Event {
	if name == "" {
		return nil
	}
	return ev(name)
}

func TestQueueNextAndLen(t *testing.T) {
	var q Queue
	if _, ok := q.Next(); ok || q.Len() != 0 {
		t.Fatalf("empty queue: Next ok %v, Len %d", ok, q.Len())
	}
	q.Delay(0, 30, ev("a"))
	q.Delay(0, 10, ev("b"))
	if next, ok := q.Next(); !ok || next != 10 || q.Len() != 2 {
		t.Fatalf("Next = %v, %v, Len %d; want 10, true, 2", next, ok, q.Len())
	}
	q.Reschedule(q.TakeDue(10, nil), 10)
	if next, ok := q.Next(); !ok || next != 30 || q.Len() != 1 {
		t.Fatalf("Next = %v, %v, Len %d; want 30, true, 1", next, ok, q.Len())
	}
}

// TestQueueOrderRandom checks the heap against a sort: entries come out
// by deadline, then by arrival, whatever the order they went in, with
// garbage collections in between.
func TestQueueOrderRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type want struct {
		deadline time.Duration
		seq      int
	}
	for round := range 50 {
		var q Queue
		var model []want
		for seq := range r.IntN(200) {
			d := time.Duration(1 + r.IntN(20))
			if r.IntN(2) == 0 {
				q.Delay(0, d, ev("d"))
			} else {
				// A repeat with an index no collection reaches.
				q.Repeat(0, d, 1000, ev("r"))
			}
			model = append(model, want{d, seq})
			if r.IntN(10) == 0 {
				q.GarbageCollect(stdtypes.RetentionIndex(r.IntN(100)))
			}
		}
		slices.SortStableFunc(model, func(a, b want) int { return int(a.deadline - b.deadline) })
		due := q.TakeDue(20, nil)
		if len(due) != len(model) {
			t.Fatalf("round %d: took %d entries, want %d", round, len(due), len(model))
		}
		for i, e := range due {
			if e.deadline != model[i].deadline || e.seq != uint64(model[i].seq) {
				t.Fatalf("round %d: entry %d is (%v, %d), want (%v, %d)", round, i, e.deadline, e.seq, model[i].deadline, model[i].seq)
			}
		}
	}
}
