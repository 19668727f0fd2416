package main

import (
	"context"
	"testing"
	"time"

	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdtypes"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{ms(5), 50, 5 * time.Millisecond},
		{ms(5), 99, 5 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2, 3), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{ms(1, 2, 3, 4), 1, 1 * time.Millisecond},
	}
	for _, c := range cases {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("percentile(%v, %d) = %v, want %v", c.sorted, c.p, got, c.want)
		}
	}
	// p99 of 1..100 and 1..200 by nearest rank.
	var hundred, twoHundred []int
	for i := 1; i <= 200; i++ {
		if i <= 100 {
			hundred = append(hundred, i)
		}
		twoHundred = append(twoHundred, i)
	}
	if got := percentile(ms(hundred...), 99); got != 99*time.Millisecond {
		t.Errorf("p99 of 1..100 = %v, want 99ms", got)
	}
	if got := percentile(ms(twoHundred...), 99); got != 198*time.Millisecond {
		t.Errorf("p99 of 1..200 = %v, want 198ms", got)
	}
}

func TestReporter(t *testing.T) {
	r := newReporter(2, 4)
	apply := func(evs ...stdtypes.Event) {
		t.Helper()
		if err := r.ApplyEvents(context.Background(), stdtypes.ListOf(evs...)); err != nil {
			t.Fatal(err)
		}
	}
	apply(protocol.NewPingSent("reporter", 1), protocol.NewPingSent("reporter", 2))
	time.Sleep(time.Millisecond)
	apply(protocol.NewPongReceived("reporter", "1", 2))
	apply(protocol.NewPongReceived("reporter", "1", 1), protocol.NewFinished("reporter"))
	apply(protocol.NewFinished("reporter")) // A second one is harmless.

	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after Finished")
	}
	s := r.Summary()
	if s.PingsSent != 2 || s.PongsReceived != 2 {
		t.Errorf("summary %+v, want 2 pings and 2 pongs", s)
	}
	if s.Min < time.Millisecond || s.Min > s.Median || s.Median > s.P99 || s.P99 > s.Max {
		t.Errorf("summary %+v: want 1ms <= min <= median <= p99 <= max", s)
	}
	if got := <-r.Lines(); got[:15] != "pong 1/2 seq=2 " {
		t.Errorf("first progress line %q, want it for seq 2", got)
	}
	if err := r.ApplyEvents(context.Background(), stdtypes.ListOf(protocol.NewTick("reporter"))); err == nil {
		t.Error("an unexpected event gave no error")
	}
}
