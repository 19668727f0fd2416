package bcb_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/stdtypes"
)

// simNodeInfo is what the simulated deployment of the replay tests tells
// node id's Build: 4 nodes, the first incarnation, the default IDs.
func simNodeInfo(id stdtypes.NodeID) deploytest.NodeInfo {
	return deploytest.NodeInfo{
		ID: id, Nodes: stdtypes.NumberedNodeIDs(4), Incarnation: 1,
		Transport: deploytest.DefaultTransportID, Timer: deploytest.DefaultTimerID,
	}
}

// recordInto returns the deployments' hook that records each node into
// dir, with the metadata ReplayMeta makes of its parameters (simParams).
func recordInto(t *testing.T, dir string) func(stdtypes.NodeID) eventlog.Interceptor {
	return func(id stdtypes.NodeID) eventlog.Interceptor {
		meta, err := bcb.Replay.Meta(simParams(simNodeInfo(id)))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{Meta: meta}, eventlog.RecorderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return rec // The deployment closes it when it stops.
	}
}

// recordSimulation runs 4 simulated nodes with lossy links, every node
// broadcasting, and records each into dir.
func recordSimulation(t *testing.T, dir string) {
	t.Helper()
	d, err := deploytest.NewSimulated(simConfig(t, 4, nil), deploytest.SimOptions{
		Seed:        7,
		Network:     sim.Options{Link: lossy},
		Interceptor: recordInto(t, dir),
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Check(bcbProperties()...)
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
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
}

// replayRecorded replays node id's recording in dir with the modules
// bcb.ReplayBuilder builds from the recorded metadata, changed by alter if
// not nil. If passiveCrypto, the node's crypto module was the synchronous
// one, as in a simulation, whose outputs are in the recording: the replay
// runs it too, in place of the builder's stand-in.
func replayRecorded(t *testing.T, dir string, id stdtypes.NodeID, passiveCrypto bool, alter func(*bcb.ReplayParams)) *replay.Result {
	t.Helper()
	src, err := eventlog.OpenStream(filepath.Join(dir, fmt.Sprintf("%s.000000%s", id, eventlog.StreamExt)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	meta := src.Header().Meta
	params := []byte(meta[replay.MetaParams])
	if alter != nil {
		var p bcb.ReplayParams
		if err := json.Unmarshal(params, &p); err != nil {
			t.Fatal(err)
		}
		alter(&p)
		altered, err := bcb.Replay.Meta(p)
		if err != nil {
			t.Fatal(err)
		}
		params = []byte(altered[replay.MetaParams])
	}
	mods, err := replay.Builders{bcb.Replay.Builder()}.Build(meta[replay.MetaBuilder], id, params)
	if err != nil {
		t.Fatal(err)
	}
	if passiveCrypto {
		if mods[mc.Crypto], err = crypto.NewModule(nodeCrypto(t, 4, slices.Index(stdtypes.NumberedNodeIDs(4), id))); err != nil {
			t.Fatal(err)
		}
	}
	res, err := replay.Run(src, mods)
	if err != nil {
		t.Fatalf("node %s: %v", id, err)
	}
	return res
}

// TestRecordedSimulationReplays records every node of a simulated run
// with lossy links and replays each with the modules ReplayBuilder
// rebuilds from the recording: the bcb and the reliablenet modules (and
// the synchronous crypto module) must produce exactly the recorded
// outputs.
func TestRecordedSimulationReplays(t *testing.T) {
	dir := t.TempDir()
	recordSimulation(t, dir)
	replaysIdentical(t, dir, true, 100)
}

// replaysIdentical replays every node recorded in dir (replayRecorded) and
// checks that each replays exactly, with at least minCompared outputs
// compared.
func replaysIdentical(t *testing.T, dir string, passiveCrypto bool, minCompared uint64) {
	t.Helper()
	for _, id := range stdtypes.NumberedNodeIDs(4) {
		res := replayRecorded(t, dir, id, passiveCrypto, nil)
		if !res.Identical() {
			t.Errorf("node %s: %s", id, res.Divergence)
		}
		if res.Compared < minCompared {
			t.Errorf("node %s: only %d outputs compared", id, res.Compared)
		}
	}
}

// A replay catches a module that does not behave as the recorded one: the
// bcb module or the reliablenet module rebuilt with other parameters.
func TestReplayCatchesAlteredModule(t *testing.T) {
	dir := t.TempDir()
	recordSimulation(t, dir)
	for _, tc := range []struct {
		name  string
		alter func(*bcb.ReplayParams)
		// dest is where the first output that differs goes.
		dest stdtypes.ModuleID
	}{
		// A wider window lets the leader start its fifth instance before
		// its first is finished: it asks early for the signature of its
		// own echo.
		{"bcb window", func(p *bcb.ReplayParams) { p.Params.Window = 8 }, mc.Crypto},
		// A retransmission one tick later.
		{"reliablenet backoff", func(p *bcb.ReplayParams) { p.ReliableNetParams.MinBackoffTicks++ }, deploytest.DefaultTransportID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := replayRecorded(t, dir, "0", true, tc.alter)
			if res.Identical() {
				t.Fatalf("the altered module replays identically (%d outputs compared)", res.Compared)
			}
			if d := res.Divergence; d.Dest != tc.dest {
				t.Errorf("the first difference is in an event for %s, want %s:\n%s", d.Dest, tc.dest, d)
			}
		})
	}
}

// TestRecordedDeploymentReplays records the nodes of a real deployment
// built as a deployed node is, with the crypto worker pool, an active
// module whose answers the recording holds as inputs: the modules
// ReplayBuilder rebuilds, and nothing else, replay each node exactly.
func TestRecordedDeploymentReplays(t *testing.T) {
	dir := t.TempDir()
	pool := func(c crypto.Crypto) (modules.Module, error) {
		return crypto.NewPool(c, runner.PoolParams{Workers: 2, MaxPendingItems: 1 << 10})
	}
	cfg, err := newConfig(stdtypes.NumberedNodeIDs(4), nil, pool)
	if err != nil {
		t.Fatal(err)
	}
	d, err := deploytest.NewReal(cfg, deploytest.RealOptions{Interceptor: recordInto(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	delivered := deploytest.Collect[*bcb.Deliver](d)
	d.Check(bcbProperties()...)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	const count = 5
	for seq := range uint64(count) {
		if err := d.Submit("0", bcb.NewBroadcast(mc.Self, seq, payloadOf("0", seq))); err != nil {
			t.Fatal(err)
		}
	}
	waitErr := d.WaitFor(func() bool { return delivered.Len() == 4*count }, 20*time.Second)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if waitErr != nil {
		t.Fatalf("%v; %d deliveries of %d", waitErr, delivered.Len(), 4*count)
	}
	replaysIdentical(t, dir, false, 10)
}
