package deploytest_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/eventlogtest"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/samples/bracha"
	"github.com/mirframework/mir/stdtypes"
)

// newDeployment returns a simulated (seed 1) or real deployment of the
// broadcast on 4 nodes, with hook, if not nil, as its interceptor hook.
func newDeployment(t *testing.T, simulated bool, hook func(stdtypes.NodeID) eventlog.Interceptor) deploytest.Deployment {
	t.Helper()
	var d deploytest.Deployment
	var err error
	if simulated {
		d, err = deploytest.NewSimulated(brachaConfig(4, 1, false), deploytest.SimOptions{Seed: 1, Interceptor: hook})
	} else {
		d, err = deploytest.NewReal(brachaConfig(4, 1, false), deploytest.RealOptions{Interceptor: hook})
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deliverOne starts d, has node 1 broadcast a value, waits until every
// node delivered it, and stops d. It returns the first error.
func deliverOne(d deploytest.Deployment) error {
	delivered := deploytest.Collect[*bracha.Deliver](d)
	if err := d.Start(); err != nil {
		return err
	}
	err := d.Submit("1", bracha.NewBroadcast(brachaID, "1", 1, "x"))
	if err == nil {
		err = d.WaitFor(func() bool { return delivered.Len() == len(d.Nodes()) }, 10*time.Second)
	}
	if stopErr := d.Stop(); err == nil {
		err = stopErr
	}
	return err
}

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
	for _, simulated := range []bool{true, false} {
		d := newDeployment(t, simulated, hook)
		events.Store(0)
		var observed atomic.Int64
		d.Observe(func(*testsim.Observation) { observed.Add(1) })
		if err := deliverOne(d); err != nil {
			t.Fatal(err)
		}
		if events.Load() == 0 || events.Load() != observed.Load() {
			t.Errorf("simulated %v: the interceptor saw %d events, the observers %d", simulated, events.Load(), observed.Load())
		}
	}
}

// TestDeploymentClosesRecorders: a deployment closes, when it stops, the
// interceptors it was given that can be closed (recorders), so the caller
// need not find them; closing again, or stopping again, is harmless. A
// simulated deployment's recording carries simulated time, a real one's
// the wall clock's, and both tell inputs from outputs.
func TestDeploymentClosesRecorders(t *testing.T) {
	for _, simulated := range []bool{true, false} {
		dir := t.TempDir()
		var recorders []*eventlog.Recorder
		d := newDeployment(t, simulated, func(id stdtypes.NodeID) eventlog.Interceptor {
			rec, err := eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{}, eventlog.RecorderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			recorders = append(recorders, rec)
			return rec
		})
		started := time.Now()
		if err := deliverOne(d); err != nil {
			t.Fatal(err)
		}
		if err := d.Stop(); err != nil {
			t.Fatalf("simulated %v: second Stop: %v", simulated, err)
		}
		if len(recorders) != 4 {
			t.Fatalf("simulated %v: %d recorders made", simulated, len(recorders))
		}
		for _, rec := range recorders {
			if err := rec.Intercept(stdtypes.ListOf(bracha.NewBroadcast(brachaID, "1", 2, "y"))); err == nil {
				t.Errorf("simulated %v: a recorder is still open after Stop", simulated)
			}
			if err := rec.Close(); err != nil {
				t.Errorf("simulated %v: closing again: %v", simulated, err)
			}
		}
		recs := eventlogtest.ReadDir(t, dir) // fails on a log cut short
		inputs := 0
		for _, r := range recs {
			if r.Input {
				inputs++
			}
		}
		if len(recs) == 0 || inputs == 0 || inputs == len(recs) {
			t.Errorf("simulated %v: %d records, %d inputs", simulated, len(recs), inputs)
		}
		earliest := started.Add(-time.Second)
		if simulated {
			earliest = testsim.Timestamp(0)
		}
		if first := recs[0].Time; !first.Equal(earliest) && (simulated || first.Before(earliest)) {
			t.Errorf("simulated %v: first record at %v", simulated, first)
		}
	}
}
