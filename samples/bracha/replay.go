package bracha

import (
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// Replay rebuilds a node for replay from the ReplayParams recorded with
// it: record Replay.Meta(params) with the node
// (eventlog.StreamOptions.Meta), and give Replay.Builder() to a tool that
// replays (replay.Builders, mircat.WithReplayBuilders). Recordings name
// the builder "bracha" (Replay.Name).
var Replay = replay.JSON[ReplayParams]{Name: "bracha", Build: buildForReplay}

// ReplayParams is what a recording of a node carries so that the node can
// be rebuilt for replay: the arguments of NewNodeModules.
type ReplayParams struct {
	Config    ModuleConfig
	Params    ModuleParams
	Transport stdtypes.ModuleID
	Timer     stdtypes.ModuleID
}

// buildForReplay builds the node's passive modules as the recorded run
// did: the protocol module and its reliablenet module, both replayed. The
// transport, the timer, the application and the WAL module are not run in
// a replay (their events come from the recording: what the WAL module
// recovered is among the recorded inputs), so null modules stand in for
// them.
func buildForReplay(node stdtypes.NodeID, p ReplayParams) (modules.Modules, error) {
	mods, err := NewNodeModules(node, p.Config, p.Params, p.Transport, p.Timer)
	if err != nil {
		return nil, err
	}
	for _, id := range []stdtypes.ModuleID{p.Transport, p.Timer, p.Config.App, p.Config.WAL} {
		if id != "" {
			mods[id] = modules.NullActive{}
		}
	}
	return mods, nil
}
