package trantor_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/wal"
)

// TestSyncStallsAndViewChanges: the view changes that real runs on a
// shared disk have with no fault (BENCHMARKS.md) are the protocol's answer
// to a disk whose fsync stalls about ViewChangeTimeout, not a flaw of the
// view-change timer: with DefaultParams (ViewChangeTimeout 300 ms), stalls
// of 200 ms of the nodes' syncs cost latency and no view change, and
// stalls of 400 ms, which hold a leader's PREPREPARE longer than the
// timeout, change views. (The seed is one whose 200-ms stalls do not
// overlap: a leader's stall followed by another voter's adds up past the
// timeout, as with seed 5, and changes view too.)
func TestSyncStallsAndViewChanges(t *testing.T) {
	for _, tc := range []struct {
		stall       time.Duration
		viewChanges bool
	}{
		{200 * time.Millisecond, false},
		{400 * time.Millisecond, true},
	} {
		t.Run(tc.stall.String(), func(t *testing.T) {
			c := newCluster(t, 1, clusterOptions{
				n:      4,
				params: func(p *trantor.Params) { *p = trantor.DefaultParams(p.ISS.Voters) },
				// One sync in 500 stalls: one or two at each node in the run,
				// rarely two at once.
				wal: &wal.SimOptions{SyncLatency: syncStalls{base: wal.DefaultSyncLatency, oneIn: 500, stall: tc.stall}},
			})
			if err := c.Run(load{Clients: 100, Txs: 600, PayloadBytes: 32, Rate: 100, Start: time.Millisecond}, 1); err != nil {
				t.Fatal(err)
			}
			var aborted uint64
			for _, id := range c.Nodes() {
				aborted += c.ISS(id).Stats().Aborted
			}
			if (aborted > 0) != tc.viewChanges {
				t.Errorf("%d slots delivered as ⊥; want view changes: %v", aborted, tc.viewChanges)
			}
		})
	}
}
