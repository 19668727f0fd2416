package kvstore_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/samples/kvstore"
	"github.com/mirframework/mir/stdtypes"
)

// kvSeeds is the number of seeds TestLinearizable runs in all, shared out
// among its fault classes and sizes (seedShares), and TestReconfiguration
// a hundredth of it. A seed given with -sim.seed (or a count with
// -sim.seeds, per subtest) overrides it.
var kvSeeds = flag.Int("kv.seeds", 200, "number of seeds TestLinearizable runs, in all, across its fault classes and sizes")

// seedShares are the shares of -kv.seeds, out of 200, that each fault
// class runs on 4 and on 7 nodes: more of the runs that cost less, so
// that 200 seeds take tens of seconds (a run of 7 nodes with Byzantine
// leaders that go through view changes costs ten of 4 nodes on lossy
// links).
var seedShares = map[string][2]int{
	"lossy":     {28, 10},
	"partition": {28, 10},
	"crashes":   {28, 10},
	"byzantine": {30, 8},
	"mixed":     {16, 4},
	"longcrash": {10, 4},
	"outage":    {10, 4},
}

// seeds returns the seeds of a subtest that runs share/200 of -kv.seeds.
func seeds(share int) []uint64 {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["sim.seed"] || set["sim.seeds"] {
		return testsim.Seeds()
	}
	n := max(*kvSeeds*share/200, 1)
	if raceEnabled && !set["kv.seeds"] {
		n = testsim.RaceSeeds
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// runSeeds runs f for each seed, as testsim.RunSeeds does: it stops at the
// first failing seed and prints the command that reruns it.
func runSeeds(t *testing.T, seeds []uint64, f func(t *testing.T, seed uint64)) {
	for _, seed := range seeds {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("reproduce with: %s", testsim.ReproduceCommand(t, seed))
				}
			})
			f(t, seed)
		})
		if !ok {
			return
		}
	}
}

// workload is the clients' closed loop: each client runs opsPerClient
// operations on a few keys, so that they contend: Get, Put of a value of
// its own, CAS from a value written lately (or the empty one) to a value
// of its own.
const (
	numClients   = 3
	opsPerClient = 10
	numKeys      = 3
)

// nextOp returns the workload's operation generator. It remembers, per
// key, the values put lately, for CAS to expect.
func nextOp() func(client, i int, r *rand.Rand) []byte {
	recent := map[string][]string{}
	return func(client, i int, r *rand.Rand) []byte {
		key := fmt.Sprint("k", r.IntN(numKeys))
		value := fmt.Sprintf("c%d.%d", client, i)
		var op kvstore.Op
		switch x := r.IntN(10); {
		case x < 4:
			op = get(key)
		case x < 7:
			op = put(key, value)
			recent[key] = append(recent[key], value)
		default:
			old := ""
			if vs := recent[key]; len(vs) > 0 && r.IntN(4) > 0 {
				old = vs[max(0, len(vs)-1-r.IntN(3))]
			}
			op = cas(key, old, value)
			recent[key] = append(recent[key], value)
		}
		b, err := op.Encode()
		if err != nil {
			panic(err) // the generator's own operations are valid
		}
		return b
	}
}

// faultClass is one kind of fault the store is checked under.
type faultClass struct {
	name string
	// config adjusts the system before it starts (links, adversaries);
	// start schedules faults after it started. Each returns the nodes
	// that are Byzantine, if any.
	config func(cfg *trantortest.Config, n int) (byzantine []stdtypes.NodeID)
	start  func(t *testing.T, sys *trantortest.System, n int)
}

var faultClasses = []faultClass{
	{name: "lossy", config: lossyLinks},
	{name: "partition", start: partition},
	{name: "crashes", start: crashes},
	{name: "byzantine", config: byzantine},
	{name: "mixed", config: lossyLinks, start: func(t *testing.T, sys *trantortest.System, n int) {
		partition(t, sys, n)
		crashes(t, sys, n)
	}},
	{name: "longcrash", config: lossyLinks, start: longCrash},
	{name: "outage", config: lossyLinks, start: outage},
}

// lossyLinks makes every link lose, duplicate and reorder messages.
func lossyLinks(cfg *trantortest.Config, _ int) []stdtypes.NodeID {
	cfg.Network = sim.Options{Link: isstest.LossyLinks()}
	return nil
}

// partition cuts a random minority off for a while.
func partition(t *testing.T, sys *trantortest.System, _ int) {
	r := sys.Sim().NewRand("kvstore/partition")
	from := time.Duration(10+r.IntN(300)) * time.Millisecond
	until := from + time.Duration(100+r.IntN(900))*time.Millisecond
	groups := isstest.RandomSplit(r, sys.Nodes())
	if err := sys.Network().PartitionDuring(from, until, groups...); err != nil {
		t.Fatal(err)
	}
	t.Logf("partition %v from %v until %v", groups, from, until)
}

// crashes crashes f nodes twice each, and restarts them from their WAL.
func crashes(t *testing.T, sys *trantortest.System, n int) {
	crashes, err := isstest.ScheduleCrashes(sys.Simulated, isstest.CrashPlan{
		F: (n - 1) / 3, From: 10 * time.Millisecond, Until: 600 * time.Millisecond,
		MinDown: 20 * time.Millisecond, MaxDown: 500 * time.Millisecond, Times: 2, AtEvent: 0.5,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("crashes: %v", crashes)
}

// longCrash crashes f nodes for 1 to 4 s, long enough that the others
// collect the epochs they miss: they come back by state transfer.
func longCrash(t *testing.T, sys *trantortest.System, n int) {
	r := sys.Sim().NewRand("kvstore/longcrash")
	nodes := sys.Nodes()
	for _, i := range r.Perm(n)[:(n-1)/3] {
		at := time.Duration(5+r.IntN(200)) * time.Millisecond
		sys.Node(nodes[i]).CrashAt(at)
		sys.Node(nodes[i]).RestartAt(at + time.Duration(1000+r.IntN(3000))*time.Millisecond)
	}
}

// outage crashes every node within 20 ms, and restarts each from its WAL
// within half a second: more than f faults, but crashes only, after
// which the system must go on where it stopped, having lost nothing a
// client was answered.
func outage(t *testing.T, sys *trantortest.System, _ int) {
	r := sys.Sim().NewRand("kvstore/outage")
	at := time.Duration(20+r.IntN(300)) * time.Millisecond
	for _, id := range sys.Nodes() {
		sys.Node(id).CrashAt(at + time.Duration(r.IntN(20))*time.Millisecond)
		sys.Node(id).RestartAt(at + time.Duration(100+r.IntN(500))*time.Millisecond)
	}
}

// byzantine makes f nodes equivocate as leaders (of batches or of PBFT
// slots, by seed) to the upper half of the nodes, and lie to the
// clients.
func byzantine(cfg *trantortest.Config, n int) []stdtypes.NodeID {
	forge := trantortest.ForgeRequestSig
	if cfg.Seed%2 == 0 {
		forge = trantortest.ForgePrePrepare
	}
	nodes := stdtypes.NumberedNodeIDs(n)
	byz := nodes[1 : 1+(n-1)/3]
	cfg.Adversaries = map[stdtypes.NodeID]sim.Adversary{}
	for _, id := range byz {
		eq := &trantortest.Equivocation{Forge: forge, Victims: nodes[n/2:]}
		cfg.Adversaries[id] = eq.Adversary()
	}
	return byz
}

// TestLinearizable: clients contending on a few keys get linearizable
// results (Porcupine) from 4 and 7 nodes under each fault class, every
// operation is answered once the faults heal, and the correct nodes end
// with the same state.
func TestLinearizable(t *testing.T) {
	var runs []func(*testing.T)
	var names []string
	for i, n := range []int{4, 7} {
		for _, fc := range faultClasses {
			names = append(names, fmt.Sprintf("%s/%d nodes", fc.name, n))
			runs = append(runs, func(t *testing.T) {
				runSeeds(t, seeds(seedShares[fc.name][i]), func(t *testing.T, seed uint64) { checkRun(t, seed, n, fc, nil) })
			})
		}
	}
	for i, name := range names {
		t.Run(name, runs[i])
	}
}

// checkRun runs the workload on n nodes under fault class fc, and checks
// the history.
func checkRun(t *testing.T, seed uint64, n int, fc faultClass, newApp func() trantor.App) {
	if err := checkLinearizable(runHistory(t, seed, n, fc, newApp)); err != nil {
		t.Fatal(err)
	}
}

// runHistory runs the workload on n nodes under fault class fc, checks
// that every operation is answered and that the correct nodes end with
// the same state, and returns the clients' history. newApp, if set,
// makes the nodes' Apps instead of a Store.
func runHistory(t *testing.T, seed uint64, n int, fc faultClass, newApp func() trantor.App) []trantortest.Op {
	cfg := trantortest.Config{N: n, Seed: seed, NewApp: func(stdtypes.NodeID) trantor.App {
		if newApp != nil {
			return newApp()
		}
		s, err := kvstore.New(0)
		if err != nil {
			panic(err) // New(0) cannot fail
		}
		return s
	}}
	var byz []stdtypes.NodeID
	if fc.config != nil {
		byz = fc.config(&cfg, n)
	}
	sys, err := trantortest.NewSystem(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Stop() })
	if fc.start != nil {
		fc.start(t, sys, n)
	}
	clients, err := sys.NewClients(trantortest.ClientOptions{Liars: byz})
	if err != nil {
		t.Fatal(err)
	}
	if err := clients.Loop(trantortest.ClientLoad{Clients: numClients, Ops: opsPerClient, Start: time.Millisecond, Think: time.Millisecond, Next: nextOp()}); err != nil {
		t.Fatal(err)
	}
	if err := clients.Wait(); err != nil {
		t.Fatal(err)
	}
	var correct []stdtypes.NodeID
	for _, id := range sys.Voters() {
		if !slices.Contains(byz, id) {
			correct = append(correct, id)
		}
	}
	if err := clients.Settle(correct...); err != nil {
		t.Fatal(err)
	}
	t.Logf("simulated %v, %d events", sys.Now(), sys.Sim().Events())
	return clients.History()
}

// staleStore is a broken store: a Get returns the key's value before its
// last write. Every replica is broken the same way, so the clients get
// f+1 matching results: only the linearizability check can tell.
type staleStore struct {
	*kvstore.Store
	before map[string][]byte
}

func (s *staleStore) Apply(txs []mempool.Tx) ([][]byte, error) {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		op, err := kvstore.DecodeOp(tx.Data)
		if err == nil && op.Kind == kvstore.Get {
			out[i] = kvstore.Result{Status: kvstore.OK, Value: s.before[string(op.Key)]}.Encode()
			continue
		}
		if err == nil && op.Kind != kvstore.SetVoters {
			cur, err := s.Store.Apply([]mempool.Tx{{Data: encodeOp(kvstore.Op{Kind: kvstore.Get, Key: op.Key})}})
			if err != nil {
				return nil, err
			}
			r, _ := kvstore.DecodeResult(cur[0])
			s.before[string(op.Key)] = r.Value
		}
		res, err := s.Store.Apply(txs[i : i+1])
		if err != nil {
			return nil, err
		}
		out[i] = res[0]
	}
	return out, nil
}

func encodeOp(op kvstore.Op) []byte {
	b, err := op.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

// TestCheckerFailsOnABrokenStore: the linearizability check fails on the
// history of a store whose reads are stale, in the same simulation that
// passes with the real store.
func TestCheckerFailsOnABrokenStore(t *testing.T) {
	newStale := func() trantor.App {
		s, _ := kvstore.New(0)
		return &staleStore{Store: s, before: map[string][]byte{}}
	}
	h := runHistory(t, 1, 4, faultClasses[0], newStale)
	if err := checkLinearizable(h); err == nil {
		t.Error("the history of a store with stale reads passed")
	} else {
		t.Log(err)
	}
}

// TestLinearizableRegressions runs the seeds that once failed, whatever
// -kv.seeds says (and under the race detector too), each with the bug it
// found.
func TestLinearizableRegressions(t *testing.T) {
	for _, r := range []struct {
		class string
		n     int
		seed  uint64
		bug   string
	}{
		{"byzantine", 4, 3, "trantortest.ForgeRequestSig wrote its forgery into the Byzantine sender's own batch"},
	} {
		t.Run(fmt.Sprintf("%s/%d nodes/seed=%d", r.class, r.n, r.seed), func(t *testing.T) {
			t.Log(r.bug)
			for _, fc := range faultClasses {
				if fc.name == r.class {
					checkRun(t, r.seed, r.n, fc, nil)
					return
				}
			}
			t.Fatalf("no fault class %q", r.class)
		})
	}
}
