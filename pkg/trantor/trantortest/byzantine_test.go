package trantortest_test

import (
	"bytes"
	"testing"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/stdtypes"
)

// TestForgeLeavesTheOriginal: a forgery is a new message; the sender's
// (which shares memory with its state) is left as it was. (A forgery of
// a one-transaction batch once wrote into the sender's stored batch: the
// Byzantine node then executed the forged transaction itself, found by
// kvstore's TestLinearizable/byzantine/4_nodes, seed 3.)
func TestForgeLeavesTheOriginal(t *testing.T) {
	for _, n := range []int{1, 3} {
		var txs []mempool.Tx
		for i := range n {
			txs = append(txs, mempool.Tx{TxID: mempool.TxID{ClientID: "c", TxNo: uint64(i)}, Data: []byte{byte(i)}})
		}
		rs := &availability.RequestSigMsg{Txs: txs}
		msg := &reliablenet.DataMsg{Msg: rs}
		forged := trantortest.ForgeRequestSig(msg)
		f := forged.(*reliablenet.DataMsg).Msg.(*availability.RequestSigMsg)
		if f == rs || len(f.Txs) != max(n-1, 1) || n == 1 && !bytes.HasPrefix(f.Txs[0].Data, []byte("forged")) {
			t.Errorf("%d transactions: forged %+v", n, f.Txs)
		}
		for i, tx := range rs.Txs {
			if tx.TxNo != uint64(i) || !bytes.Equal(tx.Data, []byte{byte(i)}) {
				t.Errorf("%d transactions: the original's %dth changed to %+v", n, i, tx)
			}
		}
	}
	pp := &pbft.PrePrepareMsg{Value: []byte("v")}
	forged := trantortest.ForgePrePrepare(&reliablenet.DataMsg{Msg: pp})
	if f := forged.(*reliablenet.DataMsg).Msg.(*pbft.PrePrepareMsg); len(f.Value) != 0 || string(pp.Value) != "v" {
		t.Errorf("PREPREPARE forged to %q, original now %q", f.Value, pp.Value)
	}
	var other stdtypes.Message = &reliablenet.AckMsg{}
	if trantortest.ForgeRequestSig(other) != other || trantortest.ForgePrePrepare(other) != other {
		t.Error("a message of another type was forged")
	}
}
