package trantor_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/stdtypes"
)

var four = membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)

func TestDefaultParamsValid(t *testing.T) {
	for _, n := range []int{1, 4, 7, 100} {
		if err := trantor.DefaultParams(membership.EqualVoters(stdtypes.NumberedNodeIDs(n)...)).Validate(); err != nil {
			t.Errorf("%d voters: %v", n, err)
		}
	}
}

// TestParamsDisagree: each way the parts' parameters can disagree is
// named by Validate.
func TestParamsDisagree(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*trantor.Params)
		want   string
	}{
		{"mempool buckets", func(p *trantor.Params) { p.Mempool.NumBuckets = 32 }, "NumBuckets"},
		{"fetcher buckets", func(p *trantor.Params) { p.BatchFetcher.NumBuckets = 32 }, "NumBuckets"},
		{"ISS buckets", func(p *trantor.Params) { p.ISS.NumBuckets = 2048 }, "NumBuckets"},
		{"availability buckets", func(p *trantor.Params) { p.Availability.MaxBuckets = 16 }, "MaxBuckets"},
		{"open proposals", func(p *trantor.Params) { p.Availability.MaxOpenProposals = p.Mempool.MaxRequests + 1 }, "MaxOpenProposals"},
		{"BucketOf set", func(p *trantor.Params) { p.Availability.BucketOf = func(mempool.Tx) int { return 0 } }, "BucketOf"},
		{"voters", func(p *trantor.Params) {
			p.Availability.Voters = membership.EqualVoters(stdtypes.NumberedNodeIDs(7)...)
		}, "Voters"},
		{"transaction size", func(p *trantor.Params) { p.Mempool.MaxTxBytes = p.Availability.MaxTxBytes }, "MaxTxBytes"},
		{"batch size", func(p *trantor.Params) { p.Mempool.MaxBatchTxs = p.Availability.MaxBatchTxs + 1 }, "batches"},
		{"client window", func(p *trantor.Params) { p.Mempool.ClientWindow = p.BatchFetcher.ClientWindow + 1 }, "ClientWindow"},
		{"client ID", func(p *trantor.Params) {
			p.Mempool.MaxClientIDBytes = p.BatchFetcher.MaxClientIDBytes + 1
			p.Availability.MaxTxBytes++
		}, "MaxClientIDBytes"},
		{"pending slots", func(p *trantor.Params) { p.BatchFetcher.MaxPendingSlots = 10 }, "MaxPendingSlots"},
		{"state too large", func(p *trantor.Params) { p.BatchFetcher.MaxAppStateBytes = p.MaxStateBytes }, "MaxStateBytes"},
		{"no state", func(p *trantor.Params) { p.MaxStateBytes = 0 }, "MaxStateBytes"},
		{"a part invalid", func(p *trantor.Params) { p.Mempool.BatchTimeout = 0 }, "Params.Mempool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := trantor.DefaultParams(four)
			tc.change(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %s", err, tc.want)
			}
			if _, err := trantor.New("0", p, trantor.Deps{Transport: "net", Timer: "timer", WAL: "wal", Crypto: "crypto", App: &logApp{}}); err == nil {
				t.Error("New accepted them")
			}
		})
	}
}

// TestNewModules: New builds every module of docs/trantor.md under its
// ID, and refuses a node without an App.
func TestNewModules(t *testing.T) {
	deps := trantor.Deps{Transport: "net", Timer: "timer", WAL: "wal", Crypto: "crypto", App: &logApp{}}
	mods, err := trantor.New("0", trantor.DefaultParams(four), deps)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range mods {
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	want := []string{"app", "availability", "batchfetcher", "checkpoint", "hasher", "iss", "mempool", "ordering", "rnet"}
	if !slices.Equal(ids, want) {
		t.Errorf("modules %v, want %v", ids, want)
	}
	deps.App = nil
	if _, err := trantor.New("0", trantor.DefaultParams(four), deps); err == nil {
		t.Error("New accepted no App")
	}
}

// TestClientWindowAgrees: the client library's default window is within
// the nodes' default client window, which drop what lies beyond it.
func TestClientWindowAgrees(t *testing.T) {
	p := trantor.DefaultParams(membership.EqualVoters("0"))
	if w := client.DefaultOptions().Window; w > p.BatchFetcher.ClientWindow || w > p.Mempool.ClientWindow {
		t.Fatalf("client window %d, nodes' %d and %d", w, p.BatchFetcher.ClientWindow, p.Mempool.ClientWindow)
	}
}
