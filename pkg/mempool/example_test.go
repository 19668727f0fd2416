package mempool_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// A client's transactions come in, one twice; availability asks for a
// batch of bucket 0 (the only one here), which is full at once.
func Example() {
	params := mempool.DefaultModuleParams()
	params.NumBuckets = 1
	params.MaxBatchTxs = 2
	m, err := mempool.NewModule("node-0", mempool.DefaultModuleConfig(), params, nil)
	if err != nil {
		panic(err)
	}
	tx := func(no uint64) mempool.Tx {
		return mempool.Tx{TxID: mempool.TxID{ClientID: "alice", TxNo: no}, Data: []byte("hello")}
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(
		&mempool.NewTxs{Header: stdtypes.NewHeader("mempool"), Txs: []mempool.Tx{tx(0), tx(1), tx(0)}},
		&mempool.RequestBatch{Header: stdtypes.NewHeader("mempool"), ReplyTo: "availability", Ref: 1, Buckets: []int{0}},
	))
	if err != nil {
		panic(err)
	}
	for _, ev := range out.Slice() {
		if b, ok := ev.(*mempool.NewBatch); ok {
			fmt.Printf("batch %d to %s: %d transactions\n", b.Ref, b.Dest(), len(b.Txs))
		}
	}
	fmt.Println("duplicates dropped:", m.Stats().Duplicate)
	// Output:
	// batch 1 to availability: 2 transactions
	// duplicates dropped: 1
}
