package availability_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// A leader's way from a RequestProposal to a persisted batch: the module
// asks the mempool, then persists the batch before it sends it and signs
// it (the Append's follow-ups).
func Example() {
	voters := membership.EqualVoters("0", "1", "2", "3")
	m, err := availability.NewModule("0", availability.DefaultModuleConfig(), availability.DefaultModuleParams(voters), nil)
	if err != nil {
		panic(err)
	}
	rp := iss.NewRequestProposal("availability", "ordering/0.0", 0, 0, []int{0, 1})
	rp.Voters = voters
	out, err := m.ApplyEvents(stdtypes.ListOf(rp))
	if err != nil {
		panic(err)
	}
	req := out.Get(0).(*mempool.RequestBatch)
	fmt.Println(stdtypes.TypeName(req), req.Buckets)

	batch := []mempool.Tx{{TxID: mempool.TxID{ClientID: "alice", TxNo: 0}, Data: []byte("x")}}
	out, err = m.ApplyEvents(stdtypes.ListOf(&mempool.NewBatch{Header: stdtypes.NewHeader("availability"), Ref: req.Ref, Txs: batch}))
	if err != nil {
		panic(err)
	}
	for _, ev := range out.Slice() {
		fmt.Println(stdtypes.TypeName(ev))
		for _, f := range ev.FollowUps() {
			fmt.Println("  then", stdtypes.TypeName(f))
		}
	}
	// Output:
	// mempool.RequestBatch [0 1]
	// wal.Append
	//   then reliablenet.SendMessage
	//   then crypto.SignRequest
	// iss.ProposalPending
}
