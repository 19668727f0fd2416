package iss_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Example starts ISS on node n0 of four and shows the orderers of epoch 0.
func Example() {
	params := iss.DefaultParams(membership.EqualVoters("n0", "n1", "n2", "n3"))
	params.SegmentLength = 2
	m, err := iss.New("n0", iss.DefaultModuleConfig(), params, nil)
	if err != nil {
		panic(err)
	}
	// The node gives ISS its Init; ISS answers with a RecoveryDone to
	// itself, which the node routes back after the WAL's records.
	out, err := m.ApplyEvents(stdtypes.ListOf(stdevents.NewInit("iss")))
	if err != nil {
		panic(err)
	}
	out, err = m.ApplyEvents(out)
	if err != nil {
		panic(err)
	}
	for _, ev := range out.Slice() {
		if ns, ok := ev.(*stdevents.NewSubmodule); ok {
			seg := ns.Params.(iss.Segment)
			fmt.Println(ns.SubmoduleID, seg.Leader, seg.SeqNrs, seg.Buckets[:2])
		}
	}
	// Output:
	// ordering/0.0 n0 [0 4] [0 4]
	// ordering/0.1 n1 [1 5] [1 5]
	// ordering/0.2 n2 [2 6] [2 6]
	// ordering/0.3 n3 [3 7] [3 7]
}
