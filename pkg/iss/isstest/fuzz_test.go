package isstest_test

import (
	"bytes"
	"testing"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzVerifyProposal: a value from another leader, whatever its bytes,
// gets an answer and never an error or a panic; a batch DecodeBatch takes
// has the one encoding, and a valid proposal is executed as it decodes.
func FuzzVerifyProposal(f *testing.F) {
	r := inBucket("c", 0, 0, 3)
	for _, seed := range [][]byte{
		isstest.EncodeBatch(r),
		isstest.EncodeBatch(r[:1]),
		isstest.EncodeBatch([]isstest.Request{r[0], r[0]}),
		isstest.EncodeBatch(inBucket("d", 1, 0, 2)),
		{1, 0},
		{1, 1, 1, 'c', 0x80, 0x00, 0},
		{1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		{},
	} {
		f.Add(seed)
	}
	lim := isstest.Limits{MaxRequests: 256, MaxBytes: 1 << 20, MaxClientBytes: 64, MaxPayloadBytes: 4 << 10}
	f.Fuzz(func(t *testing.T, value []byte) {
		ta := newTestApp(t, nil)
		out := ta.apply(verify(7, value, 0, 2))
		v, ok := out[0].(*iss.ProposalVerified)
		if len(out) != 1 || !ok || v.Ref != 7 {
			t.Fatalf("output %v", out)
		}
		reqs, err := isstest.DecodeBatch(value, lim)
		if err == nil && !bytes.Equal(isstest.EncodeBatch(reqs), value) {
			t.Fatalf("batch %x decodes to %v, which encodes otherwise", value, reqs)
		}
		if err != nil && v.Err == "" && len(value) > 0 {
			t.Fatalf("value %x accepted, but does not decode: %v", value, err)
		}
		if v.Err != "" {
			return
		}
		ta.apply(&iss.Deliver{Header: stdtypes.NewHeader(appID), SeqNr: 0, Value: value})
		// A fresh App executes all but the requests beyond their
		// client's window (4096), which the validator lets through: a
		// lagging validator's window is not the leader's.
		beyond := 0
		for _, r := range reqs {
			if r.Seq >= 1<<12 {
				beyond++
			}
		}
		if rep := ta.reports[len(ta.reports)-1]; len(rep.Executed) != len(reqs)-beyond || rep.Dropped != beyond || rep.Invalid != "" {
			t.Fatalf("valid batch %x executed as %+v", value, rep)
		}
	})
}

// FuzzRestoreState: a state, whatever its bytes, is refused with an error
// or restored; a restored state is snapshotted back to the same bytes.
func FuzzRestoreState(f *testing.F) {
	a := newTestApp(f, nil)
	r := inBucket("c", 0, 0, 6)
	a.apply(deliver(0, isstest.EncodeBatch([]isstest.Request{r[0], r[2], r[5]})), deliver(1, nil),
		deliver(2, isstest.EncodeBatch(inBucket("d", 1, 0, 2))))
	snap := a.apply(&iss.SnapshotRequest{Header: stdtypes.NewHeader(appID), ReplyTo: issID, SeqNr: 3})[0].(*iss.Snapshot)
	empty := newTestApp(f, nil).apply(&iss.SnapshotRequest{Header: stdtypes.NewHeader(appID), ReplyTo: issID})[0].(*iss.Snapshot)
	f.Add(uint64(3), snap.Data)
	f.Add(uint64(0), empty.Data)
	f.Add(uint64(3), snap.Data[:len(snap.Data)-1])
	f.Add(uint64(3), append(snap.Data, 0))
	f.Fuzz(func(t *testing.T, sn uint64, data []byte) {
		ta := newTestApp(t, func(p *isstest.Params) { p.ClientWindow = 16; p.MaxClients = 8 })
		err := ta.applyErr(&iss.RestoreState{Header: stdtypes.NewHeader(appID), SeqNr: stdtypes.SeqNr(sn), Data: data})
		if err != nil {
			return
		}
		out := ta.apply(&iss.SnapshotRequest{Header: stdtypes.NewHeader(appID), ReplyTo: issID, SeqNr: stdtypes.SeqNr(sn)})
		if got := out[0].(*iss.Snapshot).Data; !bytes.Equal(got, data) {
			t.Fatalf("state %x restored, snapshotted as %x", data, got)
		}
		// It goes on: the next slot executes.
		ta.apply(deliver(stdtypes.SeqNr(sn), isstest.EncodeBatch(r[1:2])))
	})
}
