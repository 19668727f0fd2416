package trantortest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/issnode"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// KeySeed makes the nodes' signing keys: the node at index i of the
// deployment's sorted nodes has crypto.KeyPairFromSeed(Ed25519, KeySeed, i).
var KeySeed = []byte("trantor simulation keys")

// Config describes a simulated Trantor system.
type Config struct {
	// N is the number of voters of epoch 0, named "0" to "N-1".
	N int
	// Spare is the number of nodes that run from the start outside the
	// membership, named "N" on: nodes a membership the App decides may
	// add (they join by state transfer).
	Spare int
	// NewApp returns a node's App, a new value at each start of the node
	// (it is restored from a checkpoint, or starts empty).
	NewApp func(id stdtypes.NodeID) trantor.App
	// Params, if set, adjusts the parameters (SimParams of the voters).
	Params func(*trantor.Params)
	// Seed seeds the simulation; Network configures its links.
	Seed    uint64
	Network sim.Options
	// Limit bounds the simulated time a wait of the System or its
	// Clients takes (Run, WaitExecuted, Clients.Wait, Settle); 0 means
	// DefaultLimit.
	Limit time.Duration
	// Adversaries make nodes Byzantine: what they send passes through
	// their adversary (pkg/net/sim).
	Adversaries map[stdtypes.NodeID]sim.Adversary
	// WAL configures the nodes' simulated disks (their sync latency, their
	// faults); nil means wal.SimOptions' defaults.
	WAL *wal.SimOptions
}

// System is a simulated Trantor deployment whose every event is checked
// by its Checker.
type System struct {
	*deploytest.Simulated
	// Checker checks agreement, total order and no duplication on every
	// event, and tells what each node executed.
	Checker *Checker
	// Params are the deployment's parameters.
	Params trantor.Params
	limit  time.Duration
	// apps, iss and mods hold each node's App, ISS module and modules, of
	// its latest incarnation.
	apps map[stdtypes.NodeID]trantor.App
	iss  map[stdtypes.NodeID]*iss.Module
	mods map[stdtypes.NodeID]modules.Modules
}

// NewSystem builds and starts the system: every node with trantor.New's
// modules, the App of cfg.NewApp, a WAL on a simulated disk that survives
// its crashes, the synchronous crypto module with real Ed25519 keys, and
// a client server that ignores the results (Clients reads them from the
// observations). Stop it at the end of the test.
func NewSystem(cfg Config) (*System, error) {
	if cfg.N < 1 || cfg.Spare < 0 {
		return nil, fmt.Errorf("trantortest: %d voters and %d spare nodes", cfg.N, cfg.Spare)
	}
	if cfg.NewApp == nil {
		return nil, errors.New("trantortest: no NewApp")
	}
	nodes := stdtypes.NumberedNodeIDs(cfg.N + cfg.Spare)
	params := SimParams(membership.EqualVoters(nodes[:cfg.N]...))
	if cfg.Params != nil {
		cfg.Params(&params)
	}
	s := &System{
		Checker: NewChecker(), Params: params, limit: cmp.Or(cfg.Limit, DefaultLimit),
		apps: make(map[stdtypes.NodeID]trantor.App), iss: make(map[stdtypes.NodeID]*iss.Module),
		mods: make(map[stdtypes.NodeID]modules.Modules),
	}
	d, err := deploytest.NewSimulated(deploytest.Config{
		Nodes: nodes,
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			app := cfg.NewApp(info.ID)
			// The client server ignores the Executed events: the
			// simulated Clients read them from the observations.
			mods, err := BuildNode(info, params, app, uint64(info.Incarnation), modules.NullPassive{}, func(nc *crypto.NodeCrypto) (modules.Module, error) {
				return crypto.NewModule(nc)
			})
			if err != nil {
				return nil, err
			}
			s.apps[info.ID] = app
			s.iss[info.ID] = mods[issnode.ISSID].(*iss.Module)
			s.mods[info.ID] = mods
			return mods, nil
		},
	}, deploytest.SimOptions{Seed: cfg.Seed, Network: cfg.Network, WAL: cfg.WAL})
	if err != nil {
		return nil, err
	}
	s.Simulated = d
	d.Check(s.Checker)
	for _, id := range slices.Sorted(maps.Keys(cfg.Adversaries)) {
		if err := d.Network().SetAdversary(id, cfg.Adversaries[id]); err != nil {
			return nil, err
		}
	}
	if err := d.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// App returns node id's App, of its latest incarnation.
func (s *System) App(id stdtypes.NodeID) trantor.App { return s.apps[id] }

// ISS returns node id's ISS module, of its latest incarnation (for its
// statistics).
func (s *System) ISS(id stdtypes.NodeID) *iss.Module { return s.iss[id] }

// BatchFetcher returns node id's batch fetcher, of its latest incarnation
// (for its statistics).
func (s *System) BatchFetcher(id stdtypes.NodeID) *batchfetcher.Module {
	return s.mods[id][trantor.BatchFetcherID].(*batchfetcher.Module)
}

// Mempool returns node id's mempool, of its latest incarnation (for its
// statistics).
func (s *System) Mempool(id stdtypes.NodeID) *mempool.Module {
	return s.mods[id][trantor.MempoolID].(*mempool.Module)
}

// Availability returns node id's availability module, of its latest
// incarnation (for its statistics).
func (s *System) Availability(id stdtypes.NodeID) *availability.Module {
	return s.mods[id][trantor.AvailabilityID].(*availability.Module)
}

// Voters returns the nodes of epoch 0's membership.
func (s *System) Voters() []stdtypes.NodeID { return s.Params.ISS.Voters.IDs() }

// BuildNode returns the modules of a node of a test deployment:
// trantor.New's with app, the signing module newCrypto makes with the
// node's key from KeySeed, and clients as the client server.
func BuildNode(info deploytest.NodeInfo, p trantor.Params, app trantor.App, incarnation uint64, clients modules.PassiveModule,
	newCrypto func(*crypto.NodeCrypto) (modules.Module, error)) (modules.Modules, error) {
	mods, err := trantor.New(info.ID, p, trantor.Deps{
		Transport: info.Transport, Timer: info.Timer, WAL: info.WAL, Crypto: "crypto", App: app, Incarnation: incarnation,
	})
	if err != nil {
		return nil, err
	}
	keys, pubs, err := crypto.NodeKeysFromSeed(crypto.Ed25519, KeySeed, info.Nodes)
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

// SimParams are trantor.DefaultParams, with a batch timeout and
// retransmissions for a simulation of a few simulated seconds.
func SimParams(voters membership.Voters) trantor.Params {
	p := trantor.DefaultParams(voters)
	p.Mempool.BatchTimeout = 2 * time.Millisecond
	p.Availability.FetchTimeout = 100 * time.Millisecond
	return p
}
