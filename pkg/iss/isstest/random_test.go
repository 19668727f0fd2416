package isstest_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/stdtypes"
)

// TestAppsRandom drives three Apps through random runs: requests submitted
// to some of them, leaders asking for proposals of random buckets, slots
// delivered with a leader's proposal, an empty value, ⊥ or a batch a
// Byzantine leader made up (requests executed already, twice in it, never
// submitted), and an App replaced now and then by a new one that restores
// another's snapshot. Throughout, the Apps agree on every slot's chain link
// and executed requests, never execute a request twice, and keep their
// bounds; at the end their snapshots are the same bytes.
func TestAppsRandom(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { randomRun(t, seed) })
	}
}

// randomApp is one App of a random run, with what it reported.
type randomApp struct {
	*testApp
	// last is the index of the first report not looked at yet.
	last int
}

func randomRun(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0))
	params := func(p *isstest.Params) {
		p.MaxBatchRequests, p.MaxPending, p.ClientWindow, p.MaxClients = 3, 40, 16, 3
	}
	apps := make([]*randomApp, 3)
	for i := range apps {
		apps[i] = &randomApp{testApp: newTestApp(t, params)}
	}
	executedIn := map[isstest.RequestID]stdtypes.SeqNr{}
	var sn stdtypes.SeqNr
	randomRequest := func() isstest.Request {
		id := isstest.RequestID{Client: fmt.Sprintf("c%d", r.IntN(4)), Seq: uint64(r.IntN(24))}
		return isstest.Request{RequestID: id, Payload: []byte(id.String())}
	}
	for step := range 400 {
		switch k := r.IntN(10); {
		case k < 4: // A client submits to some Apps.
			req := randomRequest()
			for _, a := range apps {
				if r.IntN(2) == 0 {
					a.apply(submit(req))
				}
			}
		case k < 9: // A slot is proposed, verified and delivered.
			value, aborted := proposeRandom(t, r, apps, sn, randomRequest)
			for _, a := range apps {
				if !aborted {
					out := a.apply(verify(1, value, 0, 1, 2, 3))
					if len(out) != 1 {
						t.Fatalf("step %d: verify output %v", step, out)
					}
				}
				d := deliver(sn, value)
				d.Aborted = aborted
				a.apply(d)
			}
			checkSlot(t, step, sn, apps, executedIn)
			sn++
		default: // An App is replaced by one that restores another's snapshot.
			i, j := r.IntN(3), r.IntN(3)
			snap := apps[j].apply(&iss.SnapshotRequest{Header: stdtypes.NewHeader(appID), ReplyTo: issID, SeqNr: sn})[0].(*iss.Snapshot)
			fresh := &randomApp{testApp: newTestApp(t, params)}
			fresh.apply(&iss.RestoreState{Header: stdtypes.NewHeader(appID), SeqNr: sn, Data: snap.Data})
			fresh.last = len(fresh.reports)
			apps[i] = fresh
		}
		for i, a := range apps {
			if a.app.Pending() > 40 {
				t.Fatalf("step %d: App %d holds %d requests", step, i, a.app.Pending())
			}
		}
	}
	var first []byte
	for i, a := range apps {
		data := a.apply(&iss.SnapshotRequest{Header: stdtypes.NewHeader(appID), ReplyTo: issID, SeqNr: sn})[0].(*iss.Snapshot).Data
		if i > 0 && !bytes.Equal(data, first) {
			t.Fatalf("after %d slots, App %d's state differs from App 0's", sn, i)
		}
		first = data
	}
	if sn < 100 || len(executedIn) < 20 {
		t.Errorf("a poor run: %d slots, %d requests executed", sn, len(executedIn))
	}
}

// proposeRandom returns the value of slot sn: a leader's proposal, an
// empty value, ⊥, or a batch made up.
func proposeRandom(t *testing.T, r *rand.Rand, apps []*randomApp, sn stdtypes.SeqNr, randomRequest func() isstest.Request) ([]byte, bool) {
	switch k := r.IntN(10); {
	case k < 6:
		var buckets []int
		for b := range 4 {
			if r.IntN(2) == 0 {
				buckets = append(buckets, b)
			}
		}
		leader := apps[r.IntN(len(apps))]
		out := leader.apply(requestProposal(sn, buckets...))
		if len(out) == 0 {
			return []byte{}, false
		}
		p := out[0].(*iss.Proposal)
		if p.SeqNr != sn {
			t.Fatalf("proposal for slot %d, asked for %d", p.SeqNr, sn)
		}
		return p.Value, false
	case k < 8:
		return nil, true
	case k < 9:
		return []byte{}, false
	}
	reqs := []isstest.Request{randomRequest(), randomRequest()}
	return isstest.EncodeBatch(append(reqs, reqs[0])), false
}

// checkSlot checks that the Apps agree on slot sn and that none executed
// a request it had executed before.
func checkSlot(t *testing.T, step int, sn stdtypes.SeqNr, apps []*randomApp, executedIn map[isstest.RequestID]stdtypes.SeqNr) {
	t.Helper()
	var want isstest.Report
	for i, a := range apps {
		var delivered []isstest.Report
		for _, rep := range a.reports[a.last:] {
			if rep.Kind != isstest.Submitted {
				delivered = append(delivered, rep)
			}
		}
		a.last = len(a.reports)
		if len(delivered) != 1 {
			t.Fatalf("step %d: App %d made %d reports for slot %d", step, i, len(delivered), sn)
		}
		rep := delivered[0]
		if rep.Kind != isstest.Delivered || rep.SeqNr != sn {
			t.Fatalf("step %d: App %d reported %+v", step, i, rep)
		}
		if i == 0 {
			want = rep
			continue
		}
		if rep.Chain != want.Chain || !slices.Equal(ids(rep.Executed), ids(want.Executed)) {
			t.Fatalf("step %d: slot %d: App %d executed %v (chain %v), App 0 %v (chain %v)",
				step, sn, i, ids(rep.Executed), rep.Chain, ids(want.Executed), want.Chain)
		}
	}
	for _, req := range want.Executed {
		if prev, ok := executedIn[req.RequestID]; ok {
			t.Fatalf("step %d: request %s executed in slot %d and again in slot %d", step, req.RequestID, prev, sn)
		}
		executedIn[req.RequestID] = sn
	}
}
