package modules_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

func TestMockPassiveRecords(t *testing.T) {
	m := modules.NewMockPassive(nil)
	if m.Batches() != 0 || len(m.Received()) != 0 {
		t.Fatalf("new mock: %d batches, received %q", m.Batches(), render(m.Received()))
	}
	for _, batch := range [][]string{{"a", "b"}, {"c"}, {}} {
		out, err := m.ApplyEvents(stdtypes.ListOf(notes("mock", batch...)...))
		if out != nil || err != nil {
			t.Errorf("recording mock answered %v, %v", out, err)
		}
	}
	if _, err := m.ApplyEvents(nil); err != nil {
		t.Errorf("ApplyEvents(nil) = %v", err)
	}
	if got := m.Batches(); got != 4 {
		t.Errorf("Batches() = %d, want 4", got)
	}
	if got := render(m.Received()); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Received() = %q", got)
	}
}

func TestMockPassiveReceivedIsACopy(t *testing.T) {
	m := modules.NewMockPassive(nil)
	in := stdtypes.ListOf(notes("mock", "a", "b")...)
	if _, err := m.ApplyEvents(in); err != nil {
		t.Fatal(err)
	}
	// Neither reusing the input list nor writing to what Received
	// returned changes the record.
	in.Slice()[0] = newNote("mock", "changed")
	got := m.Received()
	got[1] = newNote("mock", "changed")
	if got := render(m.Received()); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Received() = %q after changes outside the mock", got)
	}
}

func TestMockPassiveResponds(t *testing.T) {
	m := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		text := ev.(*note).Text
		if text == "quiet" {
			return nil, nil
		}
		return stdtypes.ListOf(notes("out", text+"1", text+"2")...), nil
	})
	out, err := m.ApplyEvents(stdtypes.ListOf(notes("mock", "a", "quiet", "b")...))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "a1", "a2", "b1", "b2")
	if got := render(m.Received()); !slices.Equal(got, []string{"a", "quiet", "b"}) {
		t.Errorf("Received() = %q", got)
	}
}

func TestMockPassiveError(t *testing.T) {
	errBad := errors.New("bad")
	var answered []string
	m := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		text := ev.(*note).Text
		answered = append(answered, text)
		if text == "bad" {
			return nil, errBad
		}
		return stdtypes.ListOf(newNote("out", text)), nil
	})
	out, err := m.ApplyEvents(stdtypes.ListOf(notes("mock", "a", "bad", "c")...))
	if !errors.Is(err, errBad) || out != nil {
		t.Errorf("ApplyEvents = %v, %v; want no output and %v", out, err, errBad)
	}
	if !slices.Equal(answered, []string{"a", "bad"}) {
		t.Errorf("respond called for %q, want it to stop at the error", answered)
	}
	// The whole batch is recorded all the same: it was received.
	if got := render(m.Received()); !slices.Equal(got, []string{"a", "bad", "c"}) {
		t.Errorf("Received() = %q", got)
	}
}

// TestMockPassiveConcurrentInspection reads the mock from the test while
// another goroutine applies events, as a test does while a node runs; the
// race detector checks the locking.
func TestMockPassiveConcurrentInspection(t *testing.T) {
	m := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		return stdtypes.ListOf(ev), nil
	})
	const batches = 200
	var wg sync.WaitGroup
	wg.Go(func() {
		for range batches {
			if _, err := m.ApplyEvents(stdtypes.ListOf(notes("mock", "x", "y")...)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for {
		// Batches first: the events of every batch counted are recorded.
		n := m.Batches()
		if got := len(m.Received()); got < 2*n {
			t.Fatalf("%d events received in at least %d batches of 2", got, n)
		}
		if n == batches {
			break
		}
		time.Sleep(10 * time.Microsecond)
	}
	wg.Wait()
	if got := len(m.Received()); got != 2*batches {
		t.Errorf("%d events received, want %d", got, 2*batches)
	}
}

func TestMockActiveTryEmitAndPending(t *testing.T) {
	m := modules.NewMockActive(2, nil)
	a, b, c := stdtypes.ListOf(newNote("x", "a")), stdtypes.ListOf(newNote("x", "b")), stdtypes.ListOf(newNote("x", "c"))
	if m.Pending() != 0 {
		t.Errorf("new mock: Pending() = %d", m.Pending())
	}
	if !m.TryEmit(a) || !m.TryEmit(b) {
		t.Fatal("TryEmit failed with room in the channel")
	}
	if m.Pending() != 2 {
		t.Errorf("Pending() = %d, want 2", m.Pending())
	}
	if m.TryEmit(c) {
		t.Error("TryEmit succeeded on a full channel")
	}
	out := m.EventsOut()
	if got := <-out; got != a {
		t.Errorf("first emitted list %q, want a", render(got.Slice()))
	}
	if m.Pending() != 1 {
		t.Errorf("Pending() = %d after one read, want 1", m.Pending())
	}
	if !m.TryEmit(c) {
		t.Error("TryEmit failed after a read made room")
	}
	if got := <-out; got != b {
		t.Errorf("second emitted list %q, want b", render(got.Slice()))
	}
	if got := <-out; got != c {
		t.Errorf("third emitted list %q, want c", render(got.Slice()))
	}
	if m.Pending() != 0 {
		t.Errorf("Pending() = %d after reading all, want 0", m.Pending())
	}

	unbuffered := modules.NewMockActive(0, nil)
	if unbuffered.TryEmit(a) {
		t.Error("TryEmit succeeded with capacity 0 and no reader")
	}
}

func TestMockActiveEmit(t *testing.T) {
	m := modules.NewMockActive(1, nil)
	a, b := stdtypes.ListOf(newNote("x", "a")), stdtypes.ListOf(newNote("x", "b"))
	if !m.Emit(t.Context(), a) {
		t.Fatal("Emit failed with room in the channel")
	}

	// The channel is full: Emit gives up when its context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if m.Emit(ctx, b) {
		t.Fatal("Emit on a full channel succeeded without a reader")
	}
	if m.Pending() != 1 {
		t.Errorf("Pending() = %d after a failed Emit, want 1", m.Pending())
	}

	// Emit blocks until the reader makes room.
	sent := make(chan bool)
	go func() { sent <- m.Emit(t.Context(), b) }()
	select {
	case <-sent:
		t.Fatal("Emit returned while the channel was full")
	case <-time.After(10 * time.Millisecond):
	}
	if got := <-m.EventsOut(); got != a {
		t.Errorf("first emitted list %q, want a", render(got.Slice()))
	}
	if !<-sent {
		t.Error("blocked Emit failed after a read made room")
	}
	if got := <-m.EventsOut(); got != b {
		t.Errorf("second emitted list %q, want b", render(got.Slice()))
	}
}

func TestMockActiveApplyEvents(t *testing.T) {
	errStop := errors.New("stop")
	type call struct {
		ctx    context.Context
		events []string
	}
	var calls []call
	m := modules.NewMockActive(1, func(ctx context.Context, events *stdtypes.EventList) error {
		calls = append(calls, call{ctx, render(events.Slice())})
		if events.Len() > 0 && events.Get(0).(*note).Text == "stop" {
			return errStop
		}
		return nil
	})
	type ctxKey struct{}
	ctx := context.WithValue(t.Context(), ctxKey{}, "mine")

	if err := m.ApplyEvents(ctx, stdtypes.ListOf(notes("m", "a", "b")...)); err != nil {
		t.Fatal(err)
	}
	if err := m.ApplyEvents(ctx, stdtypes.ListOf(notes("m", "stop")...)); err != errStop {
		t.Errorf("ApplyEvents = %v, want the hook's error %v", err, errStop)
	}
	if len(calls) != 2 {
		t.Fatalf("hook called %d times, want 2", len(calls))
	}
	if calls[0].ctx.Value(ctxKey{}) != "mine" {
		t.Error("hook did not get the context given to ApplyEvents")
	}
	if !slices.Equal(calls[0].events, []string{"a", "b"}) || !slices.Equal(calls[1].events, []string{"stop"}) {
		t.Errorf("hook saw %q and %q", calls[0].events, calls[1].events)
	}
	// Recorded even when the hook fails.
	if got := render(m.Received()); !slices.Equal(got, []string{"a", "b", "stop"}) {
		t.Errorf("Received() = %q", got)
	}
	got := m.Received()
	got[0] = newNote("m", "changed")
	if got := render(m.Received()); got[0] != "a" {
		t.Errorf("changing what Received returned changed the record to %q", got)
	}

	// Without a hook, ApplyEvents only records.
	plain := modules.NewMockActive(0, nil)
	if err := plain.ApplyEvents(t.Context(), stdtypes.ListOf(newNote("m", "x"))); err != nil {
		t.Errorf("ApplyEvents without hook = %v", err)
	}
	if got := render(plain.Received()); !slices.Equal(got, []string{"x"}) {
		t.Errorf("Received() = %q", got)
	}
}

func TestMockActiveConcurrent(t *testing.T) {
	m := modules.NewMockActive(4, nil)
	const n = 100
	var wg sync.WaitGroup
	wg.Go(func() {
		for range n {
			if err := m.ApplyEvents(t.Context(), stdtypes.ListOf(newNote("m", "x"))); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Go(func() {
		for range n {
			if !m.Emit(t.Context(), stdtypes.ListOf(newNote("out", "y"))) {
				t.Error("Emit failed")
				return
			}
		}
	})
	for range n {
		<-m.EventsOut()
		_ = m.Received()
	}
	wg.Wait()
	if got := len(m.Received()); got != n {
		t.Errorf("%d events received, want %d", got, n)
	}
}
