package deploytest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/stdtypes"
)

func TestWaitForTimesOut(t *testing.T) {
	d, err := deploytest.NewSimulated(brachaConfig(4, 1, false), deploytest.SimOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Submit("0"); err == nil {
		t.Error("Submit before Start succeeded")
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	err = d.WaitFor(func() bool { return false }, time.Second)
	if !errors.Is(err, deploytest.ErrTimeout) || d.Now() != time.Second {
		t.Errorf("WaitFor: %v at %v, want a timeout at 1s", err, d.Now())
	}
	if err := d.Start(); err == nil {
		t.Error("a second Start succeeded")
	}
}

func TestConfigErrors(t *testing.T) {
	good := brachaConfig(4, 1, false)
	for name, cfg := range map[string]deploytest.Config{
		"no nodes":      {Build: good.Build},
		"no builder":    {Nodes: good.Nodes},
		"twice":         {Nodes: []stdtypes.NodeID{"0", "0"}, Build: good.Build},
		"same IDs":      {Nodes: good.Nodes, Build: good.Build, TransportID: "x", TimerID: "x"},
		"reserved ID":   {Nodes: good.Nodes, Build: good.Build, TransportID: brachaID},
		"WAL reserved":  {Nodes: good.Nodes, Build: good.Build, WAL: true, WALID: brachaID},
		"WAL same ID":   {Nodes: good.Nodes, Build: good.Build, WAL: true, WALID: deploytest.DefaultTimerID},
		"WAL a path":    {Nodes: good.Nodes, Build: good.Build, WAL: true, WALID: "wal/x"},
		"build failure": brachaConfig(2, 1, false), // 2 nodes cannot tolerate a fault
	} {
		d, err := deploytest.NewSimulated(cfg, deploytest.SimOptions{})
		if err == nil {
			err = d.Start()
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
