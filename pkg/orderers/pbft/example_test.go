package pbft_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// A node's factory of orderers creates the orderer of a segment when ISS
// asks for it; the segment's leader asks the proposer for its first slot
// at once.
func ExampleNewFactory() {
	voters := membership.EqualVoters("0", "1", "2", "3")
	factory, err := pbft.NewFactory("0", pbft.DefaultModuleConfig(), pbft.DefaultModuleParams(), nil)
	if err != nil {
		panic(err)
	}
	seg := iss.Segment{Epoch: 5, Index: 0, Leader: "0", Voters: voters, SeqNrs: []stdtypes.SeqNr{80, 84, 88, 92}, Buckets: []int{0, 4}}
	id := iss.OrdererID("ordering", seg.Epoch, seg.Index)
	out, err := factory.ApplyEvents(stdtypes.ListOf(stdevents.NewNewSubmodule(id, stdtypes.RetentionIndex(seg.Epoch), seg)))
	if err != nil {
		panic(err)
	}
	for ev := range out.All() {
		if r, ok := ev.(*iss.RequestProposal); ok {
			fmt.Printf("%s asks %s for slot %d of epoch %d, buckets %v\n", r.ReplyTo, r.Dest(), r.SeqNr, r.Epoch, r.Buckets)
		}
	}
	// Output:
	// ordering/5.0 asks app for slot 80 of epoch 5, buckets [0 4]
}
