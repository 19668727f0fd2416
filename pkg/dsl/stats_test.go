package dsl_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/stdtypes"
)

// protoStats is a protocol's own counters, with the module's folded in.
type protoStats struct {
	Handled uint64
	dsl.Stats
}

// TestModuleWithStats: the wrapped module runs the handlers, and Stats and
// ReportStats are the protocol's counters with the module's own, as they
// are when asked.
func TestModuleWithStats(t *testing.T) {
	m := dsl.NewModule(self)
	var handled uint64
	dsl.UponEvent(m, func(*ev0) error { handled++; return nil })
	dsl.UponMessageReceived(m, func(stdtypes.NodeID, *msg0) error { return dsl.Drop("bad") })
	wm := dsl.NewModuleWithStats(m, func(s dsl.Stats) protoStats { return protoStats{Handled: handled, Stats: s} })

	if got := wm.Stats(); got != (protoStats{}) {
		t.Errorf("Stats before any event = %+v", got)
	}
	out, err := wm.ApplyEvents(stdtypes.ListOf(&ev0{Header: hdr()}, recv("1", &msg0{}), recv("1", &msg1{}), &ev0{Header: hdr()}))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("output %v, want none", out.Slice())
	}
	want := protoStats{Handled: 2, Stats: dsl.Stats{DroppedMessages: 1, UnknownMessages: 1}}
	if got := wm.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if got := wm.ReportStats(); got != any(want) {
		t.Errorf("ReportStats = %#v, want %#v", got, want)
	}
	if _, err := wm.ApplyEvents(stdtypes.ListOf(&ev1{hdr()})); err == nil {
		t.Error("an event nobody handles went through the wrapper without an error")
	}
}
