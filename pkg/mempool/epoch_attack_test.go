package mempool_test

import (
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

// TestEpochWaitLiveness: whatever order the EpochExecuted events and the
// requests come in, a request is answered as soon as the epochs before
// its own are executed and its buckets hold transactions: an
// EpochExecuted before the request, one skipped (a restore to a later
// epoch), one of an earlier epoch after a later one (a restore behind),
// requests of several epochs held at once, a cancelled one, and a
// timeout that fired while the request waited for its epoch.
func TestEpochWaitLiveness(t *testing.T) {
	t.Run("executed before the request", func(t *testing.T) {
		h := newMempool(t, nil)
		h.apply(epochExecuted(0), newTxs("a", 0))
		h.fire()
		want(t, h.apply(requestOf(1, 1)), "availability/1: a.0")
	})
	t.Run("several epochs held, released in order", func(t *testing.T) {
		h := newMempool(t, nil)
		h.apply(newTxs("a", 0, 1, 2))
		want(t, h.apply(requestOf(3, 3), requestOf(2, 2), requestOf(1, 1)))
		want(t, h.fire())
		want(t, h.apply(epochExecuted(0)), "availability/1: a.0 a.1 a.2")
		h.apply(newTxs("b", 0))
		want(t, h.apply(epochExecuted(1)), "availability/2: b.0")
		h.apply(newTxs("c", 0))
		want(t, h.apply(epochExecuted(2)), "availability/3: c.0")
	})
	t.Run("restore past the requests' epochs", func(t *testing.T) {
		h := newMempool(t, nil)
		h.apply(newTxs("a", 0))
		want(t, h.apply(requestOf(5, 1)))
		h.fire()
		want(t, h.apply(epochExecuted(9)), "availability/1: a.0")
	})
	t.Run("restore behind", func(t *testing.T) {
		h := newMempool(t, nil)
		h.apply(epochExecuted(9), epochExecuted(2), newTxs("a", 0))
		h.fire()
		want(t, h.apply(requestOf(10, 1)), "availability/1: a.0")
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		h := newMempool(t, nil)
		h.apply(newTxs("a", 0))
		want(t, h.apply(requestOf(1, 1), cancel(1)))
		want(t, h.apply(epochExecuted(0)))
		h.fire()
		want(t, h.apply(requestOf(1, 1)), "availability/1: a.0")
	})
	t.Run("held requests bounded by MaxRequests only", func(t *testing.T) {
		h := newMempool(t, nil)
		for ref := range uint64(h.p.MaxRequests) {
			want(t, h.apply(requestOf(stdtypes.EpochNr(ref+1), ref)))
		}
		if _, err := h.try(requestOf(1, 1000)); err == nil {
			t.Fatal("a request past MaxRequests was taken")
		}
		h.apply(newTxs("a", 0))
		h.fire()
		want(t, h.apply(epochExecuted(0)), "availability/0: a.0")
	})
}
