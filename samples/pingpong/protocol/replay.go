package protocol

import (
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// Replay rebuilds a ping-pong node for replay from the ReplayParams
// recorded with it: record Replay.Meta(params) with the node
// (eventlog.StreamOptions.Meta), and give Replay.Builder() to a tool that
// replays (replay.Builders, mircat.WithReplayBuilders). Recordings name
// the builder "pingpong" (Replay.Name).
var Replay = replay.JSON[ReplayParams]{Name: "pingpong", Build: buildForReplay}

// ReplayParams is what a recording of a ping-pong node carries so that the
// node can be rebuilt for replay.
type ReplayParams struct {
	Config ModuleConfig
	Params ModuleParams
	// Reporter tells whether the node has a reporter module.
	Reporter bool
}

// buildForReplay builds the protocol module as the recorded run did; the
// timer, the transport and the reporter are active modules, which a replay
// does not run, so null modules stand in for them.
func buildForReplay(_ stdtypes.NodeID, p ReplayParams) (modules.Modules, error) {
	m, err := New(p.Config, p.Params)
	if err != nil {
		return nil, err
	}
	mods := modules.Modules{
		p.Config.Self:  m,
		p.Config.Timer: modules.NullActive{},
		p.Config.Net:   modules.NullActive{},
	}
	if p.Reporter {
		mods[p.Config.Reporter] = modules.NullActive{}
	}
	return mods, nil
}
