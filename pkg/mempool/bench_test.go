package mempool_test

import (
	"fmt"
	"testing"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// BenchmarkNewTxsRequestBatch measures the mempool's throughput, one op
// per transaction: 512-byte transactions of 1,024 clients come in NewTxs
// of 64. Each leader's orderer keeps a RequestBatch held for its buckets,
// as availability does for it: the mempool answers it once the buckets
// hold a full batch (MaxBatchTxs, 1,024), and an Executed retires the
// batch, as the batch fetcher would once it is ordered; then the leader
// asks again. The default parameters (64 buckets) with one leader (every
// bucket in one request) or four (a quarter each). It reports
// transactions per second (tx/s).
func BenchmarkNewTxsRequestBatch(b *testing.B) {
	for _, leaders := range []int{1, 4} {
		b.Run(fmt.Sprintf("%d leaders", leaders), func(b *testing.B) {
			benchMempool(b, leaders)
		})
	}
}

func benchMempool(b *testing.B, leaders int) {
	p := mempool.DefaultModuleParams()
	m, err := mempool.NewModule("0", mc, p, nil)
	if err != nil {
		b.Fatal(err)
	}
	const clients, perEvent, txBytes = 1024, 64, 512
	clientIDs := make([]string, clients)
	for i := range clientIDs {
		clientIDs[i] = fmt.Sprintf("client-%04d", i)
	}
	payload := make([]byte, txBytes)
	nextNo := make([]uint64, clients)
	// Leader l asks for buckets l, l+leaders, ... with Refs l, l+leaders, ...
	buckets := make([][]int, leaders)
	for bk := range p.NumBuckets {
		buckets[bk%leaders] = append(buckets[bk%leaders], bk)
	}
	requestOf := func(ref uint64) *mempool.RequestBatch {
		return &mempool.RequestBatch{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "availability",
			Ref: ref, Buckets: buckets[ref%uint64(leaders)]}
	}
	// answered retires the batches in out and asks again for the same
	// buckets.
	var answered func(out *stdtypes.EventList)
	answered = func(out *stdtypes.EventList) {
		for _, ev := range out.Slice() {
			batch, ok := ev.(*mempool.NewBatch)
			if !ok {
				continue
			}
			ids := make([]mempool.TxID, len(batch.Txs))
			for i, tx := range batch.Txs {
				ids[i] = tx.TxID
			}
			apply(b, m, &mempool.Executed{Header: stdtypes.NewHeader(mc.Self), Txs: ids})
			answered(apply(b, m, requestOf(batch.Ref+uint64(leaders))))
		}
	}
	b.SetBytes(txBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for l := range leaders {
		answered(apply(b, m, requestOf(uint64(l))))
	}
	for done := 0; done < b.N; {
		n := min(perEvent, b.N-done)
		ev := &mempool.NewTxs{Header: stdtypes.NewHeader(mc.Self), Txs: make([]mempool.Tx, n)}
		for i := range ev.Txs {
			c := (done + i) % clients
			ev.Txs[i] = mempool.Tx{TxID: mempool.TxID{ClientID: clientIDs[c], TxNo: nextNo[c]}, Data: payload}
			nextNo[c]++
		}
		answered(apply(b, m, ev))
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
	if s := m.Stats(); s.Dropped() != 0 || s.Accepted != uint64(b.N) || s.HeldTxs >= uint64(leaders*p.MaxBatchTxs) {
		b.Fatalf("stats %+v", s)
	}
}

func apply(b *testing.B, m *mempool.Module, ev stdtypes.Event) *stdtypes.EventList {
	out, err := m.ApplyEvents(stdtypes.ListOf(ev))
	if err != nil {
		b.Fatal(err)
	}
	return out
}
