package iss

import (
	"testing"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzStateTransfer hands ISS a stable checkpoint whose state came from
// the network (through the checkpoint module, which checked it against a
// certificate: signed by a quorum, but not necessarily well-formed): ISS
// never fails on it, and either adopts it, starting the epoch after it,
// or drops it and stays where it was.
func FuzzStateTransfer(f *testing.F) {
	b := NewBlacklist(2)
	b.EpochDone(4, ids("n1"))
	protocol, _ := b.State()
	f.Add(uint64(5), uint64(40), uint8(2), uint64(1), protocol, []byte("app"))
	f.Add(uint64(0), uint64(8), uint8(2), uint64(3), []byte{}, []byte{})
	f.Add(uint64(1<<63), uint64(1<<63), uint8(1), uint64(0), []byte{0xff}, []byte(nil))
	f.Fuzz(func(t *testing.T, epoch, sn uint64, nVoters uint8, weight uint64, protocol, app []byte) {
		p := testParams()
		p.LeaderPolicy = PolicyBlacklist
		h, _ := started(t, p)
		h.apply(sbDeliver(0, 0, 0, false), sbDeliver(0, 1, 1, false))
		st := checkpoint.State{Epoch: stdtypes.EpochNr(epoch), SeqNr: stdtypes.SeqNr(sn), AppData: app, Protocol: protocol}
		for i := range int(nVoters % 4) {
			v := membership.EqualVoters("n0", "n1", "n2", "n3")
			v[i].Weight = weight
			st.Voters = append(st.Voters, v)
		}
		out, err := h.m.ApplyEvents(stdtypes.ListOf(stable(st)))
		if err != nil {
			t.Fatalf("state %+v: %v", st, err)
		}
		s := h.m.Stats()
		switch {
		case s.StateTransfers == 1:
			if s.Epoch != st.Epoch+1 || s.NextSeqNr != st.SeqNr || out.Len() == 0 {
				t.Fatalf("adopted %+v, but Stats %+v", st, s)
			}
		case s.BadStates == 1:
			if s.Epoch != 0 || s.NextSeqNr != 2 || out.Len() != 0 {
				t.Fatalf("dropped %+v, but Stats %+v, output %v", st, s, out.Slice())
			}
		default:
			t.Fatalf("state %+v neither adopted nor dropped: %+v", st, s)
		}
	})
}
