package issnode_test

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/issnode"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/stdtypes"
)

// TestScenarios plays testdata/scenarios/*.txt: ISS systems with the
// isstest App, in stored runs (the bugs simulations found, and known
// attacks). -sim.rewrite rewrites their outcomes. The params line:
//
//	segment=N       ISS's SegmentLength (default 4)
//	voters=0,1,2,3  the membership of epoch 0 (default: every node)
//	join=E          from epoch E on, every node is a voter (default: none)
func TestScenarios(t *testing.T) {
	p := isstest.Scenarios(func(nodes []stdtypes.NodeID, a *scenario.Args) (isstest.SystemConfig, error) {
		voters := membership.EqualVoters(a.Nodes("voters", nodes)...)
		params := iss.DefaultParams(voters)
		params.SegmentLength = a.Int("segment", 4)
		var changes []isstest.MembershipChange
		if e := a.Uint("join", 0); e != 0 {
			changes = append(changes, isstest.MembershipChange{FromEpoch: stdtypes.EpochNr(e), Voters: membership.EqualVoters(nodes...)})
		}
		keys, pubs, err := crypto.NodeKeysFromSeed(crypto.Ed25519, keySeed, nodes)
		if err != nil {
			return isstest.SystemConfig{}, err
		}
		return isstest.SystemConfig{
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
				nc, err := crypto.New(keys[slices.Index(nodes, info.ID)], pubs)
				if err != nil {
					return nil, err
				}
				mods["crypto"], err = crypto.NewModule(nc)
				return mods, err
			},
			Params: func(_ deploytest.NodeInfo, ap *isstest.Params) {
				ap.NumBuckets, ap.ConfigOffset, ap.Memberships = params.NumBuckets, params.ConfigOffset, changes
			},
		}, nil
	})
	if p.Adversaries == nil {
		p.Adversaries = map[string]scenario.AdversaryMaker{}
	}
	p.Adversaries["equivocate"] = func(*scenario.Args) (sim.Adversary, error) {
		return sim.Equivocate(2, equivocatePrePrepare), nil
	}
	scenario.RunDir(t, "testdata/scenarios", p)
}
