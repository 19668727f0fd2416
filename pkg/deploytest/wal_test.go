package deploytest_test

import (
	"os"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/samples/counter"
	"github.com/mirframework/mir/stdtypes"
)

// walConfig is a deployment of counters (samples/counter), which persist
// their counts, recording the NodeInfo each constructor call gets.
func walConfig(infos *[]deploytest.NodeInfo) deploytest.Config {
	cfg := counter.DeployConfig([]stdtypes.NodeID{"0", "1"})
	build := cfg.Build
	cfg.Build = func(info deploytest.NodeInfo) (modules.Modules, error) {
		*infos = append(*infos, info)
		return build(info)
	}
	return cfg
}

// TestSimulatedRestartFromWAL: a simulated node restarts with what its
// WAL twin recovered from its simulated disk, which survived the crash.
func TestSimulatedRestartFromWAL(t *testing.T) {
	var infos []deploytest.NodeInfo
	d, err := deploytest.NewSimulated(walConfig(&infos), deploytest.SimOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var recovered []stdtypes.Event
	d.Observe(func(o *testsim.Observation) {
		if _, ok := o.Event.(*counter.Counted); ok {
			recovered = append(recovered, o.Event)
		}
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if err := d.Submit("0", counter.NewIncrement(counter.ID), counter.NewIncrement(counter.ID)); err != nil {
		t.Fatal(err)
	}
	d.Node("0").CrashAt(100 * time.Millisecond)
	d.Node("0").RestartAt(200 * time.Millisecond)
	if err := d.Sim().Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if len(recovered) != 1 || recovered[0].(*counter.Counted).Value != 2 {
		t.Errorf("recovered %v, want count 2", recovered)
	}
	if d.Disk("0") == nil || d.Disk("0").FS().Unsynced() != 0 {
		t.Error("no disk, or one with unsynced writes at the end")
	}
	if len(infos) != 3 || infos[0].WAL != deploytest.DefaultWALID || infos[2].Incarnation != 2 {
		t.Errorf("the constructor got %+v", infos)
	}
}

// TestRealWALInTempDir: real nodes without a WAL directory keep their logs
// in a temporary one, which Stop removes.
func TestRealWALInTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var infos []deploytest.NodeInfo
	d, err := deploytest.NewReal(walConfig(&infos), deploytest.RealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 1 {
		t.Fatalf("the temporary directory holds %v, %v; want the WALs' directory", entries, err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 0 {
		t.Errorf("Stop left %v, %v", entries, err)
	}
	if len(infos) != 2 || infos[0].WAL != deploytest.DefaultWALID {
		t.Errorf("the constructor got %+v", infos)
	}
}

// TestRealWALLogStats: a real deployment reports the counters of each
// node's log, the group commits with their times among them.
func TestRealWALLogStats(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var infos []deploytest.NodeInfo
	d, err := deploytest.NewReal(walConfig(&infos), deploytest.RealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	if err := d.Submit("0", counter.NewIncrement(counter.ID), counter.NewIncrement(counter.ID)); err != nil {
		t.Fatal(err)
	}
	committed := func() bool { st := d.WALLogStats(); return len(st) == 2 && st[0].Groups+st[1].Groups > 0 }
	if err := d.WaitFor(committed, 10*time.Second); err != nil {
		t.Fatalf("no group committed: %v (%+v)", err, d.WALLogStats())
	}
	for i, st := range d.WALLogStats() {
		var n uint64
		for _, c := range st.CommitCounts {
			n += c
		}
		if n != st.Groups {
			t.Errorf("node %d: %d groups counted by time, %d written", i, n, st.Groups)
		}
	}
}

// TestNoWAL: a deployment without WAL gives no WAL module and no disk.
func TestNoWAL(t *testing.T) {
	d, err := deploytest.NewSimulated(brachaConfig(4, 1, false), deploytest.SimOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.Disk("0") != nil {
		t.Error("a disk without a WAL")
	}
}
