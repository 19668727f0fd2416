package iss

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// harness drives one ISS module event by event, as a node would, and
// keeps its output.
type harness struct {
	t      *testing.T
	m      *Module
	mc     ModuleConfig
	params Params
}

// testParams are small: 4 voters, 2 slots per segment, 8 buckets,
// AllLeaders, ConfigOffset 1.
func testParams() Params {
	p := DefaultParams(fourVoters)
	p.SegmentLength = 2
	p.NumBuckets = 8
	p.LeaderPolicy = PolicyAllLeaders
	p.ConfigOffset = 1
	return p
}

// newHarness returns ISS for node n0 with params; it has not had its Init.
func newHarness(t *testing.T, params Params) *harness {
	t.Helper()
	mc := DefaultModuleConfig()
	m, err := New("n0", mc, params, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, m: m, mc: mc, params: params}
}

// started returns ISS for n0 with params, started from nothing, and the
// output of its start.
func started(t *testing.T, params Params) (*harness, []stdtypes.Event) {
	t.Helper()
	h := newHarness(t, params)
	out := h.apply(stdevents.NewInit("iss"))
	if len(out) != 1 {
		t.Fatalf("Init output %v, want one RecoveryDone", out)
	}
	if _, ok := out[0].(*RecoveryDone); !ok || out[0].Dest() != "iss" {
		t.Fatalf("Init output %T to %s, want a RecoveryDone to iss", out[0], out[0].Dest())
	}
	return h, h.apply(out[0])
}

// apply hands evs to ISS as one batch and returns the output; an error
// fails the test.
func (h *harness) apply(evs ...stdtypes.Event) []stdtypes.Event {
	h.t.Helper()
	out, err := h.m.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		h.t.Fatalf("ApplyEvents: %v", err)
	}
	return out.Slice()
}

// applyErr hands evs to ISS and returns its error.
func (h *harness) applyErr(evs ...stdtypes.Event) error {
	_, err := h.m.ApplyEvents(stdtypes.ListOf(evs...))
	return err
}

// deliverEpoch delivers every slot of epoch e's segments, in segment
// order, with value "v<sn>", except the slots in aborted, which are ⊥.
func (h *harness) deliverEpoch(e stdtypes.EpochNr, aborted ...stdtypes.SeqNr) []stdtypes.Event {
	h.t.Helper()
	ep := h.m.epochs[e]
	if ep == nil {
		h.t.Fatalf("epoch %d not started", e)
	}
	var out []stdtypes.Event
	for _, seg := range ep.segments {
		for _, sn := range seg.SeqNrs {
			out = append(out, h.apply(sbDeliver(e, seg.Index, sn, slices.Contains(aborted, sn)))...)
		}
	}
	return out
}

// sbDeliver returns orderer (e, seg)'s delivery of slot sn: "v<sn>", or ⊥.
func sbDeliver(e stdtypes.EpochNr, seg int, sn stdtypes.SeqNr, aborted bool) *SBDeliver {
	ev := &SBDeliver{Header: stdtypes.NewHeader("iss"), Epoch: e, Segment: seg, SeqNr: sn, Aborted: aborted}
	if !aborted {
		ev.Value = []byte(fmt.Sprintf("v%d", sn))
	}
	return ev
}

// snapshot returns the application's answer for epoch e.
func snapshot(e stdtypes.EpochNr, next membership.Voters) *Snapshot {
	return &Snapshot{Header: stdtypes.NewHeader("iss"), Epoch: e, Data: []byte(fmt.Sprintf("app after %d", e)), NextVoters: next}
}

// ofType returns the events of type T in evs, in order.
func ofType[T stdtypes.Event](evs []stdtypes.Event) []T {
	var out []T
	for _, ev := range evs {
		if x, ok := ev.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// delivered renders the Delivers in evs: "sn:value" or "sn:⊥".
func delivered(evs []stdtypes.Event) []string {
	var out []string
	for _, d := range ofType[*Deliver](evs) {
		if d.Aborted {
			out = append(out, fmt.Sprintf("%d:⊥", d.SeqNr))
		} else {
			out = append(out, fmt.Sprintf("%d:%s", d.SeqNr, d.Value))
		}
	}
	return out
}

// created returns the orderers ISS asked the factory for in evs, and
// their segments.
func created(evs []stdtypes.Event) ([]stdtypes.ModuleID, []Segment) {
	var ids []stdtypes.ModuleID
	var segs []Segment
	for _, ns := range ofType[*stdevents.NewSubmodule](evs) {
		ids = append(ids, ns.SubmoduleID)
		segs = append(segs, ns.Params.(Segment))
	}
	return ids, segs
}

// stable returns a Stable for state st, with a certificate that matches.
func stable(st checkpoint.State) *checkpoint.Stable {
	return &checkpoint.Stable{
		Header: stdtypes.NewHeader("iss"),
		Cert:   checkpoint.Certificate{Epoch: st.Epoch, SeqNr: st.SeqNr, StateHash: []byte("h")},
		State:  st,
	}
}
