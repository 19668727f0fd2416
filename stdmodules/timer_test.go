package stdmodules

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Timing in these tests is one-sided on purpose: an emission must arrive
// within eventually (generous, for loaded machines and the race detector),
// and may be checked not to arrive before its deadline, which holds however
// slow the machine is. Nothing asserts that an emission came on time.
const eventually = 2 * time.Second

// quiet is how long a test watches for an emission that must never come.
// It cannot prove a negative; it catches the bug most of the time.
const quiet = 50 * time.Millisecond

const timerID = stdtypes.ModuleID("timer")

// newTestTimer returns a timer and a context that ends with the test.
func newTestTimer(t *testing.T) (*Timer, context.Context) {
	t.Helper()
	return NewTimer(timerID, nil), t.Context()
}

func apply(t *testing.T, tm *Timer, ctx context.Context, evs ...stdtypes.Event) {
	t.Helper()
	if err := tm.ApplyEvents(ctx, stdtypes.ListOf(evs...)); err != nil {
		t.Fatalf("ApplyEvents: %v", err)
	}
}

// receive returns the next list the timer emits, failing the test if none
// comes within eventually.
func receive(t *testing.T, tm *Timer) *stdtypes.EventList {
	t.Helper()
	select {
	case l := <-tm.EventsOut():
		return l
	case <-time.After(eventually):
		t.Fatalf("nothing emitted within %v", eventually)
		return nil
	}
}

// expectQuiet fails the test if the timer emits within quiet.
func expectQuiet(t *testing.T, tm *Timer) {
	t.Helper()
	select {
	case l := <-tm.EventsOut():
		t.Fatalf("unexpected emission %s", join(render(l.Slice()...)))
	case <-time.After(quiet):
	}
}

func TestTimerDelayFiresOnceAfterDelay(t *testing.T) {
	tm, ctx := newTestTimer(t)
	a, b := newNote("proto", "a"), newNote("proto", "b")
	const delay = 10 * time.Millisecond
	start := time.Now()
	apply(t, tm, ctx, stdevents.NewInit(timerID), stdevents.NewTimerDelay(timerID, delay, a, b))
	got := receive(t, tm)
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("emitted after %v, before the delay of %v", elapsed, delay)
	}
	if !slices.Equal(got.Slice(), []stdtypes.Event{a, b}) {
		t.Errorf("emitted %s, want the requested events [a, b]", join(render(got.Slice()...)))
	}
	expectQuiet(t, tm)
}

func TestTimerZeroDelayFires(t *testing.T) {
	tm, ctx := newTestTimer(t)
	apply(t, tm, ctx, stdevents.NewTimerDelay(timerID, 0, newNote("proto", "now")))
	if got := join(render(receive(t, tm).Slice()...)); got != "[now]" {
		t.Errorf("emitted %s, want [now]", got)
	}
}

func TestTimerDelaysEmitInDeadlineOrder(t *testing.T) {
	tm, ctx := newTestTimer(t)
	apply(t, tm, ctx,
		stdevents.NewTimerDelay(timerID, 30*time.Millisecond, newNote("proto", "late")),
		stdevents.NewTimerDelay(timerID, 5*time.Millisecond, newNote("proto", "early")),
	)
	// The two may come in one list if the scheduler wakes late; either
	// way, early comes first.
	var got []string
	for len(got) < 2 {
		got = append(got, render(receive(t, tm).Slice()...)...)
	}
	if join(got) != "[early, late]" {
		t.Errorf("emitted %s, want [early, late]", join(got))
	}
}

func TestTimerRepeatEmitsEveryPeriod(t *testing.T) {
	tm, ctx := newTestTimer(t)
	tick := newNote("proto", "tick")
	const period = 5 * time.Millisecond
	start := time.Now()
	apply(t, tm, ctx, stdevents.NewTimerRepeat(timerID, period, 0, tick))
	var lists []*stdtypes.EventList
	for i := range 4 {
		l := receive(t, tm)
		if i == 0 {
			if elapsed := time.Since(start); elapsed < period {
				t.Errorf("first emission after %v, before one period (%v)", elapsed, period)
			}
		}
		// The same event value every time; a fresh list every time,
		// since the node owns each list it receives.
		if !slices.Equal(l.Slice(), []stdtypes.Event{tick}) {
			t.Fatalf("emission %d is %s, want the requested tick", i, join(render(l.Slice()...)))
		}
		if slices.Contains(lists, l) {
			t.Fatalf("emission %d reuses an earlier list", i)
		}
		lists = append(lists, l)
	}
}

func TestTimerGarbageCollectStopsLowerRepeats(t *testing.T) {
	tm, ctx := newTestTimer(t)
	const period = 5 * time.Millisecond
	apply(t, tm, ctx,
		stdevents.NewTimerRepeat(timerID, period, 1, newNote("proto", "low")),
		stdevents.NewTimerRepeat(timerID, period, 2, newNote("proto", "kept")),
		stdevents.NewTimerRepeat(timerID, period, 3, newNote("proto", "high")),
		stdevents.NewTimerDelay(timerID, 4*period, newNote("proto", "oneshot")),
	)
	// Let every timer fire at least once.
	seen := map[string]int{}
	for seen["low"] == 0 || seen["kept"] == 0 || seen["high"] == 0 {
		for _, s := range render(receive(t, tm).Slice()...) {
			seen[s]++
		}
	}
	apply(t, tm, ctx,
		stdevents.NewTimerGarbageCollect(timerID, 2),
		// Below the collected index: ignored.
		stdevents.NewTimerRepeat(timerID, period, 1, newNote("proto", "stale")),
	)
	// The scheduler may have taken one list off the queue before the
	// collection and be waiting to hand it over; after that, "low" and
	// "stale" must never come again.
	first := true
	oneshots := seen["oneshot"]
	seen = map[string]int{}
	for seen["kept"] < 5 || seen["high"] < 5 {
		got := render(receive(t, tm).Slice()...)
		for _, s := range got {
			if (s == "low" && !first) || s == "stale" {
				t.Fatalf("%s emitted after garbage collection at index 2: %s", s, join(got))
			}
			seen[s]++
		}
		first = false
	}
	// One-shot timers are not collected. Its deadline (4 periods after
	// the request) is earlier than that of the sixth "kept", and the timer
	// emits in deadline order, so it has come by now, before or after the
	// collection.
	if oneshots += seen["oneshot"]; oneshots != 1 {
		t.Errorf("one-shot timer emitted %d times, want 1", oneshots)
	}
}

// TestTimerGarbageCollectInFlight: a repeating timer collected while the
// scheduler waits to hand over its emission is emitted that once more at
// most, and not rescheduled.
func TestTimerGarbageCollectInFlight(t *testing.T) {
	tm, ctx := newTestTimer(t)
	apply(t, tm, ctx, stdevents.NewTimerRepeat(timerID, time.Millisecond, 1, newNote("proto", "tick")))
	receive(t, tm)
	time.Sleep(20 * time.Millisecond) // nobody reads: the next tick waits in the scheduler
	apply(t, tm, ctx, stdevents.NewTimerGarbageCollect(timerID, 2))
	n := 0
	for {
		select {
		case <-tm.EventsOut():
			if n++; n > 1 {
				t.Fatalf("%d emissions after the collection, want at most the one under way", n)
			}
			continue
		case <-time.After(quiet):
		}
		return
	}
}

func TestTimerRejectsInvalidEvents(t *testing.T) {
	ok := newNote("proto", "ok")
	tests := []struct {
		name    string
		ev      stdtypes.Event
		wantErr string
	}{
		{"negative delay", stdevents.NewTimerDelay(timerID, -time.Millisecond, ok), "negative delay"},
		{"zero period", stdevents.NewTimerRepeat(timerID, 0, 0, ok), "period 0s is not positive"},
		{"negative period", stdevents.NewTimerRepeat(timerID, -time.Second, 0, ok), "is not positive"},
		{"nil event to emit", stdevents.NewTimerDelay(timerID, 0, ok, nil), "event 1 is nil"},
		{"event to emit without destination", stdevents.NewTimerRepeat(timerID, time.Second, 0, newNote("", "x")), "event 0 (stdmodules.note)"},
		{"unknown event type", newNote(timerID, "what"), "unexpected event stdmodules.note"},
		{"garbage collect meant for a factory", stdevents.NewGarbageCollect(timerID, 1), "unexpected event stdevents.GarbageCollect"},
		{"nil event", nil, "nil event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tm, ctx := newTestTimer(t)
			// A valid request ahead of the bad one in the same batch is
			// not scheduled either.
			err := tm.ApplyEvents(ctx, stdtypes.ListOf(stdevents.NewTimerDelay(timerID, 0, ok), tt.ev))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `timer "timer"`) {
				t.Fatalf("error %v, want one naming the timer and containing %q", err, tt.wantErr)
			}
			expectQuiet(t, tm)
		})
	}
}

func TestTimerInitAndEmptyRequestsEmitNothing(t *testing.T) {
	tm, ctx := newTestTimer(t)
	apply(t, tm, ctx,
		stdevents.NewInit(timerID),
		stdevents.NewTimerDelay(timerID, 0),
		stdevents.NewTimerRepeat(timerID, time.Millisecond, 0),
		stdevents.NewTimerGarbageCollect(timerID, 0),
	)
	expectQuiet(t, tm)
}

// TestTimerCancelEndsGoroutines: when the context ends, the scheduler ends,
// with timers still pending.
func TestTimerCancelEndsGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t)
	tm := NewTimer(timerID, nil)
	ctx, cancel := context.WithCancel(context.Background())
	apply(t, tm, ctx,
		stdevents.NewTimerRepeat(timerID, time.Millisecond, 0, newNote("proto", "tick")),
		stdevents.NewTimerDelay(timerID, time.Hour, newNote("proto", "never")),
	)
	receive(t, tm)
	cancel()
}

// TestTimerBackpressure: while nobody reads EventsOut the scheduler waits
// to hand over its list, ApplyEvents still returns at once, and ending the
// context still ends the scheduler.
func TestTimerBackpressure(t *testing.T) {
	defer goleak.VerifyNone(t)
	tm := NewTimer(timerID, nil)
	ctx, cancel := context.WithCancel(context.Background())
	apply(t, tm, ctx, stdevents.NewTimerRepeat(timerID, time.Millisecond, 0, newNote("proto", "tick")))
	time.Sleep(20 * time.Millisecond) // the scheduler is now blocked on EventsOut
	done := make(chan error, 1)
	go func() {
		done <- tm.ApplyEvents(ctx, stdtypes.ListOf(stdevents.NewTimerDelay(timerID, 0, newNote("proto", "more"))))
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ApplyEvents: %v", err)
		}
	case <-time.After(eventually):
		t.Fatal("ApplyEvents blocked while the node was not reading")
	}
	cancel()
}

// TestTimerKeepsDueEventsAcrossRuns: events that were due but not handed
// over when the context ended are emitted by the scheduler of the next
// context, not lost.
func TestTimerKeepsDueEventsAcrossRuns(t *testing.T) {
	tm := NewTimer(timerID, nil)
	ctx1, cancel1 := context.WithCancel(context.Background())
	apply(t, tm, ctx1, stdevents.NewTimerDelay(timerID, 0, newNote("proto", "due")))
	time.Sleep(10 * time.Millisecond) // nobody reads: the scheduler waits
	cancel1()

	apply(t, tm, t.Context(), stdevents.NewInit(timerID))
	if got := join(render(receive(t, tm).Slice()...)); got != "[due]" {
		t.Errorf("emitted %s, want [due]", got)
	}
}

// TestTimerHugeDelayNeverFires: a delay so long that its deadline passes
// the end of time never falls due; it does not wrap around to the past.
func TestTimerHugeDelayNeverFires(t *testing.T) {
	tm, ctx := newTestTimer(t)
	const forever = time.Duration(math.MaxInt64)
	apply(t, tm, ctx, stdevents.NewInit(timerID),
		stdevents.NewTimerDelay(timerID, forever, newNote("proto", "never")),
		stdevents.NewTimerRepeat(timerID, forever-time.Nanosecond, 1, newNote("proto", "never again")))
	expectQuiet(t, tm)
}
