package deploytest_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/internal/rbc"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// TestInterceptorHook: both kinds of deployment hand every node's batches
// to the interceptor the options name, the hook for an event recorder.
func TestInterceptorHook(t *testing.T) {
	var events atomic.Int64
	hook := func(stdtypes.NodeID) eventlog.Interceptor {
		return eventlog.InterceptorFunc(func(evs *stdtypes.EventList) error {
			events.Add(int64(evs.Len()))
			return nil
		})
	}
	simulated, err := deploytest.NewSimulated(rbcConfig(4, 1, false), deploytest.SimOptions{Seed: 1, Interceptor: hook})
	if err != nil {
		t.Fatal(err)
	}
	real, err := deploytest.NewReal(rbcConfig(4, 1, false), deploytest.RealOptions{Interceptor: hook})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []deploytest.Deployment{simulated, real} {
		events.Store(0)
		var observed atomic.Int64
		d.Observe(func(*testsim.Observation) { observed.Add(1) })
		delivered := deploytest.Collect[*rbc.Deliver](d)
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		if err := d.Submit("1", rbc.NewBroadcast(rbcID, "1", 1, "x")); err != nil {
			t.Fatal(err)
		}
		if err := d.WaitFor(func() bool { return delivered.Len() == 4 }, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := d.Stop(); err != nil {
			t.Fatal(err)
		}
		if events.Load() == 0 || events.Load() != observed.Load() {
			t.Errorf("simulated %v: the interceptor saw %d events, the observers %d", d.Simulated(), events.Load(), observed.Load())
		}
	}
}
