package isstest_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

const (
	appID   stdtypes.ModuleID = isstest.DefaultID
	ordID   stdtypes.ModuleID = "ordering/0.0"
	issID   stdtypes.ModuleID = "iss"
	buckets                   = 4
)

// testApp is an App under test with its reports.
type testApp struct {
	t       testing.TB
	app     *isstest.App
	reports []isstest.Report
}

func newTestApp(t testing.TB, change func(p *isstest.Params)) *testApp {
	t.Helper()
	ta := &testApp{t: t}
	p := isstest.DefaultParams("1")
	p.NumBuckets = buckets
	p.Observer = func(r isstest.Report) { ta.reports = append(ta.reports, r) }
	if change != nil {
		change(&p)
	}
	app, err := isstest.New(p)
	if err != nil {
		t.Fatal(err)
	}
	ta.app = app
	ta.apply(stdevents.NewInit(appID))
	return ta
}

// apply applies evs and returns the output, failing the test on an error.
func (ta *testApp) apply(evs ...stdtypes.Event) []stdtypes.Event {
	ta.t.Helper()
	out, err := ta.app.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		ta.t.Fatal(err)
	}
	return out.Slice()
}

// applyErr applies evs and returns the error.
func (ta *testApp) applyErr(evs ...stdtypes.Event) error {
	_, err := ta.app.ApplyEvents(stdtypes.ListOf(evs...))
	return err
}

// inBucket returns the first n requests of client c, from seq from on,
// that fall in bucket b.
func inBucket(c string, b int, from uint64, n int) []isstest.Request {
	var out []isstest.Request
	for seq := from; len(out) < n; seq++ {
		id := isstest.RequestID{Client: c, Seq: seq}
		if isstest.BucketOf(id, buckets) == b {
			out = append(out, isstest.Request{RequestID: id, Payload: []byte(id.String())})
		}
	}
	return out
}

func submit(r isstest.Request) *isstest.Submit {
	return isstest.NewSubmit(appID, r.Client, r.Seq, r.Payload)
}

func submitAll(reqs []isstest.Request) []stdtypes.Event {
	evs := make([]stdtypes.Event, len(reqs))
	for i, r := range reqs {
		evs[i] = submit(r)
	}
	return evs
}

func requestProposal(sn stdtypes.SeqNr, bs ...int) *iss.RequestProposal {
	return iss.NewRequestProposal(appID, ordID, 0, sn, bs)
}

func deliver(sn stdtypes.SeqNr, value []byte) *iss.Deliver {
	return &iss.Deliver{Header: stdtypes.NewHeader(appID), SeqNr: sn, Value: value, Aborted: value == nil}
}

func verify(ref uint64, value []byte, bs ...int) *iss.VerifyProposal {
	return &iss.VerifyProposal{Header: stdtypes.NewHeader(appID), ReplyTo: ordID, Ref: ref, Leader: "0", Buckets: bs, Value: value}
}

// proposal returns the one Proposal in out, decoded.
func proposal(t *testing.T, out []stdtypes.Event, sn stdtypes.SeqNr) []isstest.Request {
	t.Helper()
	if len(out) != 1 {
		t.Fatalf("output %v, want one Proposal", out)
	}
	p, ok := out[0].(*iss.Proposal)
	if !ok || p.Dest() != ordID || p.SeqNr != sn {
		t.Fatalf("output %#v, want a Proposal for slot %d to %s", out[0], sn, ordID)
	}
	reqs, err := isstest.DecodeBatch(p.Value, isstest.Limits{MaxRequests: 1000, MaxBytes: 1 << 20, MaxClientBytes: 64, MaxPayloadBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

func ids(reqs []isstest.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.RequestID.String()
	}
	return out
}

// TestProposeFromBuckets: a RequestProposal gets the pending requests of
// its buckets, oldest first, as many as the limits allow; the next one
// gets the rest; one with nothing to propose is held and answered by the
// next Submit of its buckets.
func TestProposeFromBuckets(t *testing.T) {
	ta := newTestApp(t, func(p *isstest.Params) { p.MaxBatchRequests = 3 })
	b0, b1, b2 := inBucket("c", 0, 0, 3), inBucket("d", 1, 0, 2), inBucket("c", 2, 0, 1)
	// Interleave arrivals: d's first request is the oldest.
	ta.apply(submitAll(append(append(slices.Clone(b1[:1]), b0...), append(b1[1:], b2...)...))...)
	got := ids(proposal(t, ta.apply(requestProposal(0, 0, 1)), 0))
	want := []string{b1[0].RequestID.String(), b0[0].RequestID.String(), b0[1].RequestID.String()}
	if !slices.Equal(got, want) {
		t.Fatalf("first batch %v, want %v (the 3 oldest of buckets 0 and 1)", got, want)
	}
	got = ids(proposal(t, ta.apply(requestProposal(1, 0, 1)), 1))
	if want := ids([]isstest.Request{b0[2], b1[1]}); !slices.Equal(got, want) {
		t.Fatalf("second batch %v, want %v", got, want)
	}
	// Buckets 0 and 1 are exhausted (in flight): held.
	if out := ta.apply(requestProposal(2, 0, 1)); len(out) != 0 {
		t.Fatalf("output %v, want the request held", out)
	}
	// A request of bucket 2 does not answer it; one of bucket 1 does.
	if out := ta.apply(submit(b2[0])); len(out) != 0 {
		// b2[0] was submitted already: a duplicate, refused.
		t.Fatalf("output %v for a duplicate Submit", out)
	}
	if out := ta.apply(submitAll(inBucket("e", 2, 0, 1))...); len(out) != 0 {
		t.Fatalf("output %v for a Submit of another bucket", out)
	}
	late := inBucket("e", 1, 0, 1)
	got = ids(proposal(t, ta.apply(submit(late[0])), 2))
	if want := ids(late); !slices.Equal(got, want) {
		t.Fatalf("held request answered with %v, want %v", got, want)
	}
	if last := ta.reports[len(ta.reports)-1]; last.Kind != isstest.Submitted || last.Rejected != "" || last.Request.RequestID != late[0].RequestID {
		t.Errorf("last report %+v", last)
	}
}

// TestCancelProposal: a slot its orderer proposed without the App's value
// (iss.CancelProposal) gets no batch: the App drops its held
// RequestProposal, so the next request goes to the slot asked for next;
// and if it had answered already, it takes the requests of the answer
// back, and they go to the next slot at once.
func TestCancelProposal(t *testing.T) {
	ta := newTestApp(t, nil)
	// Held for slot 0, which the orderer proposes empty (a Hurry), then
	// asks for slot 4.
	ta.apply(requestProposal(0, 0))
	if out := ta.apply(iss.NewCancelProposal(appID, 0), requestProposal(4, 0)); len(out) != 0 {
		t.Fatalf("output %v, want slot 4 held", out)
	}
	r := inBucket("c", 0, 0, 2)
	if got := ids(proposal(t, ta.apply(submit(r[0])), 4)); !slices.Equal(got, ids(r[:1])) {
		t.Fatalf("batch %v for slot 4, want %v", got, ids(r[:1]))
	}
	// Slot 8: answered, but the orderer had proposed it empty meanwhile;
	// the request comes back for slot 12 at once.
	proposal(t, ta.apply(submit(r[1]), requestProposal(8, 0)), 8)
	ta.apply(requestProposal(12, 0))
	if got := ids(proposal(t, ta.apply(iss.NewCancelProposal(appID, 8)), 12)); !slices.Equal(got, ids(r[1:])) {
		t.Fatalf("batch %v for slot 12, want %v", got, ids(r[1:]))
	}
	if s := ta.app.Stats(); s.Cancelled != 1 || s.TakenBack != 1 {
		t.Errorf("stats %+v, want 1 cancelled, 1 taken back", s)
	}
	// A CancelProposal of a slot neither held nor answered changes
	// nothing.
	if out := ta.apply(iss.NewCancelProposal(appID, 99)); len(out) != 0 {
		t.Errorf("output %v", out)
	}
	if s := ta.app.Stats(); s.Cancelled != 1 || s.TakenBack != 1 || ta.app.Pending() != 2 {
		t.Errorf("stats %+v, %d pending, after cancelling slot 99, want no change", s, ta.app.Pending())
	}
}

// TestProposeBytesLimit: a batch stops before the request that would take
// it over MaxBatchBytes.
func TestProposeBytesLimit(t *testing.T) {
	ta := newTestApp(t, func(p *isstest.Params) { p.MaxBatchBytes = 300; p.MaxPayloadBytes = 200; p.MaxClientBytes = 8 })
	reqs := inBucket("c", 0, 0, 3)
	for i := range reqs {
		reqs[i].Payload = bytes.Repeat([]byte{byte(i)}, 100)
	}
	ta.apply(submitAll(reqs)...)
	out := ta.apply(requestProposal(0, 0))
	if got := proposal(t, out, 0); len(got) != 2 {
		t.Fatalf("batch of %d requests, want 2 within 300 bytes", len(got))
	}
	if n := len(out[0].(*iss.Proposal).Value); n > 300 {
		t.Fatalf("batch of %d bytes", n)
	}
}

// TestSubmitRefused: a Submit is refused, and reported so, when the
// request is pending, executed, beyond its client's window, or the pending
// set is full; a malformed one is an error.
func TestSubmitRefused(t *testing.T) {
	// A window of 16: the two first requests of c in bucket 0 fall in it
	// (c/6 and c/9).
	ta := newTestApp(t, func(p *isstest.Params) { p.MaxPending = 2; p.ClientWindow = 16 })
	r := inBucket("c", 0, 0, 2)
	ta.apply(submit(r[0]), submit(r[0]))
	batch := proposal(t, ta.apply(requestProposal(0, 0)), 0)
	ta.apply(deliver(0, isstest.EncodeBatch(batch)))
	ta.apply(submit(r[0]), isstest.NewSubmit(appID, "c", 16, nil), submit(r[1]),
		isstest.NewSubmit(appID, "d", 0, nil), isstest.NewSubmit(appID, "e", 0, nil))
	var reasons []string
	for _, rep := range ta.reports {
		if rep.Kind == isstest.Submitted {
			reasons = append(reasons, rep.Rejected)
		}
	}
	want := []string{"", "pending", "executed", "beyond the client's window", "", "", "pending set full"}
	if !slices.Equal(reasons, want) {
		t.Fatalf("reasons %q, want %q", reasons, want)
	}
	if st := ta.app.Stats(); st.SubmitPending != 1 || st.SubmitExecuted != 1 || st.SubmitBeyondWindow != 1 || st.SubmitPendingFull != 1 {
		t.Errorf("stats %+v", st)
	}
	for _, bad := range []*isstest.Submit{
		isstest.NewSubmit(appID, "", 0, nil),
		isstest.NewSubmit(appID, strings.Repeat("x", 65), 0, nil),
		isstest.NewSubmit(appID, "c", 0, make([]byte, 4<<10+1)),
		isstest.NewSubmit(appID, "c", isstest.MaxSeq+1, nil),
	} {
		if err := ta.applyErr(bad); err == nil || !strings.Contains(err.Error(), "isstest.Submit") {
			t.Errorf("Submit %q/%d with %d bytes: error %v, want one naming the event", bad.Client, bad.Seq, len(bad.Payload), err)
		}
	}
}

// TestVerify: the validator accepts the batches a correct leader makes
// and refuses the others, saying why, with the orderer's Ref.
func TestVerify(t *testing.T) {
	ta := newTestApp(t, nil)
	b0 := inBucket("c", 0, 0, 3)
	b1 := inBucket("c", 1, 0, 1)
	ta.apply(deliver(0, isstest.EncodeBatch(b0[:1])))
	cases := []struct {
		name  string
		value []byte
		want  string
	}{
		{"valid", isstest.EncodeBatch(b0[1:]), ""},
		{"empty value", nil, ""},
		{"other bucket", isstest.EncodeBatch(append(b0[1:2:2], b1...)), "not in the leader's buckets"},
		{"executed", isstest.EncodeBatch(b0[:2]), "executed already"},
		{"twice", isstest.EncodeBatch([]isstest.Request{b0[1], b0[2], b0[1]}), "twice"},
		{"garbage", []byte("garbage"), "invalid batch"},
		{"empty batch", isstest.EncodeBatch(nil), "no requests"},
	}
	for i, c := range cases {
		out := ta.apply(verify(uint64(i), c.value, 0, 2))
		v, ok := out[0].(*iss.ProposalVerified)
		if len(out) != 1 || !ok || v.Dest() != ordID || v.Ref != uint64(i) {
			t.Fatalf("%s: output %v", c.name, out)
		}
		if (c.want == "") != (v.Err == "") || !strings.Contains(v.Err, c.want) {
			t.Errorf("%s: Err %q, want %q", c.name, v.Err, c.want)
		}
	}
	if err := ta.applyErr(verify(9, nil, 1, 0)); err == nil {
		t.Error("buckets out of order accepted")
	}
	if err := ta.applyErr(verify(9, nil, buckets)); err == nil {
		t.Error("a bucket out of range accepted")
	}
}

// TestDeliver: slots are executed in order, a request executed before is
// dropped, the chain links every slot, and a gap or a slot delivered
// twice is an error.
func TestDeliver(t *testing.T) {
	ta := newTestApp(t, nil)
	r := inBucket("c", 0, 0, 3)
	v0 := isstest.EncodeBatch(r[:2])
	v2 := isstest.EncodeBatch([]isstest.Request{r[1], r[2], r[2]})
	ta.apply(deliver(0, v0), deliver(1, nil), deliver(2, v2), deliver(3, []byte("junk")))
	if len(ta.reports) != 4 {
		t.Fatalf("%d reports, want 4", len(ta.reports))
	}
	var chain isstest.Digest
	for i, rep := range ta.reports {
		chain = isstest.ChainNext(chain, stdtypes.SeqNr(i), rep.Aborted, rep.Value)
		if rep.Kind != isstest.Delivered || rep.SeqNr != stdtypes.SeqNr(i) || rep.Chain != chain {
			t.Errorf("report %d: %+v, chain %v", i, rep, chain)
		}
	}
	if got := ids(ta.reports[2].Executed); !slices.Equal(got, ids(r[2:3])) || ta.reports[2].Dropped != 2 {
		t.Errorf("slot 2 executed %v, dropped %d; want %v and 2 dropped", got, ta.reports[2].Dropped, ids(r[2:3]))
	}
	if !ta.reports[1].Aborted || ta.reports[3].Invalid == "" || len(ta.reports[3].Executed) != 0 {
		t.Errorf("reports %+v %+v", ta.reports[1], ta.reports[3])
	}
	for _, bad := range []stdtypes.Event{deliver(3, nil), deliver(5, nil),
		&iss.Deliver{Header: stdtypes.NewHeader(appID), SeqNr: 4, Aborted: true, Value: []byte{1}}} {
		if err := ta.applyErr(bad); err == nil || !strings.Contains(err.Error(), "iss.Deliver") {
			t.Errorf("%+v: error %v", bad, err)
		}
	}
	if ta.app.NextSeqNr() != 4 {
		t.Errorf("next slot %d after errors, want 4", ta.app.NextSeqNr())
	}
}

// TestDeliverSettlesPending: executed requests leave the pending set; a
// request proposed in a slot delivered as ⊥ or with another value is
// proposed again; a held request of a delivered slot is dropped.
func TestDeliverSettlesPending(t *testing.T) {
	ta := newTestApp(t, nil)
	r := inBucket("c", 0, 0, 2)
	ta.apply(submit(r[0]))
	proposal(t, ta.apply(requestProposal(0, 0)), 0)
	// Nothing else to propose: held.
	if out := ta.apply(requestProposal(1, 0)); len(out) != 0 {
		t.Fatalf("output %v, want the request held", out)
	}
	// Slot 0 is ⊥: r[0] is proposable again, and goes to the held
	// request at once.
	if got := ids(proposal(t, ta.apply(deliver(0, nil)), 1)); !slices.Equal(got, ids(r[:1])) {
		t.Fatalf("after ⊥, batch %v, want %v", got, ids(r[:1]))
	}
	ta.apply(deliver(1, isstest.EncodeBatch(r[:1])))
	if ta.app.Pending() != 0 || !ta.app.Executed(r[0].RequestID) {
		t.Fatalf("pending %d, executed %v", ta.app.Pending(), ta.app.Executed(r[0].RequestID))
	}
	// Held for slot 2, which is delivered (empty) meanwhile: a later
	// Submit goes to the request of slot 3.
	ta.apply(requestProposal(2, 0), requestProposal(3, 0))
	ta.apply(deliver(2, []byte{}))
	proposal(t, ta.apply(submit(r[1])), 3)
	// A stale request is counted and not answered.
	if out := ta.apply(requestProposal(1, 0)); len(out) != 0 || ta.app.Stats().StaleRequests != 1 {
		t.Errorf("stale request: output %v, stats %+v", out, ta.app.Stats())
	}
}

// TestSnapshotRestore: a snapshot taken after some slots, restored into a
// new App, gives the same state: the same chain, the same executed
// requests, the same snapshot; the membership comes from the schedule.
func TestSnapshotRestore(t *testing.T) {
	v := membership.Voters{{ID: "0", Weight: 3}, {ID: "1", Weight: 1}}
	sched := func(p *isstest.Params) {
		p.Memberships = []isstest.MembershipChange{{FromEpoch: 5, Voters: v}}
	}
	a := newTestApp(t, sched)
	r := inBucket("c", 0, 0, 5)
	// Executed out of order: c/r[0] and r[3], r[4] leave holes.
	a.apply(deliver(0, isstest.EncodeBatch([]isstest.Request{r[4], r[0]})), deliver(1, nil),
		deliver(2, isstest.EncodeBatch(inBucket("d", 1, 0, 2))))
	snap := func(ta *testApp, epoch stdtypes.EpochNr) *iss.Snapshot {
		t.Helper()
		out := ta.apply(&iss.SnapshotRequest{Header: stdtypes.NewHeader(appID), ReplyTo: issID, Epoch: epoch, SeqNr: 3})
		s, ok := out[0].(*iss.Snapshot)
		if len(out) != 1 || !ok || s.Dest() != issID || s.Epoch != epoch {
			t.Fatalf("output %v", out)
		}
		return s
	}
	if s := snap(a, 1); len(s.NextVoters) != 0 {
		t.Errorf("epoch 1 decides epoch 4: voters %v, want none", s.NextVoters)
	}
	s := snap(a, 2)
	if !slices.Equal(s.NextVoters, v) {
		t.Errorf("epoch 2 decides epoch 5: voters %v, want %v", s.NextVoters, v)
	}
	b := newTestApp(t, sched)
	b.apply(submit(r[4]), submit(r[1]))
	b.apply(&iss.RestoreState{Header: stdtypes.NewHeader(appID), Epoch: 2, SeqNr: 3, Data: s.Data})
	if b.app.NextSeqNr() != 3 || b.app.Pending() != 1 || !b.app.Executed(r[4].RequestID) || b.app.Executed(r[3].RequestID) {
		t.Errorf("restored: next %d, pending %d", b.app.NextSeqNr(), b.app.Pending())
	}
	if got := snap(b, 2); !bytes.Equal(got.Data, s.Data) {
		t.Errorf("snapshot after restore differs")
	}
	last := b.reports[len(b.reports)-1]
	if last.Kind != isstest.Restored || last.SeqNr != 3 || last.Chain != a.reports[2].Chain {
		t.Errorf("restore report %+v, want chain %v", last, a.reports[2].Chain)
	}
	// Both go on alike.
	next := deliver(3, isstest.EncodeBatch(r[:2]))
	a.apply(next)
	b.apply(next)
	ra, rb := a.reports[len(a.reports)-1], b.reports[len(b.reports)-1]
	if ra.Chain != rb.Chain || !slices.Equal(ids(ra.Executed), ids(rb.Executed)) || !slices.Equal(ids(ra.Executed), ids(r[1:2])) {
		t.Errorf("after the restore: %+v and %+v", ra, rb)
	}
	// Errors: a snapshot of another slot; a state that is not one; one
	// whose slot is not the event's; one behind the App.
	if err := a.applyErr(&iss.SnapshotRequest{Header: stdtypes.NewHeader(appID), ReplyTo: issID, Epoch: 2, SeqNr: 3}); err == nil {
		t.Error("snapshot of a past slot taken")
	}
	for _, rs := range []*iss.RestoreState{
		{Header: stdtypes.NewHeader(appID), SeqNr: 3, Data: []byte("junk")},
		{Header: stdtypes.NewHeader(appID), SeqNr: 4, Data: s.Data},
		{Header: stdtypes.NewHeader(appID), SeqNr: 3, Data: s.Data},
	} {
		if err := a.applyErr(rs); err == nil || !strings.Contains(err.Error(), "iss.RestoreState") {
			t.Errorf("restore of slot %d: error %v", rs.SeqNr, err)
		}
	}
}

// TestDeterministic: two Apps fed the same events give the same output,
// whatever the order of map iteration.
func TestDeterministic(t *testing.T) {
	run := func() string {
		ta := newTestApp(t, func(p *isstest.Params) { p.MaxBatchRequests = 7 })
		var out strings.Builder
		for i := range 200 {
			c := fmt.Sprintf("c%d", i%5)
			evs := []stdtypes.Event{isstest.NewSubmit(appID, c, uint64(i/5), []byte{byte(i)})}
			if i%10 == 9 {
				sn := stdtypes.SeqNr(i / 10)
				b := int(sn) % 2
				evs = append(evs, requestProposal(sn, b, b+2))
			}
			for _, ev := range ta.apply(evs...) {
				p := ev.(*iss.Proposal)
				fmt.Fprintf(&out, "%d:%x\n", p.SeqNr, p.Value)
				if p.SeqNr%3 != 0 {
					ta.apply(deliver(ta.app.NextSeqNr(), p.Value))
				}
			}
		}
		s := ta.apply(&iss.SnapshotRequest{Header: stdtypes.NewHeader(appID), ReplyTo: issID, SeqNr: ta.app.NextSeqNr()})
		fmt.Fprintf(&out, "%x", s[0].(*iss.Snapshot).Data)
		return out.String()
	}
	first := run()
	for range 3 {
		if run() != first {
			t.Fatal("two runs differ")
		}
	}
}

// TestParamsValidate: every limit is checked.
func TestParamsValidate(t *testing.T) {
	if err := isstest.DefaultParams("0").Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(p *isstest.Params){
		"no node":         func(p *isstest.Params) { p.Node = "" },
		"buckets":         func(p *isstest.Params) { p.NumBuckets = 0 },
		"window":          func(p *isstest.Params) { p.ClientWindow = 0 },
		"huge window":     func(p *isstest.Params) { p.ClientWindow = 1 << 40 },
		"batch too small": func(p *isstest.Params) { p.MaxBatchBytes = p.MaxPayloadBytes },
		"pending":         func(p *isstest.Params) { p.MaxPending = -1 },
		"change too early": func(p *isstest.Params) {
			p.Memberships = []isstest.MembershipChange{{FromEpoch: 2, Voters: membership.EqualVoters("0")}}
		},
		"bad voters": func(p *isstest.Params) { p.Memberships = []isstest.MembershipChange{{FromEpoch: 3}} },
		"changes out of order": func(p *isstest.Params) {
			p.Memberships = []isstest.MembershipChange{{FromEpoch: 4, Voters: membership.EqualVoters("0")}, {FromEpoch: 4, Voters: membership.EqualVoters("1")}}
		},
	} {
		p := isstest.DefaultParams("0")
		change(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := isstest.New(p); err == nil {
			t.Errorf("%s: New accepted", name)
		}
	}
}

// TestStableCheckpointCounted: the App takes ISS's news of stable
// checkpoints, and counts them.
func TestStableCheckpointCounted(t *testing.T) {
	app, err := isstest.New(isstest.DefaultParams("0"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []stdtypes.EpochNr{3, 2} {
		if _, err := app.ApplyEvents(stdtypes.ListOf(&iss.StableCheckpoint{Header: stdtypes.NewHeader(isstest.DefaultID), Epoch: e, SeqNr: 100})); err != nil {
			t.Fatal(err)
		}
	}
	if s := app.Stats(); s.StableCheckpoints != 2 || s.StableEpoch != 3 {
		t.Errorf("stats %+v", s)
	}
}
