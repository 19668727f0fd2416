package isstest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// TestSystem: the system gives every node its App, with the parameters
// adjusted and the incarnation of each start, and checks what the Apps
// report: a restarted node that does not get its requests back fails
// liveness.
func TestSystem(t *testing.T) {
	sys, err := isstest.NewSystem(isstest.SystemConfig{
		Nodes: stdtypes.NumberedNodeIDs(4),
		Build: func(deploytest.NodeInfo) (modules.Modules, error) {
			return modules.Modules{"other": modules.NullPassive{}}, nil
		},
		Params:        func(_ deploytest.NodeInfo, p *isstest.Params) { p.NumBuckets = 1 },
		LivenessBound: 100 * time.Millisecond,
	}, deploytest.SimOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Start(); err != nil {
		t.Fatal(err)
	}
	// With one bucket, a RequestProposal for bucket 0 is answered.
	r := req("c", 0)
	value := isstest.EncodeBatch([]isstest.Request{r})
	for _, id := range sys.Nodes() {
		if err := sys.Submit(id, isstest.NewSubmit(isstest.DefaultID, r.Client, r.Seq, r.Payload),
			iss.NewRequestProposal(isstest.DefaultID, "other", 0, 0, []int{0}),
			&iss.Deliver{Header: stdtypes.NewHeader(isstest.DefaultID), SeqNr: 0, Value: value}); err != nil {
			t.Fatal(err)
		}
	}
	sys.Node("3").CrashAt(time.Millisecond)
	sys.Node("3").RestartAt(2 * time.Millisecond)
	// Once it reports, the Checker knows its new incarnation.
	sys.Node("3").InjectAt(3*time.Millisecond, isstest.NewSubmit(isstest.DefaultID, "d", 0, nil))
	err = sys.Sim().CheckLivenessAfter(time.Second)
	if !errors.Is(err, isstest.ErrViolation) || !strings.Contains(err.Error(), "node 3 did not execute request c/0") {
		t.Fatalf("error %v, want node 3 to miss c/0 after its restart", err)
	}
	if sys.Checker.Covered("0") != 1 || sys.Checker.Covered("3") != 0 || sys.Checker.Submitted() != 2 {
		t.Errorf("covered %d and %d", sys.Checker.Covered("0"), sys.Checker.Covered("3"))
	}
}

func TestSystemErrors(t *testing.T) {
	if _, err := isstest.NewSystem(isstest.SystemConfig{Nodes: []stdtypes.NodeID{"0"}}, deploytest.SimOptions{}); err == nil {
		t.Error("a system without Build")
	}
	for name, cfg := range map[string]isstest.SystemConfig{
		"app taken": {Build: func(deploytest.NodeInfo) (modules.Modules, error) {
			return modules.Modules{isstest.DefaultID: modules.NullPassive{}}, nil
		}},
		"build fails": {Build: func(deploytest.NodeInfo) (modules.Modules, error) { return nil, errors.New("no") }},
		"bad params": {
			Build:  func(deploytest.NodeInfo) (modules.Modules, error) { return nil, nil },
			Params: func(_ deploytest.NodeInfo, p *isstest.Params) { p.NumBuckets = 0 },
		},
	} {
		cfg.Nodes = []stdtypes.NodeID{"0"}
		sys, err := isstest.NewSystem(cfg, deploytest.SimOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sys.Start(); err == nil {
			t.Errorf("%s: started", name)
		}
	}
}
