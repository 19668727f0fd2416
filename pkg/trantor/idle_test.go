package trantor_test

import (
	"testing"
	"time"
)

// TestIdleEpochsAdvance: with no load, leaders propose empty slots after
// MaxProposeDelay, so epochs go on.
func TestIdleEpochsAdvance(t *testing.T) {
	c := newCluster(t, 1, clusterOptions{n: 4})
	run(t, c, 1, load{Clients: 1, Txs: 10, PayloadBytes: 8, Rate: 100, Start: time.Millisecond})
	before := c.ISS("0").Stats()
	_ = c.WaitFor(func() bool { return false }, 5*time.Second)
	after := c.ISS("0").Stats()
	t.Logf("before %+v\nafter %+v", before, after)
	if after.Epoch <= before.Epoch {
		t.Errorf("no epoch in 5 s idle")
	}
}
