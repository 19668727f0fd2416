package kvstore_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/samples/kvstore"
)

// The Store applies operations as Trantor hands them over, one result
// per transaction.
func ExampleStore() {
	s, err := kvstore.New(0)
	if err != nil {
		panic(err)
	}
	var txs []mempool.Tx
	for _, op := range []kvstore.Op{
		{Kind: kvstore.Put, Key: []byte("x"), Value: []byte("1")},
		{Kind: kvstore.CAS, Key: []byte("x"), Old: []byte("0"), Value: []byte("2")},
		{Kind: kvstore.CAS, Key: []byte("x"), Old: []byte("1"), Value: []byte("2")},
		{Kind: kvstore.Get, Key: []byte("x")},
	} {
		data, err := op.Encode()
		if err != nil {
			panic(err)
		}
		txs = append(txs, mempool.Tx{Data: data})
	}
	results, err := s.Apply(txs)
	if err != nil {
		panic(err)
	}
	for _, b := range results {
		r, err := kvstore.DecodeResult(b)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%v %q\n", r.Status, r.Value)
	}
	// Output:
	// ok ""
	// mismatch "1"
	// ok "2"
	// ok "2"
}
