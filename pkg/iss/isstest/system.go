package isstest

import (
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// SystemConfig describes a simulated system of ISS nodes, each with an
// App under DefaultID whose reports go to the system's Checker.
type SystemConfig struct {
	// Nodes are the nodes' IDs.
	Nodes []stdtypes.NodeID
	// Build returns a node's modules besides the App: ISS, its orderers,
	// the checkpoint module, ... (see deploytest.Constructor).
	Build deploytest.Constructor
	// Params, if set, adjusts the parameters of each node's App
	// (NumBuckets, limits, the membership schedule); Node, Incarnation
	// and Observer are set already, and must be left alone.
	Params func(info deploytest.NodeInfo, p *Params)
	// WAL gives every node a WAL module (deploytest.Config.WAL).
	WAL bool
	// Faulty, FaultyClients and LivenessBound configure the Checker (see
	// CheckerOptions).
	Faulty        []stdtypes.NodeID
	FaultyClients []string
	LivenessBound time.Duration
}

// System is a simulated deployment of ISS nodes with their Apps, and the
// Checker of what they execute, checked on every event.
type System struct {
	*deploytest.Simulated
	Checker *Checker
}

// NewSystem returns the simulated system, not started: the faults (and a
// Driver) are set up after Start, and the run ends with
// Sim().CheckLivenessAfter, which checks liveness with the Checker.
func NewSystem(cfg SystemConfig, opts deploytest.SimOptions) (*System, error) {
	if cfg.Build == nil {
		return nil, fmt.Errorf("isstest: system without a Build")
	}
	sys := &System{}
	d, err := deploytest.NewSimulated(cfg.deployment(func(r Report) { sys.Checker.Report(r) }), opts)
	if err != nil {
		return nil, err
	}
	sys.Simulated = d
	sys.Checker = NewChecker(CheckerOptions{
		Seed:          opts.Seed,
		Now:           d.Sim().Now,
		Healed:        d.Sim().FaultsHealed,
		LivenessBound: cfg.LivenessBound,
		Faulty:        slices.Clone(cfg.Faulty),
		FaultyClients: slices.Clone(cfg.FaultyClients),
	})
	d.Check(sys.Checker)
	return sys, nil
}

// deployment returns the deployment of cfg's nodes, each with its App
// reporting to observer.
func (cfg SystemConfig) deployment(observer func(Report)) deploytest.Config {
	return deploytest.Config{
		Nodes: cfg.Nodes,
		WAL:   cfg.WAL,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			mods, err := cfg.Build(info)
			if err != nil {
				return nil, err
			}
			if _, ok := mods[DefaultID]; ok {
				return nil, fmt.Errorf("isstest: node %s: module ID %q is the App's", info.ID, DefaultID)
			}
			p := DefaultParams(info.ID)
			if cfg.Params != nil {
				cfg.Params(info, &p)
			}
			p.Node, p.Incarnation, p.Observer = info.ID, info.Incarnation, observer
			app, err := New(p)
			if err != nil {
				return nil, fmt.Errorf("isstest: node %s: %w", info.ID, err)
			}
			out := make(modules.Modules, len(mods)+1)
			for id, m := range mods {
				out[id] = m
			}
			out[DefaultID] = app
			return out, nil
		},
	}
}
