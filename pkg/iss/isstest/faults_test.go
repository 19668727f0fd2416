package isstest_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/samples/counter"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// crashRun runs seven Apps under a steady load for 3 s with plan's
// crashes, and returns the crashes, the deployment and the incarnations
// seen per node.
func crashRun(t *testing.T, seed uint64, plan isstest.CrashPlan) ([]isstest.Crash, *deploytest.Simulated) {
	t.Helper()
	d, _ := appsOnly(t, 7, seed)
	startWithLoad(t, d, isstest.Load{Clients: 4, Requests: 3000, Rate: 1000, PayloadBytes: 8})
	crashes, err := isstest.ScheduleCrashes(d, plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sim().Run(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	return crashes, d
}

func TestScheduleCrashes(t *testing.T) {
	plan := isstest.CrashPlan{F: 2, From: 100 * time.Millisecond, Until: 2 * time.Second,
		MinDown: 10 * time.Millisecond, MaxDown: 500 * time.Millisecond, Times: 3, AtEvent: 0.5}
	crashes, d := crashRun(t, 7, plan)
	if len(crashes) != 6 {
		t.Fatalf("crashes %v, want 3 for each of 2 nodes", crashes)
	}
	crashed := map[stdtypes.NodeID]int{}
	var last time.Duration
	byEvent := 0
	for _, c := range crashes {
		crashed[c.Node]++
		if c.At < plan.From || c.Restart < c.At+plan.MinDown || c.Restart > c.At+plan.MaxDown {
			t.Errorf("%v: out of the plan's bounds", c)
		}
		if c.Events > 0 {
			byEvent++
		}
		last = max(last, c.Restart)
	}
	if len(crashed) != 2 || byEvent == 0 || byEvent == len(crashes) {
		t.Errorf("crashes %v: want 2 nodes, some by event", crashes)
	}
	for _, id := range d.Nodes() {
		n := d.Node(id)
		want := 1
		if crashed[id] > 0 {
			want = 4
		}
		if !n.Up() || n.Incarnation() != want {
			t.Errorf("node %s: up %v, incarnation %d, want %d", id, n.Up(), n.Incarnation(), want)
		}
	}
	if d.Sim().FaultsHealed() != last {
		t.Errorf("faults healed at %v, the last restart is at %v", d.Sim().FaultsHealed(), last)
	}
	// The same seed gives the same crashes; another seed others.
	again, _ := crashRun(t, 7, plan)
	other, _ := crashRun(t, 8, plan)
	if !slices.Equal(again, crashes) || slices.Equal(other, crashes) {
		t.Errorf("seed 7: %v, again %v; seed 8: %v", crashes, again, other)
	}
}

func TestScheduleCrashesPermanent(t *testing.T) {
	plan := isstest.CrashPlan{F: 3, Nodes: stdtypes.NumberedNodeIDs(4), From: time.Second, Until: 2 * time.Second,
		MinDown: time.Millisecond, MaxDown: time.Millisecond, Permanent: true}
	crashes, d := crashRun(t, 3, plan)
	var last time.Duration
	for _, c := range crashes {
		if c.Restart != 0 || c.Node > "3" || d.Node(c.Node).Up() {
			t.Errorf("%v: node up %v", c, d.Node(c.Node).Up())
		}
		last = max(last, c.At)
	}
	if len(crashes) != 3 || d.Sim().FaultsHealed() != last {
		t.Errorf("crashes %v, healed at %v", crashes, d.Sim().FaultsHealed())
	}
}

func TestScheduleCrashesErrors(t *testing.T) {
	d, _ := appsOnly(t, 4, 1)
	ok := isstest.CrashPlan{F: 1, From: 0, Until: time.Second, MinDown: 1, MaxDown: 2}
	if _, err := isstest.ScheduleCrashes(d, ok); err == nil {
		t.Error("crashes scheduled before the start")
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(p *isstest.CrashPlan){
		"too many":          func(p *isstest.CrashPlan) { p.F = 5 },
		"negative":          func(p *isstest.CrashPlan) { p.F = -1 },
		"empty window":      func(p *isstest.CrashPlan) { p.Until = p.From },
		"no downtime":       func(p *isstest.CrashPlan) { p.MinDown = 0 },
		"downtime reversed": func(p *isstest.CrashPlan) { p.MaxDown = p.MinDown - 1 },
		"probability":       func(p *isstest.CrashPlan) { p.AtEvent = 2 },
		"permanent twice":   func(p *isstest.CrashPlan) { p.Permanent, p.Times = true, 2 },
		"unknown node":      func(p *isstest.CrashPlan) { p.Nodes = []stdtypes.NodeID{"x"} },
	} {
		p := ok
		change(&p)
		if _, err := isstest.ScheduleCrashes(d, p); err == nil {
			t.Errorf("%s: scheduled", name)
		}
	}
}

// TestSilenceDuring: node 0 counts every 10 ms and tells the others;
// while it is silent, they hear nothing from it, and after, they do again.
func TestSilenceDuring(t *testing.T) {
	nodes := stdtypes.NumberedNodeIDs(3)
	d, err := deploytest.NewSimulated(counter.DeployConfig(nodes), deploytest.SimOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var heard []time.Duration
	d.Observe(func(o *testsim.Observation) {
		if m, ok := o.Event.(*stdevents.MessageReceived); ok && m.From == "0" {
			heard = append(heard, o.Time)
		}
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		d.Node("0").InjectAt(time.Duration(i)*10*time.Millisecond, counter.NewIncrement(counter.ID))
	}
	if err := isstest.SilenceDuring(d, "0", 300*time.Millisecond, 600*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := isstest.SilenceDuring(d, "9", 0, 1); err == nil {
		t.Error("an unknown node silenced")
	}
	if err := d.Sim().Run(time.Second); err != nil {
		t.Fatal(err)
	}
	var before, during, after int
	for _, at := range heard {
		switch {
		case at < 300*time.Millisecond:
			before++
		case at < 600*time.Millisecond:
			during++
		default:
			after++
		}
	}
	if before == 0 || during != 0 || after == 0 || d.Sim().FaultsHealed() != 600*time.Millisecond {
		t.Errorf("heard from node 0: %d before, %d during, %d after the silence; healed at %v", before, during, after, d.Sim().FaultsHealed())
	}
}

func TestRandomSplit(t *testing.T) {
	nodes := stdtypes.NumberedNodeIDs(7)
	seen := map[string]bool{}
	for seed := range uint64(50) {
		groups := isstest.RandomSplit(rand.New(rand.NewPCG(seed, 0)), nodes)
		if len(groups) != 2 || len(groups[0]) < 1 || len(groups[0]) > 3 || len(groups[0])+len(groups[1]) != 7 {
			t.Fatalf("groups %v", groups)
		}
		all := slices.Sorted(slices.Values(slices.Concat(groups...)))
		if !slices.Equal(all, nodes) {
			t.Fatalf("groups %v do not split %v", groups, nodes)
		}
		seen[fmt.Sprint(groups[0])] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d different minorities in 50 seeds", len(seen))
	}
	if g := isstest.RandomSplit(rand.New(rand.NewPCG(1, 0)), nodes[:2]); len(g[0]) != 1 || len(g[1]) != 1 {
		t.Errorf("two nodes split as %v", g)
	}
}

func TestWeighted(t *testing.T) {
	ids := []stdtypes.NodeID{"a", "b", "c", "d", "e"}
	cases := []struct {
		weights         []uint64
		weak, tolerated []stdtypes.NodeID
	}{
		// W = 5: a weak quorum is 2 nodes; 1 is tolerated.
		{[]uint64{1, 1, 1, 1, 1}, []stdtypes.NodeID{"a", "b"}, []stdtypes.NodeID{"a"}},
		// W = 10: d (4) alone is a weak quorum; b and a (3) are tolerated,
		// d is not.
		{[]uint64{1, 2, 1, 4, 2}, []stdtypes.NodeID{"d"}, []stdtypes.NodeID{"b", "a"}},
		// W = 9: 3 is not below a third: nothing heavy is tolerated.
		{[]uint64{3, 3, 1, 1, 1}, []stdtypes.NodeID{"a", "b"}, []stdtypes.NodeID{"c", "d"}},
	}
	for _, c := range cases {
		v, err := isstest.Weighted(ids, c.weights...)
		if err != nil {
			t.Fatal(err)
		}
		weak, tol := isstest.WeakQuorumOf(v), isstest.Tolerated(v)
		if !slices.Equal(weak, c.weak) || !slices.Equal(tol, c.tolerated) {
			t.Errorf("weights %v: weak quorum %v, tolerated %v; want %v and %v", c.weights, weak, tol, c.weak, c.tolerated)
		}
		if !v.IsWeakQuorum(v.WeightOf(weak)) || 3*v.WeightOf(tol) >= v.Total() {
			t.Errorf("weights %v: %v is no weak quorum or %v is not tolerated", c.weights, weak, tol)
		}
	}
	if _, err := isstest.Weighted(ids, 1, 2); err == nil {
		t.Error("5 nodes with 2 weights accepted")
	}
	if _, err := isstest.Weighted(ids[:2], 1, 0); err == nil {
		t.Error("weight 0 accepted")
	}
	if v, _ := isstest.Weighted(ids[:2], 1, 7); !slices.Equal(v, membership.Voters{{ID: "a", Weight: 1}, {ID: "b", Weight: 7}}) {
		t.Errorf("voters %v", v)
	}
}
