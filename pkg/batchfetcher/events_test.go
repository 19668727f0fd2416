package batchfetcher_test

import (
	"reflect"
	"testing"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

var (
	_ modules.PassiveModule = (*batchfetcher.Module)(nil)
	_ modules.StatsReporter = (*batchfetcher.Module)(nil)
)

// The fetcher's events go through the codec (an event log records them)
// and come back equal.
func TestEventsEncode(t *testing.T) {
	for _, ev := range []stdtypes.Event{
		&batchfetcher.Execute{Header: stdtypes.NewHeader("app"), Epoch: 2, SeqNr: 9, Txs: []mempool.Tx{tx("c", 1)}},
		&batchfetcher.SnapshotRequest{Header: stdtypes.NewHeader("app"), ReplyTo: "batchfetcher", Epoch: 2, SeqNr: 10},
		&batchfetcher.AppSnapshot{Header: stdtypes.NewHeader("batchfetcher"), Epoch: 2, Data: []byte("s"),
			NextVoters: membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)},
		&batchfetcher.RestoreApp{Header: stdtypes.NewHeader("app"), Epoch: 2, SeqNr: 10, Data: []byte("s")},
	} {
		data, err := codec.EncodeEvent(ev)
		if err != nil {
			t.Fatalf("%s: %v", stdtypes.TypeName(ev), err)
		}
		got, err := codec.DecodeEvent(data)
		if err != nil || !reflect.DeepEqual(got, ev) {
			t.Fatalf("%s: decoded %#v (%v), want %#v", stdtypes.TypeName(ev), got, err, ev)
		}
	}
}
