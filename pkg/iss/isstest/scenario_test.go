package isstest_test

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// TestScenarios plays testdata/scenarios/*.txt: systems of Apps alone, to
// which the scenario delivers the log itself (the input "deliver"), so
// that the Checker's verdicts and the history are pinned down without
// ISS. -sim.rewrite rewrites their outcomes.
func TestScenarios(t *testing.T) {
	p := isstest.Scenarios(func(nodes []stdtypes.NodeID, _ *scenario.Args) (isstest.SystemConfig, error) {
		return isstest.SystemConfig{
			Nodes: nodes,
			Build: func(deploytest.NodeInfo) (modules.Modules, error) { return modules.Modules{}, nil },
		}, nil
	})
	// deliver slot=N client=C seq=S payload=P: slot N holds request C/S;
	// with abort=true, ⊥.
	p.Inputs["deliver"] = func(_ stdtypes.NodeID, a *scenario.Args) ([]stdtypes.Event, error) {
		d := &iss.Deliver{Header: stdtypes.NewHeader(isstest.DefaultID), SeqNr: stdtypes.SeqNr(a.Uint("slot", 0)), Aborted: a.Bool("abort", false)}
		if client := a.String("client", ""); client != "" {
			d.Value = isstest.EncodeBatch([]isstest.Request{{
				RequestID: isstest.RequestID{Client: client, Seq: a.Uint("seq", 0)},
				Payload:   []byte(a.String("payload", "")),
			}})
		}
		return []stdtypes.Event{d}, nil
	}
	scenario.RunDir(t, "testdata/scenarios", p)
}

// TestScenarioInputErrors: an input line without what it needs is an
// error naming the line.
func TestScenarioInputErrors(t *testing.T) {
	p := isstest.Scenarios(func(nodes []stdtypes.NodeID, _ *scenario.Args) (isstest.SystemConfig, error) {
		return isstest.SystemConfig{Nodes: nodes, Build: func(deploytest.NodeInfo) (modules.Modules, error) { return nil, nil }}, nil
	})
	for _, line := range []string{
		"submit 0 at 1ms request seq=1",
		"submit 0 at 1ms requests client=c count=0",
		"submit 0 at 1ms requests count=2",
	} {
		sc, err := scenario.Parse("inline.txt", []byte("nodes 0 1\nseed 1\n"+line+"\nrun 1s\n----\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Play(p); err == nil || !strings.Contains(err.Error(), "inline.txt:3") {
			t.Errorf("%s: error %v", line, err)
		}
	}
	noBuild := isstest.Scenarios(func(nodes []stdtypes.NodeID, _ *scenario.Args) (isstest.SystemConfig, error) {
		return isstest.SystemConfig{Nodes: nodes}, nil
	})
	sc, err := scenario.Parse("inline.txt", []byte("nodes 0 1\nseed 1\nrun 1s\n----\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Play(noBuild); err == nil {
		t.Error("a system without Build played")
	}
}
