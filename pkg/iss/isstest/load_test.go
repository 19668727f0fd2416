package isstest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// appsOnly is a system whose nodes run an App each and nothing else: the
// test orders the requests itself.
func appsOnly(t *testing.T, n int, seed uint64) (*deploytest.Simulated, *isstest.Checker) {
	t.Helper()
	sys, err := isstest.NewSystem(isstest.SystemConfig{
		Nodes: stdtypes.NumberedNodeIDs(n),
		Build: func(deploytest.NodeInfo) (modules.Modules, error) { return modules.Modules{}, nil },
	}, deploytest.SimOptions{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return sys.Simulated, sys.Checker
}

// TestDriverLatency: the driver submits the load to every node at its
// rate; the test delivers request k in slot k at node i (i+1) ms after
// its submission, so that three of four nodes, a strong quorum, have it
// 3 ms after: every latency is 3 ms.
func TestDriverLatency(t *testing.T) {
	d, c := appsOnly(t, 4, 1)
	dr, err := isstest.NewDriver(isstest.Load{Clients: 3, Requests: 50, Rate: 1000, PayloadBytes: 16, Start: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := dr.Schedule(d); err == nil {
		t.Fatal("scheduled before the start")
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if err := dr.Schedule(d); err != nil {
		t.Fatal(err)
	}
	for k := range 50 {
		req, at := dr.Request(k)
		if want := time.Millisecond + time.Duration(k)*time.Millisecond; at != want || len(req.Payload) != 16 {
			t.Fatalf("request %d at %v with %d bytes, want at %v", k, at, len(req.Payload), want)
		}
		for i, id := range d.Nodes() {
			d.Node(id).InjectAt(at+time.Duration(i+1)*time.Millisecond, &iss.Deliver{
				Header: stdtypes.NewHeader(isstest.DefaultID), SeqNr: stdtypes.SeqNr(k), Value: isstest.EncodeBatch([]isstest.Request{req}),
			})
		}
	}
	if err := d.WaitFor(func() bool { return dr.Done(c, d.Nodes()...) }, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := d.Sim().CheckLivenessAfter(0); err != nil {
		t.Fatal(err)
	}
	if c.Submitted() != 50 || dr.Submitted() != 50 || dr.SubmittedToDown() != 0 {
		t.Errorf("submitted %d, %d, to nodes down %d", c.Submitted(), dr.Submitted(), dr.SubmittedToDown())
	}
	l := dr.Latency(c, membership.EqualVoters(d.Nodes()...))
	if l.Count != 50 || l.Missing != 0 || l.Median != 3*time.Millisecond || l.P99 != 3*time.Millisecond || l.Max != 3*time.Millisecond {
		t.Errorf("latency %v", l)
	}
	t.Log(l)
	if l := dr.LatencyIn(c, membership.EqualVoters(d.Nodes()...), 10*time.Millisecond, 20*time.Millisecond); l.Count != 10 || l.Max != 3*time.Millisecond {
		t.Errorf("latency of the requests submitted from 10 ms to 20 ms: %v", l)
	}
}

// TestDriverTargets: Load.To chooses the nodes; a node that is down when
// a request comes misses it, and is counted.
func TestDriverTargets(t *testing.T) {
	d, c := appsOnly(t, 4, 2)
	leaders := d.Nodes()
	epoch := stdtypes.EpochNr(1)
	to := isstest.ToBucketLeader(leaders, 64, func() stdtypes.EpochNr { return epoch })
	dr, err := isstest.NewDriver(isstest.Load{Clients: 2, Requests: 40, Rate: 100, PayloadBytes: 1, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	d.Node("3").CrashAt(0)
	if err := dr.Schedule(d); err != nil {
		t.Fatal(err)
	}
	var perNode = map[stdtypes.NodeID]int{}
	d.Observe(func(o *testsim.Observation) {
		if s, ok := o.Event.(*isstest.Submit); ok {
			perNode[o.Node]++
			id := isstest.RequestID{Client: s.Client, Seq: s.Seq}
			if want := leaders[(isstest.BucketOf(id, 64)+1)%4]; want != o.Node {
				t.Errorf("request %s went to node %s, its bucket's leader is %s", id, o.Node, want)
			}
		}
	})
	if err := d.Sim().Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if dr.SubmittedToDown() == 0 || dr.Submitted()+dr.SubmittedToDown() != 40 || c.Submitted() != dr.Submitted() {
		t.Errorf("submitted %d, to nodes down %d, checker %d; per node %v", dr.Submitted(), dr.SubmittedToDown(), c.Submitted(), perNode)
	}
	if l := dr.Latency(c, membership.EqualVoters(leaders...)); l.Missing != dr.Submitted() || l.Count != 0 {
		t.Errorf("latency %v with nothing delivered", l)
	}
}

// TestDriverErrors: a load that makes no sense is refused; a deployment
// without Apps stops the run.
func TestDriverErrors(t *testing.T) {
	for _, l := range []isstest.Load{
		{Clients: 0, Requests: 1, Rate: 1, PayloadBytes: 1},
		{Clients: 1, Requests: -1, Rate: 1, PayloadBytes: 1},
		{Clients: 1, Requests: 1, Rate: 0, PayloadBytes: 1},
		{Clients: 1, Requests: 1, Rate: 1, PayloadBytes: 0},
		{Clients: 1, Requests: 1, Rate: 1, PayloadBytes: 1, Start: -1},
	} {
		if _, err := isstest.NewDriver(l); err == nil {
			t.Errorf("load %+v accepted", l)
		}
	}
	d, err := deploytest.NewSimulated(deploytest.Config{
		Nodes: stdtypes.NumberedNodeIDs(2),
		Build: func(deploytest.NodeInfo) (modules.Modules, error) {
			return modules.Modules{"other": modules.NullPassive{}}, nil
		},
	}, deploytest.SimOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dr := startWithLoad(t, d, isstest.Load{Clients: 1, Requests: 3, Rate: 1, PayloadBytes: 1})
	if err := d.Sim().Run(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := dr.Err(); err == nil || !strings.Contains(err.Error(), "node 0") || d.Sim().Now() > time.Second {
		t.Errorf("error %v at %v", err, d.Sim().Now())
	}
}

// startWithLoad starts d and schedules load.
func startWithLoad(t *testing.T, d *deploytest.Simulated, load isstest.Load) *isstest.Driver {
	t.Helper()
	dr, err := isstest.NewDriver(load)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if err := dr.Schedule(d); err != nil {
		t.Fatal(err)
	}
	return dr
}
