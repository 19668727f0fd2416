package batchfetcher_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzRestoreState feeds a fetcher's RestoreState whatever a state
// transfer could bring: the Data of a checkpoint from another node. The
// fetcher must not panic; it refuses what is not a state (an error wrapping
// ErrInvalidState, or a state of another slot) and then goes on as before;
// and what it accepts is a state in its one encoding, within its bounds:
// the snapshot it takes at once, with the application's part handed back,
// is the same bytes.
func FuzzRestoreState(f *testing.F) {
	f.Add([]byte{1, 1, 0, 0}, uint64(1))
	f.Add([]byte{1, 5, 2, 1, 'a', 3, 2, 1, 2, 1, 'b', 0, 1, 4, 3, 'a', 'p', 'p'}, uint64(5))
	f.Add([]byte("garbage"), uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, sn uint64) {
		p := testParams()
		m := newFetcher(t, p)
		apply(t, m, deliver(0, "v", allBuckets), provide(0, tx("c", 0)))
		out, err := m.ApplyEvents(stdtypes.ListOf(restore(0, stdtypes.SeqNr(sn), data)))
		if err != nil {
			// Nothing changed: slot 1 comes next, c.0 is executed.
			expect(t, apply(t, m, deliver(1, "w", allBuckets), provide(1, tx("c", 0), tx("c", 1)))[1:],
				"app Execute 0.1 [c.1]",
				"mempool Executed [c.1]",
			)
			return
		}
		ra, ok := out.Get(0).(*batchfetcher.RestoreApp)
		if !ok || uint64(ra.SeqNr) != sn || len(ra.Data) > p.MaxAppStateBytes {
			t.Fatalf("restore gave %s", render(out.Get(0)))
		}
		s := m.Stats()
		if s.Clients > p.MaxClients {
			t.Fatalf("%d clients, at most %d", s.Clients, p.MaxClients)
		}
		// The mempool learns the clients' watermarks, if there are any,
		// and then that the state's epoch is executed.
		switch {
		case s.Clients == 0 && out.Len() != 2:
			t.Fatalf("restore of no client gave %d events, want 2", out.Len())
		case s.Clients > 0 && out.Len() != 3:
			t.Fatalf("restore gave %d events, want 3", out.Len())
		case s.Clients > 0:
			w, ok := out.Get(1).(*mempool.Watermarks)
			if !ok || w.Dest() != "mempool" || len(w.Clients) != s.Clients {
				t.Fatalf("restore gave %s", render(out.Get(1)))
			}
		}
		if got := render(out.Get(out.Len() - 1)); got != "mempool EpochExecuted 0" {
			t.Fatalf("restore gave %s last, want the mempool's EpochExecuted 0", got)
		}
		apply(t, m, snapshotRequest(0, stdtypes.SeqNr(sn)))
		out, err = m.ApplyEvents(stdtypes.ListOf(&batchfetcher.AppSnapshot{Epoch: 0, Data: ra.Data}))
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Get(0).(*iss.Snapshot).Data; !bytes.Equal(got, data) {
			t.Fatalf("restored %x, snapshot %x", data, got)
		}
	})
}

// FuzzProvideTxs feeds a fetcher batches of any content, as Byzantine
// leaders could get them certified (availability checks that a batch is
// stored, not what it holds), over slots of various leaders' buckets,
// answered in any order. Whatever they hold, no transaction executes
// twice, none outside its slot's buckets or its client's window, the
// clients stay within MaxClients, and a snapshot taken at the end restores
// on another node to the same snapshot.
func FuzzProvideTxs(f *testing.F) {
	f.Add([]byte{0, 3, 'a', 0, 'a', 1, 'b', 0, 1, 2, 'a', 0, 'a', 2})
	f.Add([]byte{2, 4, 'a', 7, 'a', 8, 'c', 0, 'd', 0, 0, 0, 3, 1, 'e', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := testParams()
		m := newFetcher(t, p)
		slots := decodeSlots(data)
		var provides []stdtypes.Event
		for i, s := range slots {
			sn := stdtypes.SeqNr(i)
			apply(t, m, deliver(sn, "v", s.buckets))
			provides = append(provides, provide(uint64(sn), s.txs...))
		}
		// Availability answers from the last slot to the first.
		slices.Reverse(provides)
		executed := make(map[mempool.TxID]bool)
		for _, ev := range provides {
			out, err := m.ApplyEvents(stdtypes.ListOf(ev))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Slice() {
				ex, ok := o.(*batchfetcher.Execute)
				if !ok {
					continue
				}
				for _, tx := range ex.Txs {
					if executed[tx.TxID] {
						t.Fatalf("%v executed twice", tx.TxID)
					}
					low := uint64(0) // the client's watermark, from what executed
					for executed[mempool.TxID{ClientID: tx.ClientID, TxNo: low}] {
						low++
					}
					if tx.TxNo-low >= p.ClientWindow {
						t.Fatalf("%v executed with the watermark at %d, beyond the window", tx.TxID, low)
					}
					executed[tx.TxID] = true
					if !slices.Contains(slots[ex.SeqNr].buckets, mempool.BucketOf(tx.TxID, numBuckets)) {
						t.Fatalf("%v executed in slot %d outside its buckets", tx.TxID, ex.SeqNr)
					}
				}
			}
		}
		if s := m.Stats(); s.Clients > p.MaxClients || s.PendingSlots != 0 || s.Executed != uint64(len(executed)) {
			t.Fatalf("stats %+v with %d executed", s, len(executed))
		}
		next := stdtypes.SeqNr(len(slots))
		apply(t, m, snapshotRequest(0, next))
		out, err := m.ApplyEvents(stdtypes.ListOf(appSnapshot(0, "")))
		if err != nil {
			t.Fatal(err)
		}
		snap := out.Get(0).(*iss.Snapshot).Data
		n := newFetcher(t, p)
		apply(t, n, restore(0, next, snap), snapshotRequest(0, next))
		out, err = n.ApplyEvents(stdtypes.ListOf(appSnapshot(0, "")))
		if err != nil || !bytes.Equal(out.Get(0).(*iss.Snapshot).Data, snap) {
			t.Fatalf("a restored snapshot re-snapshots differently (%v)", err)
		}
	})
}

type fuzzSlot struct {
	buckets []int
	txs     []mempool.Tx
}

// decodeSlots reads slots from data: per slot a byte whose low two bits
// choose its buckets (none, 0, 1, both), a count byte, and per transaction
// a client byte (one of eight small clients, or an ID too long if above
// 'x') and a number byte. Missing bytes end the input.
func decodeSlots(data []byte) []fuzzSlot {
	next := func() (byte, bool) {
		if len(data) == 0 {
			return 0, false
		}
		b := data[0]
		data = data[1:]
		return b, true
	}
	var slots []fuzzSlot
	for len(slots) < 8 {
		sel, ok1 := next()
		count, ok2 := next()
		if !ok1 || !ok2 {
			break
		}
		s := fuzzSlot{buckets: [][]int{nil, {0}, {1}, {0, 1}}[sel&3]}
		for range count % 16 {
			c, ok1 := next()
			no, ok2 := next()
			if !ok1 || !ok2 {
				break
			}
			client := string(rune('a' + c%8))
			if c > 'x' {
				client = strings.Repeat(client, 17)
			}
			s.txs = append(s.txs, tx(client, uint64(no)))
		}
		slots = append(slots, s)
	}
	return slots
}
