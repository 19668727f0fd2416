package isstest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// Scenarios returns what package scenario needs to play stored scenarios
// of ISS systems (testdata/scenarios/*.txt): config makes the system of a
// scenario's nodes and params line; each run is checked by a Checker of
// its own, with the scenario's faulty nodes; the inputs are
//
//	request client=C seq=N payload=P    a Submit of request C/N
//	requests client=C from=N count=K    Submits of C/N to C/N+K-1, payload "C/N"
//
// and the history lists what each node's App was delivered, slot by slot
// ("slot 3: batch [c/0 c/1] (digest 1a2b3c4d)", "slot 4: ⊥"). A test adds
// its own inputs and adversaries to the returned Protocol's tables.
//
// The Checker of a scenario has no access to the simulation: its clock is
// the time of the events it observes, and liveness takes every execution
// missing when it is checked as a violation (see CheckerOptions.Now).
// Scenarios are played one at a time: the Protocol is not safe for
// concurrent use.
func Scenarios(config func(nodes []stdtypes.NodeID, params *scenario.Args) (SystemConfig, error)) scenario.Protocol {
	runs := &scenarioRuns{}
	return scenario.Protocol{
		Config: func(nodes []stdtypes.NodeID, params *scenario.Args) (deploytest.Config, error) {
			cfg, err := config(nodes, params)
			switch {
			case err != nil:
				return deploytest.Config{}, err
			case cfg.Build == nil:
				return deploytest.Config{}, errors.New("isstest: system without a Build")
			}
			runs.cfg = cfg
			return cfg.deployment(runs.report), nil
		},
		Inputs: map[string]scenario.Input{
			"request":  requestInput,
			"requests": requestsInput,
		},
		Properties: func(faulty []stdtypes.NodeID) []testsim.Property {
			return []testsim.Property{&scenarioProperty{runs: runs, faulty: slices.Clone(faulty)}}
		},
		History: describeDeliver,
	}
}

// scenarioRuns connects the Apps of a scenario's run to the run's
// Checker: the Apps are built by the deployment's Config, the Checker by
// the property's NewRun, and the runs of a scenario come one after the
// other.
type scenarioRuns struct {
	// cfg is the system of the run being set up.
	cfg SystemConfig
	// current is the Checker of the run being played.
	current *Checker
}

// report hands the report of an App to the current run's Checker.
func (s *scenarioRuns) report(r Report) {
	if s.current != nil {
		s.current.Report(r)
	}
}

// scenarioProperty is the Checker of a scenario, as the scenario's
// properties: each run gets a Checker of its own (testsim.PerRun).
type scenarioProperty struct {
	runs   *scenarioRuns
	faulty []stdtypes.NodeID
}

// Name names the property, as the Checkers of its runs are named.
func (p *scenarioProperty) Name() string { return "iss" }

// Observe checks nothing: runs are checked by the Checkers NewRun makes.
func (p *scenarioProperty) Observe(*testsim.Observation) error { return nil }

// NewRun returns the Checker of a new run, which the run's Apps report to.
func (p *scenarioProperty) NewRun() testsim.Property {
	cfg := p.runs.cfg
	c := NewChecker(CheckerOptions{
		LivenessBound: cfg.LivenessBound,
		Faulty:        slices.Concat(p.faulty, cfg.Faulty),
		FaultyClients: slices.Clone(cfg.FaultyClients),
	})
	p.runs.current = c
	return c
}

// requestInput makes the Submit of a request line.
func requestInput(_ stdtypes.NodeID, a *scenario.Args) ([]stdtypes.Event, error) {
	client := a.String("client", "")
	if client == "" {
		return nil, errors.New("request needs client=")
	}
	return []stdtypes.Event{NewSubmit(DefaultID, client, a.Uint("seq", 0), []byte(a.String("payload", "")))}, nil
}

// maxScenarioRequests bounds a requests line: a scenario is a small run.
const maxScenarioRequests = 1 << 16

// requestsInput makes the Submits of a requests line.
func requestsInput(_ stdtypes.NodeID, a *scenario.Args) ([]stdtypes.Event, error) {
	client, from, count := a.String("client", ""), a.Uint("from", 0), a.Int("count", 1)
	if client == "" || count < 1 || count > maxScenarioRequests {
		return nil, fmt.Errorf("requests needs client= and a count from 1 to %d", maxScenarioRequests)
	}
	evs := make([]stdtypes.Event, count)
	for i := range evs {
		id := RequestID{Client: client, Seq: from + uint64(i)}
		evs[i] = NewSubmit(DefaultID, client, id.Seq, []byte(id.String()))
	}
	return evs, nil
}

// describeDeliver describes, for a scenario's history, a slot an App is
// delivered.
func describeDeliver(ev stdtypes.Event) (string, bool) {
	d, ok := ev.(*iss.Deliver)
	if !ok || d.Dest() != DefaultID {
		return "", false
	}
	return fmt.Sprintf("slot %d: %s", d.SeqNr, describeValue(d.Aborted, d.Value)), true
}
