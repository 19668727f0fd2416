package isstest_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// TestCheckerReal: one Checker takes the reports of the Apps of a real
// deployment, whose nodes run on goroutines of their own (run it with
// -race); the test delivers the same log to every node.
func TestCheckerReal(t *testing.T) {
	start := time.Now()
	c := isstest.NewChecker(isstest.CheckerOptions{Now: func() time.Duration { return time.Since(start) }, LivenessBound: time.Minute})
	d, err := deploytest.NewReal(deploytest.Config{
		Nodes: stdtypes.NumberedNodeIDs(4),
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			p := isstest.DefaultParams(info.ID)
			p.Observer = c.Report
			app, err := isstest.New(p)
			return modules.Modules{isstest.DefaultID: app}, err
		},
	}, deploytest.RealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Check(c)
	delivered := deploytest.Collect[*iss.Deliver](d)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for k := range n {
		r := req("c", uint64(k))
		for _, id := range d.Nodes() {
			err := d.Submit(id, isstest.NewSubmit(isstest.DefaultID, r.Client, r.Seq, r.Payload),
				&iss.Deliver{Header: stdtypes.NewHeader(isstest.DefaultID), SeqNr: stdtypes.SeqNr(k), Value: isstest.EncodeBatch([]isstest.Request{r})})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// The Apps report while they apply an event, after the deployment
	// observed it: wait for the last Deliver to be dispatched, and for
	// the nodes to stop, which they do once the batch in hand is applied.
	err = d.WaitFor(func() bool { return delivered.Len() == 4*n }, 10*time.Second)
	if stopErr := d.Stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range d.Nodes() {
		if c.Covered(id) != n || c.Slots(id) != n {
			t.Errorf("node %s covers %d requests in %d slots, want %d", id, c.Covered(id), c.Slots(id), n)
		}
	}
	var status []testsim.NodeStatus
	for _, id := range d.Nodes() {
		status = append(status, testsim.NodeStatus{ID: id, Up: true, Incarnation: 1})
	}
	if err := c.CheckLiveness(status); err != nil {
		t.Fatal(err)
	}
}
