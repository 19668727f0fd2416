package mempool_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// requestOf returns a request for a proposal of epoch e.
func requestOf(e stdtypes.EpochNr, ref uint64) *mempool.RequestBatch {
	r := request(ref)
	r.Epoch = e
	return r
}

func epochExecuted(e stdtypes.EpochNr) *mempool.EpochExecuted {
	return &mempool.EpochExecuted{Header: stdtypes.NewHeader(mc.Self), Epoch: e}
}

// TestRequestWaitsForEarlierEpochs: the request of a proposal of epoch e is
// answered only once the slots of the epochs before e are executed here.
// Another leader ordered a.0 in epoch 0, whose last slot this node has not
// handed on yet: answered at once, the request of epoch 1 would give a.0
// out to be ordered a second time; held, it gets what is left once the
// Executed and EpochExecuted of epoch 0 come.
func TestRequestWaitsForEarlierEpochs(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0, 1, 2, 3))
	if out := h.apply(requestOf(1, 7)); len(out) != 0 {
		t.Fatalf("the request of epoch 1 was answered before epoch 0 was executed: %q", out)
	}
	if out := h.fire(); len(out) != 0 {
		t.Fatalf("the request of epoch 1 was answered on a timeout before epoch 0 was executed: %q", out)
	}
	want(t, h.apply(executed(ids("a", 0)), epochExecuted(0)), "availability/7: a.1 a.2 a.3")
	if s := h.m.Stats(); s.EpochWaits != 1 || s.NextEpoch != 1 {
		t.Fatalf("EpochWaits %d, NextEpoch %d; want 1 and 1", s.EpochWaits, s.NextEpoch)
	}
}

// TestRequestOfEarlierEpochs: a request of the epoch the mempool is at, or
// of an earlier one (an orderer of an epoch that ended), is answered at
// once; an EpochExecuted of an earlier epoch than one the mempool was told
// changes nothing.
func TestRequestOfEarlierEpochs(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0, 1, 2), newTxs("b", 0, 1, 2))
	want(t, h.apply(requestOf(0, 1)), "availability/1: a.0 a.1 a.2")
	h.apply(epochExecuted(4), epochExecuted(2))
	if out := h.apply(requestOf(6, 2)); len(out) != 0 {
		t.Fatalf("the request of epoch 6 was answered with epoch 4 executed: %q", out)
	}
	want(t, h.apply(requestOf(3, 3)), "availability/3: b.0 b.1 b.2")
	if s := h.m.Stats(); s.EpochWaits != 1 || s.NextEpoch != 5 {
		t.Fatalf("EpochWaits %d, NextEpoch %d; want 1 and 5", s.EpochWaits, s.NextEpoch)
	}
}
