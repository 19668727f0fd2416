package stdtypes_test

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

// numbered is the event the list tests push around; N tells them apart.
type numbered struct {
	stdtypes.Header
	N int
}

func num(n int) *numbered { return &numbered{Header: stdtypes.NewHeader("test"), N: n} }

// nums returns a slice of numbered events, one for each of ns.
func nums(ns ...int) []stdtypes.Event {
	evs := make([]stdtypes.Event, len(ns))
	for i, n := range ns {
		evs[i] = num(n)
	}
	return evs
}

// numsOf returns the N of each event, in order: 0 for a nil event and -1
// for an event of another type.
func numsOf(evs []stdtypes.Event) []int {
	out := make([]int, len(evs))
	for i, ev := range evs {
		switch ev := ev.(type) {
		case nil:
			out[i] = 0
		case *numbered:
			out[i] = ev.N
		default:
			out[i] = -1
		}
	}
	return out
}

func checkList(t *testing.T, l *stdtypes.EventList, want ...int) {
	t.Helper()
	if got := numsOf(l.Slice()); !slices.Equal(got, want) {
		t.Errorf("list holds %v, want %v", got, want)
	}
	if l.Len() != len(want) {
		t.Errorf("Len() = %d, want %d", l.Len(), len(want))
	}
	var viaAll []stdtypes.Event
	for ev := range l.All() {
		viaAll = append(viaAll, ev)
	}
	if got := numsOf(viaAll); !slices.Equal(got, want) {
		t.Errorf("All() yields %v, want %v", got, want)
	}
	for i, n := range want {
		if got := numsOf([]stdtypes.Event{l.Get(i)})[0]; got != n {
			t.Errorf("Get(%d) = %d, want %d", i, got, n)
		}
	}
}

func TestNilEventList(t *testing.T) {
	var l *stdtypes.EventList
	if l.Len() != 0 {
		t.Errorf("nil list: Len() = %d", l.Len())
	}
	if l.Slice() != nil {
		t.Errorf("nil list: Slice() = %v, want nil", l.Slice())
	}
	for ev := range l.All() {
		t.Errorf("nil list: All() yielded %v", ev)
	}
	if got := l.PushBackList(nil); got != nil {
		t.Errorf("nil.PushBackList(nil) = %p, want nil", got)
	}
	if got := l.PushBackList(stdtypes.EmptyList()); got != nil {
		t.Errorf("nil.PushBackList(empty) = %p, want nil", got)
	}

	m := stdtypes.ListOf(nums(1, 2)...)
	if got := m.PushBackList(nil); got != m {
		t.Errorf("PushBackList(nil) returned %p, want the list %p", got, m)
	}
	checkList(t, m, 1, 2)
}

func TestEmptyList(t *testing.T) {
	checkList(t, stdtypes.EmptyList())
	checkList(t, stdtypes.ListOf())
	if a, b := stdtypes.EmptyList(), stdtypes.EmptyList(); a == b {
		t.Error("EmptyList returned the same list twice")
	}
}

func TestListOfCopiesItsArgument(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		want := make([]int, n)
		for i := range want {
			want[i] = i + 1
		}
		evs := nums(want...)
		l := stdtypes.ListOf(evs...)
		for i := range evs {
			evs[i] = num(100 + i)
		}
		checkList(t, l, want...)

		// And the other way round: pushing to the list does not write to
		// the caller's slice, even where it has spare capacity.
		evs = append(make([]stdtypes.Event, 0, n+4), nums(want...)...)
		l = stdtypes.ListOf(evs...)
		l.PushBack(num(99))
		if got := numsOf(evs[:n+1])[n]; got != 0 {
			t.Errorf("PushBack after ListOf wrote %d into the caller's slice", got)
		}
	}
}

func TestListsAreIndependent(t *testing.T) {
	a := stdtypes.ListOf(num(1))
	b := stdtypes.ListOf(num(2))
	a.PushBack(num(3))
	b.Slice()[0] = num(4)
	checkList(t, a, 1, 3)
	checkList(t, b, 4)
}

func TestPushBackOrder(t *testing.T) {
	l := stdtypes.EmptyList()
	other := stdtypes.ListOf(nums(4, 5)...)
	for _, got := range []*stdtypes.EventList{
		l.PushBack(num(1)),
		l.PushBackSlice(nums(2, 3)),
		l.PushBackList(other),
		l.PushBackSlice(nil),
		l.PushBackList(stdtypes.EmptyList()),
		l.PushBack(num(6)),
	} {
		if got != l {
			t.Fatalf("a PushBack method returned %p, want the list %p", got, l)
		}
	}
	checkList(t, l, 1, 2, 3, 4, 5, 6)
	checkList(t, other, 4, 5)

	// The appended list is not changed by later pushes to either list.
	other.PushBack(num(7))
	l.PushBack(num(8))
	checkList(t, l, 1, 2, 3, 4, 5, 6, 8)
	checkList(t, other, 4, 5, 7)
}

func TestPushBackListOfItself(t *testing.T) {
	l := stdtypes.ListOf(nums(1, 2)...)
	l.PushBackList(l)
	checkList(t, l, 1, 2, 1, 2)
}

func TestPushBackGrowsFromInline(t *testing.T) {
	l := stdtypes.EmptyList()
	l.PushBack(num(1))
	first := l.Slice()
	for n := 2; n <= 40; n++ {
		l.PushBack(num(n))
	}
	want := make([]int, 40)
	for i := range want {
		want[i] = i + 1
	}
	checkList(t, l, want...)
	if got := numsOf(first); !slices.Equal(got, []int{1}) {
		t.Errorf("slice taken while the list held one event now holds %v", got)
	}

	// A list of one (inline) event extended by a slice and by a list.
	l = stdtypes.ListOf(num(1))
	l.PushBackSlice(nums(2, 3))
	checkList(t, l, 1, 2, 3)
	l = stdtypes.ListOf(num(1))
	l.PushBackList(stdtypes.ListOf(num(2)))
	checkList(t, l, 1, 2)
	l = stdtypes.EmptyList()
	l.PushBackSlice(nums(1))
	l.PushBackSlice(nums(2))
	checkList(t, l, 1, 2)
}

func TestGetOutOfRangePanics(t *testing.T) {
	for _, i := range []int{-1, 2, 3} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Get(%d) on a list of 2 did not panic", i)
				}
			}()
			stdtypes.ListOf(nums(1, 2)...).Get(i)
		}()
	}
}

func TestClear(t *testing.T) {
	l := stdtypes.ListOf(nums(1, 2, 3, 4, 5)...)
	old := l.Slice()
	capBefore := cap(old)
	l.Clear()
	checkList(t, l)
	if got := cap(l.Slice()); got != capBefore {
		t.Errorf("Clear changed the capacity from %d to %d", capBefore, got)
	}
	for i, ev := range old {
		if ev != nil {
			t.Errorf("Clear left event %d in the backing array, keeping it from the garbage collector", i)
		}
	}
	l.PushBackSlice(nums(6, 7))
	checkList(t, l, 6, 7)

	// Refilling a cleared list up to its capacity allocates nothing.
	ev := num(8)
	allocs := testing.AllocsPerRun(100, func() {
		l.Clear()
		for range capBefore {
			l.PushBack(ev)
		}
	})
	if allocs != 0 {
		t.Errorf("refilling a cleared list allocated %v times, want 0", allocs)
	}

	// The same holds for a list of one, inline event.
	l = stdtypes.ListOf(num(1))
	l.Clear()
	checkList(t, l)
	allocs = testing.AllocsPerRun(100, func() {
		l.Clear()
		l.PushBack(ev)
	})
	if allocs != 0 {
		t.Errorf("refilling a cleared one-event list allocated %v times, want 0", allocs)
	}
	checkList(t, l, 8)
}

func TestAllStopsEarly(t *testing.T) {
	l := stdtypes.ListOf(nums(1, 2, 3, 4, 5)...)
	var seen []stdtypes.Event
	for ev := range l.All() {
		seen = append(seen, ev)
		if len(seen) == 3 {
			break
		}
	}
	if got := numsOf(seen); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("All() with a break at 3 saw %v", got)
	}
}

func TestSetSliceShares(t *testing.T) {
	evs := nums(1, 2, 3)
	l := stdtypes.EmptyList()
	l.SetSlice(evs)
	checkList(t, l, 1, 2, 3)

	evs[1] = num(20)
	checkList(t, l, 1, 20, 3)
	l.Slice()[0] = num(10)
	if got := numsOf(evs); !slices.Equal(got, []int{10, 20, 3}) {
		t.Errorf("write through Slice() not seen in the caller's slice: %v", got)
	}
	if &l.Slice()[0] != &evs[0] {
		t.Error("SetSlice copied the slice")
	}

	// SetSlice replaces what the list held, inline event included.
	l = stdtypes.ListOf(num(1))
	l.SetSlice(nums(2, 3))
	checkList(t, l, 2, 3)
	l.SetSlice(nil)
	checkList(t, l)
	l.PushBack(num(4))
	checkList(t, l, 4)
}

// TestOneEventInline checks the optimization EventList exists for: a list
// of one event costs one allocation, the list itself.
func TestOneEventInline(t *testing.T) {
	ev := num(1)
	var l *stdtypes.EventList
	if allocs := testing.AllocsPerRun(100, func() { l = stdtypes.ListOf(ev) }); allocs != 1 {
		t.Errorf("ListOf(ev) allocates %v times, want 1", allocs)
	}
	checkList(t, l, 1)

	if allocs := testing.AllocsPerRun(100, func() { l = stdtypes.EmptyList().PushBack(ev) }); allocs != 1 {
		t.Errorf("EmptyList().PushBack(ev) allocates %v times, want 1", allocs)
	}
	checkList(t, l, 1)

	evs := []stdtypes.Event{ev}
	if allocs := testing.AllocsPerRun(100, func() { l = stdtypes.EmptyList().PushBackSlice(evs) }); allocs != 1 {
		t.Errorf("EmptyList().PushBackSlice(one event) allocates %v times, want 1", allocs)
	}
	checkList(t, l, 1)
}

func BenchmarkListOfOne(b *testing.B) {
	ev := num(1)
	b.ReportAllocs()
	for b.Loop() {
		_ = stdtypes.ListOf(ev)
	}
}
