package trantortest_test

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/stdtypes"
)

// TestCheckerCatches: the checker finds each violation it names, in a
// history fed to it by hand.
func TestCheckerCatches(t *testing.T) {
	exec := func(node stdtypes.NodeID, inc int, sn stdtypes.SeqNr, data string, ids ...uint64) *testsim.Observation {
		ev := &trantor.Executed{Header: stdtypes.NewHeader(trantor.ClientsID), SeqNr: sn}
		for _, id := range ids {
			ev.Txs = append(ev.Txs, mempool.Tx{TxID: mempool.TxID{ClientID: "c", TxNo: id}, Data: []byte(data)})
			ev.Results = append(ev.Results, []byte("r"))
		}
		return &testsim.Observation{Node: node, Incarnation: inc, Event: ev}
	}
	restore := func(node stdtypes.NodeID, inc int, sn stdtypes.SeqNr) *testsim.Observation {
		return &testsim.Observation{Node: node, Incarnation: inc, Event: &batchfetcher.RestoreApp{Header: stdtypes.NewHeader(trantor.AppID), SeqNr: sn}}
	}
	for _, tc := range []struct {
		name    string
		history []*testsim.Observation
		want    string // "" for a correct history
	}{
		{"correct", []*testsim.Observation{exec("0", 1, 1, "a", 1), exec("1", 1, 1, "a", 1), exec("0", 1, 3, "b", 2),
			exec("0", 2, 1, "a", 1), restore("1", 2, 3), exec("1", 2, 3, "b", 2)}, ""},
		{"disagreement", []*testsim.Observation{exec("0", 1, 1, "a", 1), exec("1", 1, 1, "b", 1)}, "differently"},
		{"duplicate across slots", []*testsim.Observation{exec("0", 1, 1, "a", 1), exec("0", 1, 2, "a", 1)}, "executed in slot"},
		{"duplicate in a slot", []*testsim.Observation{exec("0", 1, 1, "a", 1, 1)}, "executed in slot"},
		{"out of order", []*testsim.Observation{exec("0", 1, 2, "a", 1), exec("0", 1, 1, "a", 2)}, "after it reached"},
		{"twice", []*testsim.Observation{exec("0", 1, 2, "a", 1), exec("0", 1, 2, "a", 1)}, "after it reached"},
		{"below the restored state", []*testsim.Observation{restore("0", 1, 5), exec("0", 1, 2, "a", 1)}, "after it reached"},
		{"restore backwards", []*testsim.Observation{exec("0", 1, 5, "a", 1), restore("0", 1, 2)}, "restores"},
		{"no results", []*testsim.Observation{{Node: "0", Incarnation: 1, Event: &trantor.Executed{Txs: []mempool.Tx{{TxID: mempool.TxID{ClientID: "c"}}}}}}, "results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := trantortest.NewChecker()
			var err error
			for _, o := range tc.history {
				if err = c.Observe(o); err != nil {
					break
				}
			}
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
