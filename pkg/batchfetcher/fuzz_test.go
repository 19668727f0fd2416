package batchfetcher_test

import (
	"bytes"
	"testing"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/iss"
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
		if out.Len() != 1 {
			t.Fatalf("restore gave %d events, want 1", out.Len())
		}
		ra, ok := out.Get(0).(*batchfetcher.RestoreApp)
		if !ok || uint64(ra.SeqNr) != sn || len(ra.Data) > p.MaxAppStateBytes {
			t.Fatalf("restore gave %s", render(out.Get(0)))
		}
		if s := m.Stats(); s.Clients > p.MaxClients {
			t.Fatalf("%d clients, at most %d", s.Clients, p.MaxClients)
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
