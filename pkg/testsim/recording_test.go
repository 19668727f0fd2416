package testsim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/eventlogtest"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// timestamp is what a recording of a simulation shows for simulated time
// d.
var timestamp = testsim.Timestamp

// noSeq5 is violated when node 2 receives message 5.
type noSeq5 struct{}

func (noSeq5) Name() string { return "no message 5 at node 2" }

func (noSeq5) Observe(o *testsim.Observation) error {
	if mr, ok := o.Event.(*stdevents.MessageReceived); ok && o.Node == "2" && mr.Msg.(*msg).Seq == 5 {
		return errors.New("message 5 arrived")
	}
	return nil
}

// TestRecordingCarriesSimulatedTime: a recorder in a simulated node
// records simulated time, so that the recording of a failing seed lines
// up with the failure report: every event observed before the failure is
// in the recording at the time the report gives it (as mircat shows it),
// and the first events, the Inits, at the simulated start.
func TestRecordingCarriesSimulatedTime(t *testing.T) {
	dir := t.TempDir()
	s := testsim.New(testsim.Options{Seed: 3, HistorySize: 1000})
	ids := []stdtypes.NodeID{"0", "1", "2"}
	network, err := sim.New(s, ids, sim.Options{Link: sim.LinkConfig{Latency: testsim.Uniform(time.Millisecond, 3*time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	var recorders []*eventlog.Recorder
	for _, id := range ids {
		tr, _ := network.Transport(id)
		rec, err := eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{}, eventlog.RecorderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		recorders = append(recorders, rec)
		if _, err := s.AddNode(id, testsim.NodeConfig{
			Build: func(int) (modules.Modules, error) {
				return modules.Modules{"probe": probe{}, "net": tr, "timer": testsim.NewTimer()}, nil
			},
			Interceptor: rec,
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Check(noSeq5{})
	for i := range uint64(8) {
		s.Node("0").InjectAt(time.Duration(i)*700*time.Microsecond, &sendReq{Header: stdtypes.NewHeader("probe"), Seq: i, To: ids})
	}
	err = s.Run(time.Second)
	var f *testsim.Failure
	if !errors.As(err, &f) {
		t.Fatalf("Run = %v, want a failure", err)
	}
	for _, rec := range recorders {
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	type key struct {
		node stdtypes.NodeID
		at   int64 // Unix ns
		dest stdtypes.ModuleID
	}
	recorded := map[key]int{}
	first := map[stdtypes.NodeID]time.Time{}
	for _, r := range eventlogtest.ReadDir(t, dir) {
		if _, ok := first[r.Node]; !ok {
			first[r.Node] = r.Time
		}
		recorded[key{r.Node, r.Time.UnixNano(), r.Dest}]++
	}
	for _, id := range ids {
		if !first[id].Equal(timestamp(0)) {
			t.Errorf("node %s: first record at %v, want the simulated start %v", id, first[id], timestamp(0))
		}
	}
	checked := 0
	for _, o := range f.History {
		if o.Event == nil || o.Time >= f.Time {
			continue // notes are not events; the failing batch was not dispatched
		}
		k := key{o.Node, timestamp(o.Time).UnixNano(), o.Event.Dest()}
		if recorded[k] == 0 {
			t.Errorf("%s: not in the recording at %s", o.String(), timestamp(o.Time).Format("2006-01-02T15:04:05.000000Z07:00"))
		}
		recorded[k]--
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d events of the report checked", checked)
	}
}
