package issnode_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/issnode"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// keySeed makes the nodes' signing keys: node i has
// crypto.KeyPairFromSeed(Ed25519, keySeed, i).
var keySeed = []byte("issnode simulation keys")

// cluster is a simulated ISS deployment with its checker.
type cluster struct {
	d       *deploytest.Simulated
	checker *isstest.Checker
	voters  membership.Voters
	params  iss.Params
}

// clusterOptions vary a simulated deployment.
type clusterOptions struct {
	voters  membership.Voters // nil: n equal voters
	n       int
	params  func(*iss.Params)
	network sim.Options
	faulty  []stdtypes.NodeID
}

// newCluster builds and starts a simulated ISS deployment: every node with
// a WAL, the synchronous crypto module, an isstest.App and the ISS modules
// of issnode.
func newCluster(t *testing.T, seed uint64, o clusterOptions) *cluster {
	t.Helper()
	voters := o.voters
	if voters == nil {
		voters = membership.EqualVoters(stdtypes.NumberedNodeIDs(o.n)...)
	}
	nodes := voters.IDs()
	pubs := make(map[stdtypes.NodeID]crypto.PublicKey, len(nodes))
	keys := make(map[stdtypes.NodeID]crypto.PrivateKey, len(nodes))
	for i, id := range nodes {
		k, err := crypto.KeyPairFromSeed(crypto.Ed25519, keySeed, i)
		if err != nil {
			t.Fatal(err)
		}
		keys[id], pubs[id] = k, k.Public()
	}
	params := iss.DefaultParams(voters)
	if o.params != nil {
		o.params(&params)
	}
	c := &cluster{voters: voters, params: params}
	d, err := deploytest.NewSimulated(deploytest.Config{
		Nodes: nodes,
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			mods, err := issnode.NewModules(info.ID, issnode.Config{
				Params: params, Transport: info.Transport, Timer: info.Timer, WAL: info.WAL,
				Crypto: "crypto", App: isstest.DefaultID, Incarnation: uint64(info.Incarnation),
			})
			if err != nil {
				return nil, err
			}
			nc, err := crypto.New(keys[info.ID], pubs)
			if err != nil {
				return nil, err
			}
			if mods["crypto"], err = crypto.NewModule(nc); err != nil {
				return nil, err
			}
			ap := isstest.DefaultParams(info.ID)
			ap.Incarnation = info.Incarnation
			ap.NumBuckets = params.NumBuckets
			ap.ConfigOffset = params.ConfigOffset
			ap.Observer = c.checker.Report
			app, err := isstest.New(ap)
			if err != nil {
				return nil, err
			}
			mods[isstest.DefaultID] = app
			return mods, nil
		},
	}, deploytest.SimOptions{Seed: seed, Network: o.network})
	if err != nil {
		t.Fatal(err)
	}
	c.d = d
	c.checker = isstest.NewSimChecker(d.Sim(), o.faulty...)
	d.Check(c.checker)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	return c
}

// run submits load and waits until every node in want has executed all of
// it, within limit of simulated time; it then checks liveness.
func (c *cluster) run(t *testing.T, load isstest.Load, limit time.Duration, want ...stdtypes.NodeID) *isstest.Driver {
	t.Helper()
	dr, err := isstest.NewDriver(load)
	if err != nil {
		t.Fatal(err)
	}
	if err := dr.Schedule(c.d); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		want = c.d.Nodes()
	}
	if err := c.d.WaitFor(func() bool { return dr.Done(c.checker, want...) }, limit); err != nil {
		t.Fatalf("%v: submitted %d; executed %v; first violation: %v", err, dr.Submitted(), c.covered(), c.checker.Err())
	}
	if err := c.checker.Err(); err != nil {
		t.Fatal(err)
	}
	return dr
}

// covered returns how many requests each node has executed.
func (c *cluster) covered() map[stdtypes.NodeID]int {
	m := make(map[stdtypes.NodeID]int)
	for _, id := range c.d.Nodes() {
		m[id] = c.checker.Covered(id)
	}
	return m
}

func TestNoFaults(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(string(stdtypes.NodeID(rune('0'+n)))+" nodes", func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				c := newCluster(t, seed, clusterOptions{n: n})
				dr := c.run(t, isstest.Load{Clients: 4, Requests: 400, Rate: 2000, PayloadBytes: 32, Start: time.Millisecond}, 20*time.Second)
				t.Logf("latency %v", dr.Latency(c.checker, c.voters))
			})
		})
	}
}
