package trantor_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/issnode"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// keySeed makes the nodes' signing keys: node i has
// crypto.KeyPairFromSeed(Ed25519, keySeed, i).
var keySeed = []byte("trantor simulation keys")

// cluster is a simulated Trantor deployment with its checker.
type cluster struct {
	d       *deploytest.Simulated
	checker *checker
	// apps and iss hold each node's App and ISS module, of its latest
	// incarnation.
	apps map[stdtypes.NodeID]*logApp
	iss  map[stdtypes.NodeID]*iss.Module
}

// clusterOptions vary a simulated deployment.
type clusterOptions struct {
	n       int
	params  func(*trantor.Params)
	network sim.Options
	// adversaries make nodes Byzantine.
	adversaries map[stdtypes.NodeID]sim.Adversary
}

// newCluster builds and starts a simulated Trantor deployment of n equal
// voters: every node with a WAL on a simulated disk, the synchronous
// crypto module, a logApp, and a client server that takes the results.
func newCluster(t testing.TB, seed uint64, o clusterOptions) *cluster {
	t.Helper()
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(o.n)...)
	nodes := voters.IDs()
	params := testParams(voters)
	if o.params != nil {
		o.params(&params)
	}
	c := &cluster{checker: newChecker(), apps: make(map[stdtypes.NodeID]*logApp), iss: make(map[stdtypes.NodeID]*iss.Module)}
	d, err := deploytest.NewSimulated(deploytest.Config{
		Nodes: nodes,
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			app := &logApp{}
			c.apps[info.ID] = app
			mods, err := buildNode(info, params, app, uint64(info.Incarnation), modules.NullPassive{}, func(nc *crypto.NodeCrypto) (modules.Module, error) {
				return crypto.NewModule(nc)
			})
			if err != nil {
				return nil, err
			}
			c.iss[info.ID] = mods[issnode.ISSID].(*iss.Module)
			return mods, nil
		},
	}, deploytest.SimOptions{Seed: seed, Network: o.network})
	if err != nil {
		t.Fatal(err)
	}
	c.d = d
	d.Check(c.checker)
	for id, adv := range o.adversaries {
		if err := d.Network().SetAdversary(id, adv); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	return c
}

// buildNode returns the modules of a node of a test deployment:
// trantor.New's with app, the signing module newCrypto makes with the
// node's key from keySeed, and clients as the client server.
func buildNode(info deploytest.NodeInfo, p trantor.Params, app trantor.App, incarnation uint64, clients modules.PassiveModule,
	newCrypto func(*crypto.NodeCrypto) (modules.Module, error)) (modules.Modules, error) {
	mods, err := trantor.New(info.ID, p, trantor.Deps{
		Transport: info.Transport, Timer: info.Timer, WAL: info.WAL, Crypto: "crypto", App: app, Incarnation: incarnation,
	})
	if err != nil {
		return nil, err
	}
	keys, pubs, err := crypto.NodeKeysFromSeed(crypto.Ed25519, keySeed, info.Nodes)
	if err != nil {
		return nil, err
	}
	nc, err := crypto.New(keys[slices.Index(info.Nodes, info.ID)], pubs)
	if err != nil {
		return nil, err
	}
	if mods["crypto"], err = newCrypto(nc); err != nil {
		return nil, err
	}
	mods[trantor.ClientsID] = clients
	return mods, nil
}

// testParams are the defaults, with a batch timeout and retransmissions
// for a simulation of a few simulated seconds.
func testParams(voters membership.Voters) trantor.Params {
	p := trantor.DefaultParams(voters)
	p.Mempool.BatchTimeout = 2 * time.Millisecond
	p.Availability.FetchTimeout = 100 * time.Millisecond
	return p
}

// load is a workload: Txs transactions of PayloadBytes bytes from Clients
// clients, submitted at Rate per second of simulated time from Start, to
// every node (or to the nodes To). Like a client, the load submits again,
// every Retry (if positive), the transactions no node has executed yet.
type load struct {
	Clients, Txs, PayloadBytes int
	Rate                       float64
	Start, Retry               time.Duration
	To                         []stdtypes.NodeID
}

// defaultLoad is the workload of the fault scenarios: 4 clients, 300
// transactions at 150 per second, for 2 s of simulated time. (At such a
// rate most batches hold one transaction: the cost of a run is that of
// the batches' and certificates' signatures, real Ed25519 ones.)
var defaultLoad = load{Clients: 4, Txs: 300, PayloadBytes: 32, Rate: 150, Start: time.Millisecond, Retry: 500 * time.Millisecond}

// limit bounds the simulated time of a scenario.
const limit = 60 * time.Second

// schedule submits the load and returns its transactions' IDs.
func (c *cluster) schedule(l load, seed uint64) []mempool.TxID {
	r := rand.New(rand.NewPCG(seed, 2))
	to := l.To
	if to == nil {
		to = c.d.Nodes()
	}
	txs := make([]mempool.Tx, l.Txs)
	ids := make([]mempool.TxID, l.Txs)
	for i := range txs {
		data := make([]byte, l.PayloadBytes)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		txs[i] = mempool.Tx{TxID: mempool.TxID{ClientID: fmt.Sprintf("c%d", i%l.Clients), TxNo: uint64(i / l.Clients)}, Data: data}
		ids[i] = txs[i].TxID
	}
	submit := func(batch []mempool.Tx) {
		for _, id := range to {
			// A node that is down misses them, as a client's message to
			// a crashed node is lost: the retries reach it later.
			_ = c.d.Submit(id, &mempool.NewTxs{Header: stdtypes.NewHeader(trantor.MempoolID), Txs: batch})
		}
	}
	for i := range txs {
		at := l.Start + time.Duration(float64(i)/l.Rate*float64(time.Second))
		c.d.Sim().At(at, func() { submit([]mempool.Tx{txs[i]}) })
	}
	var retry func()
	retry = func() {
		var left []mempool.Tx
		for _, tx := range txs {
			if !c.checker.isExecuted(tx.TxID) {
				left = append(left, tx)
			}
		}
		if len(left) > 0 {
			submit(left)
			c.d.Sim().At(c.d.Now()+l.Retry, retry)
		}
	}
	if l.Retry > 0 {
		end := l.Start + time.Duration(float64(l.Txs)/l.Rate*float64(time.Second))
		c.d.Sim().At(end+l.Retry, retry)
	}
	return ids
}

// run submits the load and waits until every node in want (all if none)
// has executed it (or restored a state that holds it), then checks that
// their applications' states are equal.
func (c *cluster) run(t testing.TB, seed uint64, l load, want ...stdtypes.NodeID) {
	t.Helper()
	ids := c.schedule(l, seed)
	if len(want) == 0 {
		want = c.d.Nodes()
	}
	if err := c.d.WaitFor(c.checker.doneFunc(ids, want), limit); err != nil {
		t.Fatalf("%v: reached %v; not executed anywhere: %v", err, c.checker.reached(), c.checker.missing(ids))
	}
	var first []byte
	for _, id := range want {
		s, _, _ := c.apps[id].Snapshot()
		if first == nil {
			first = s
		} else if string(s) != string(first) {
			t.Errorf("node %s's application state differs from node %s's", id, want[0])
		}
	}
	if c.apps[want[0]].n != uint64(len(ids)) {
		t.Errorf("node %s applied %d transactions; %d submitted", want[0], c.apps[want[0]].n, len(ids))
	}
}

func nodesName(n int) string { return fmt.Sprintf("%d nodes", n) }

func TestNoFaults(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(nodesName(n), func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				c := newCluster(t, seed, clusterOptions{n: n})
				c.run(t, seed, load{Clients: 4, Txs: 300, PayloadBytes: 32, Rate: 2000, Start: time.Millisecond, Retry: 500 * time.Millisecond})
			})
		})
	}
}

// TestOneEntryNode: transactions submitted to one node only are executed
// by every node (the others learn them from its batches).
func TestOneEntryNode(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{n: 4})
		l := defaultLoad
		l.To = []stdtypes.NodeID{"2"}
		c.run(t, seed, l)
	})
}
