package batchfetcher_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// numBuckets is the tests' NumBuckets: two, so that a leader of bucket 0
// is easy to hand a transaction of bucket 1.
const numBuckets = 2

// allBuckets are the buckets of a slot whose leader may propose anything.
var allBuckets = []int{0, 1}

func testParams() batchfetcher.ModuleParams {
	return batchfetcher.ModuleParams{
		NumBuckets:       numBuckets,
		ClientWindow:     8,
		MaxClients:       4,
		MaxClientIDBytes: 16,
		MaxAppStateBytes: 1 << 10,
		MaxPendingSlots:  16,
	}
}

func newFetcher(t testing.TB, params batchfetcher.ModuleParams) *batchfetcher.Module {
	t.Helper()
	m, err := batchfetcher.NewModule("n0", batchfetcher.DefaultModuleConfig(), params, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tx returns transaction (client, no), with a payload naming it.
func tx(client string, no uint64) mempool.Tx {
	return mempool.Tx{TxID: mempool.TxID{ClientID: client, TxNo: no}, Data: []byte(fmt.Sprintf("%s.%d", client, no))}
}

// txInBucket returns the first transaction of client, from number from
// on, that falls in bucket b.
func txInBucket(t testing.TB, client string, from uint64, b int) mempool.Tx {
	t.Helper()
	for no := from; no < from+64; no++ {
		if mempool.BucketOf(mempool.TxID{ClientID: client, TxNo: no}, numBuckets) == b {
			return tx(client, no)
		}
	}
	t.Fatalf("no transaction of %q from %d in bucket %d", client, from, b)
	return mempool.Tx{}
}

func deliver(sn stdtypes.SeqNr, value string, buckets []int) *iss.Deliver {
	return &iss.Deliver{Header: stdtypes.NewHeader("batchfetcher"), Epoch: 0, SeqNr: sn, Value: []byte(value), Buckets: buckets}
}

func aborted(sn stdtypes.SeqNr) *iss.Deliver {
	return &iss.Deliver{Header: stdtypes.NewHeader("batchfetcher"), SeqNr: sn, Aborted: true}
}

func provide(ref uint64, txs ...mempool.Tx) *availability.ProvideTxs {
	return &availability.ProvideTxs{Header: stdtypes.NewHeader("batchfetcher"), Ref: ref, Txs: txs}
}

func snapshotRequest(epoch stdtypes.EpochNr, sn stdtypes.SeqNr) *iss.SnapshotRequest {
	return &iss.SnapshotRequest{Header: stdtypes.NewHeader("batchfetcher"), ReplyTo: "iss", Epoch: epoch, SeqNr: sn}
}

func appSnapshot(epoch stdtypes.EpochNr, data string) *batchfetcher.AppSnapshot {
	return &batchfetcher.AppSnapshot{Header: stdtypes.NewHeader("batchfetcher"), Epoch: epoch, Data: []byte(data)}
}

func restore(epoch stdtypes.EpochNr, sn stdtypes.SeqNr, data []byte) *iss.RestoreState {
	return &iss.RestoreState{Header: stdtypes.NewHeader("batchfetcher"), Epoch: epoch, SeqNr: sn, Data: data}
}

func stable(epoch stdtypes.EpochNr, sn stdtypes.SeqNr) *iss.StableCheckpoint {
	return &iss.StableCheckpoint{Header: stdtypes.NewHeader("batchfetcher"), Epoch: epoch, SeqNr: sn}
}

// apply hands m the events, one ApplyEvents each, and returns the output
// rendered one line per event.
func apply(t testing.TB, m *batchfetcher.Module, evs ...stdtypes.Event) []string {
	t.Helper()
	var lines []string
	for _, ev := range evs {
		out, err := m.ApplyEvents(stdtypes.ListOf(ev))
		if err != nil {
			t.Fatalf("%s: %v", stdtypes.TypeName(ev), err)
		}
		for _, o := range out.Slice() {
			lines = append(lines, render(o))
		}
	}
	return lines
}

// applyErr hands m one event and returns its error.
func applyErr(m *batchfetcher.Module, ev stdtypes.Event) error {
	_, err := m.ApplyEvents(stdtypes.ListOf(ev))
	return err
}

// render returns a line that says what matters of an output event.
func render(ev stdtypes.Event) string {
	switch ev := ev.(type) {
	case *availability.RequestTxs:
		return fmt.Sprintf("%s RequestTxs ref=%d cert=%s replyTo=%s", ev.Dest(), ev.Ref, ev.Cert, ev.ReplyTo)
	case *batchfetcher.Execute:
		return fmt.Sprintf("%s Execute %d.%d %s", ev.Dest(), ev.Epoch, ev.SeqNr, txNames(ev.Txs))
	case *mempool.Executed:
		ids := make([]string, len(ev.Txs))
		for i, id := range ev.Txs {
			ids[i] = fmt.Sprintf("%s.%d", id.ClientID, id.TxNo)
		}
		return fmt.Sprintf("%s Executed [%s]", ev.Dest(), strings.Join(ids, " "))
	case *mempool.Watermarks:
		ws := make([]string, len(ev.Clients))
		for i, w := range ev.Clients {
			ws[i] = fmt.Sprintf("%s<%d%v", w.ClientID, w.Low, w.Above)
		}
		return fmt.Sprintf("%s Watermarks [%s]", ev.Dest(), strings.Join(ws, " "))
	case *mempool.EpochExecuted:
		return fmt.Sprintf("%s EpochExecuted %d", ev.Dest(), ev.Epoch)
	case *batchfetcher.SnapshotRequest:
		return fmt.Sprintf("%s SnapshotRequest %d.%d replyTo=%s", ev.Dest(), ev.Epoch, ev.SeqNr, ev.ReplyTo)
	case *iss.Snapshot:
		return fmt.Sprintf("%s Snapshot %d", ev.Dest(), ev.Epoch)
	case *batchfetcher.RestoreApp:
		return fmt.Sprintf("%s RestoreApp %d.%d %q", ev.Dest(), ev.Epoch, ev.SeqNr, ev.Data)
	case *iss.StableCheckpoint:
		return fmt.Sprintf("%s StableCheckpoint %d.%d", ev.Dest(), ev.Epoch, ev.SeqNr)
	}
	return fmt.Sprintf("%s %s", ev.Dest(), stdtypes.TypeName(ev))
}

func txNames(txs []mempool.Tx) string {
	names := make([]string, len(txs))
	for i, tx := range txs {
		names[i] = string(tx.Data)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// expect fails t unless got equals want, line by line.
func expect(t testing.TB, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("output:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
