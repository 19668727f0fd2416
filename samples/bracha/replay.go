package bracha

import (
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// ReplayBuilderName is the name by which a recording of a node names its
// replay builder (replay.MetaBuilder).
const ReplayBuilderName = "bracha"

// ReplayBuilder returns the builder that rebuilds a node for replay from
// the parameters ReplayMeta records: give it to a tool that replays
// (replay.Builders, mircat.WithReplayBuilders).
func ReplayBuilder() replay.Builder {
	return replay.JSONBuilder(ReplayBuilderName, buildForReplay)
}

// ReplayParams is what a recording of a node carries so that the node can
// be rebuilt for replay: the arguments of NewNodeModules.
type ReplayParams struct {
	Config    ModuleConfig
	Params    ModuleParams
	Transport stdtypes.ModuleID
	Timer     stdtypes.ModuleID
}

// ReplayMeta returns the metadata to record with a node
// (eventlog.StreamOptions.Meta) so that the recording can be replayed.
func ReplayMeta(p ReplayParams) (map[string]string, error) {
	return replay.JSONMeta(ReplayBuilderName, p)
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
