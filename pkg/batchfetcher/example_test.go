package batchfetcher_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// Example follows two slots through the fetcher: availability answers the
// second first, and the fetcher hands them on in the order of the log.
func Example() {
	p := batchfetcher.DefaultModuleParams(iss.DefaultParams(membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)))
	p.NumBuckets = 1 // every transaction in bucket 0
	m, err := batchfetcher.NewModule("0", batchfetcher.DefaultModuleConfig(), p, nil)
	if err != nil {
		panic(err)
	}
	run := func(ev stdtypes.Event) {
		out, err := m.ApplyEvents(stdtypes.ListOf(ev))
		if err != nil {
			panic(err)
		}
		for _, o := range out.Slice() {
			switch o := o.(type) {
			case *availability.RequestTxs:
				fmt.Printf("%s: RequestTxs %d\n", o.Dest(), o.Ref)
			case *batchfetcher.Execute:
				fmt.Printf("%s: Execute slot %d, %d transactions\n", o.Dest(), o.SeqNr, len(o.Txs))
			case *mempool.Executed:
				fmt.Printf("%s: Executed %v\n", o.Dest(), o.Txs)
			}
		}
	}
	buckets := []int{0}
	run(&iss.Deliver{SeqNr: 0, Value: []byte("certificate 0"), Buckets: buckets})
	run(&iss.Deliver{SeqNr: 1, Value: []byte("certificate 1"), Buckets: buckets})
	alice := func(no uint64) mempool.Tx {
		return mempool.Tx{TxID: mempool.TxID{ClientID: "alice", TxNo: no}, Data: []byte("hello")}
	}
	run(&availability.ProvideTxs{Ref: 1, Txs: []mempool.Tx{alice(1), alice(0)}}) // waits for slot 0
	run(&availability.ProvideTxs{Ref: 0, Txs: []mempool.Tx{alice(0)}})
	fmt.Println("dropped as executed:", m.Stats().Dropped[batchfetcher.DropExecuted])
	// Output:
	// availability: RequestTxs 0
	// availability: RequestTxs 1
	// app: Execute slot 0, 1 transactions
	// mempool: Executed [{alice 0}]
	// app: Execute slot 1, 1 transactions
	// mempool: Executed [{alice 1}]
	// dropped as executed: 1
}
