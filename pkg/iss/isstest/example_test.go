package isstest_test

import (
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// The App proposes the pending requests of a leader's buckets, and
// executes what ISS delivers.
func ExampleApp() {
	p := isstest.DefaultParams("0")
	p.NumBuckets = 1
	p.Observer = func(r isstest.Report) {
		if r.Kind == isstest.Delivered {
			fmt.Printf("slot %d: executed %d requests, dropped %d\n", r.SeqNr, len(r.Executed), r.Dropped)
		}
	}
	app, err := isstest.New(p)
	if err != nil {
		panic(err)
	}
	out, err := app.ApplyEvents(stdtypes.ListOf(
		stdevents.NewInit(isstest.DefaultID),
		isstest.NewSubmit(isstest.DefaultID, "alice", 0, []byte("deposit 10")),
		isstest.NewSubmit(isstest.DefaultID, "bob", 0, []byte("withdraw 5")),
		iss.NewRequestProposal(isstest.DefaultID, "ordering/0.0", 0, 0, []int{0}),
	))
	if err != nil {
		panic(err)
	}
	proposal := out.Slice()[0].(*iss.Proposal)
	batch, _ := isstest.DecodeBatch(proposal.Value, isstest.Limits{MaxRequests: 10, MaxBytes: 1 << 10, MaxClientBytes: 8, MaxPayloadBytes: 16})
	fmt.Println("proposed:", batch[0].RequestID, batch[1].RequestID)
	// The batch is ordered in slot 0, and by mistake again in slot 1.
	_, err = app.ApplyEvents(stdtypes.ListOf(
		&iss.Deliver{Header: stdtypes.NewHeader(isstest.DefaultID), SeqNr: 0, Value: proposal.Value},
		&iss.Deliver{Header: stdtypes.NewHeader(isstest.DefaultID), SeqNr: 1, Value: proposal.Value},
	))
	fmt.Println(err, app.Pending())
	// Output:
	// proposed: alice/0 bob/0
	// slot 0: executed 2 requests, dropped 0
	// slot 1: executed 0 requests, dropped 2
	// <nil> 0
}

// The Checker catches two nodes that deliver different values for a slot.
func ExampleChecker() {
	c := isstest.NewChecker(isstest.CheckerOptions{Seed: 7, Now: func() time.Duration { return 0 }})
	for _, node := range []stdtypes.NodeID{"0", "1"} {
		p := isstest.DefaultParams(node)
		p.Observer = c.Report
		app, _ := isstest.New(p)
		value := isstest.EncodeBatch([]isstest.Request{{RequestID: isstest.RequestID{Client: "c", Seq: 0}, Payload: []byte("from " + node)}})
		_, _ = app.ApplyEvents(stdtypes.ListOf(
			isstest.NewSubmit(isstest.DefaultID, "c", 0, []byte("from 0")),
			&iss.Deliver{Header: stdtypes.NewHeader(isstest.DefaultID), SeqNr: 0, Value: value},
		))
	}
	fmt.Println(c.Err())
	// Output:
	// property violated: agreement at 0s (seed 7): slot 0: node 0 delivered batch [c/0] (digest 96eb6807), node 1 delivered batch [c/0] (digest cae0e62a)
}
