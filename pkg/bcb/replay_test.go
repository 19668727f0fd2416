package bcb_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/stdtypes"
)

// simBuilder rebuilds a simulated node's modules as cfg builds them; the
// transport and the timer, simulated in the run, are not run in a replay.
func simBuilder(cfg deploytest.Config) replay.BuildFunc {
	return func(node stdtypes.NodeID, _ []byte) (modules.Modules, error) {
		mods, err := cfg.Build(deploytest.NodeInfo{
			ID: node, Membership: nodeIDs(4), Incarnation: 1,
			Transport: deploytest.DefaultTransportID, Timer: deploytest.DefaultTimerID,
		})
		if err != nil {
			return nil, err
		}
		mods[deploytest.DefaultTransportID] = modules.NullActive{}
		mods[deploytest.DefaultTimerID] = modules.NullActive{}
		return mods, nil
	}
}

// TestRecordedSimulationReplays records every node of a simulated run
// with lossy links and replays each: the BCB module and the synchronous
// crypto module, rebuilt, must produce exactly the recorded outputs.
func TestRecordedSimulationReplays(t *testing.T) {
	dir := t.TempDir()
	cfg := simConfig(t, 4, nil)
	// The simulated nodes' crypto is the synchronous module, a passive
	// one: the replay rebuilds it too, as simConfig builds it.
	build := simBuilder(cfg)
	recorders := map[stdtypes.NodeID]*eventlog.Recorder{}
	d, err := deploytest.NewSimulated(cfg, deploytest.SimOptions{
		Seed:    7,
		Network: sim.Options{Link: lossy},
		Interceptor: func(id stdtypes.NodeID) eventlog.Interceptor {
			rec, err := eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{}, eventlog.RecorderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			recorders[id] = rec
			return rec
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	props := newBCBProperties()
	d.Check(props.consistency, props.integrity, props.validity)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	s := d.Sim()
	for seq := range uint64(5) {
		for _, id := range d.Nodes() {
			s.At(time.Duration(seq)*simInterval, func() {
				if err := d.Node(id).Inject(bcb.NewBroadcast(mc.Self, seq, payloadOf(id, seq))); err != nil {
					t.Error(err)
				}
			})
		}
	}
	if err := s.CheckLivenessAfter(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, rec := range recorders {
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range d.Nodes() {
		src, err := eventlog.OpenStream(filepath.Join(dir, fmt.Sprintf("%s.000000%s", id, eventlog.StreamExt)))
		if err != nil {
			t.Fatal(err)
		}
		mods, err := build(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := replay.Run(src, mods)
		src.Close()
		if err != nil {
			t.Fatalf("node %s: %v", id, err)
		}
		if !res.Identical() {
			t.Errorf("node %s: %s", id, res.Divergence)
		}
		if res.Compared < 20 {
			t.Errorf("node %s: only %d outputs compared", id, res.Compared)
		}
	}
}
