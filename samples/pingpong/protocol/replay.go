package protocol

import (
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// ReplayBuilderName is the name by which a recording of a ping-pong node names
// its replay builder (replay.MetaBuilder).
const ReplayBuilderName = "pingpong"

// ReplayBuilder returns the builder that rebuilds a ping-pong node for replay
// from the parameters ReplayMeta records: give it to a tool that replays
// (replay.Builders, mircat.WithReplayBuilders).
func ReplayBuilder() replay.Builder {
	return replay.JSONBuilder(ReplayBuilderName, buildForReplay)
}

// ReplayParams is what a recording of a ping-pong node carries so that the
// node can be rebuilt for replay.
type ReplayParams struct {
	Config ModuleConfig
	Params ModuleParams
	// Reporter tells whether the node has a reporter module.
	Reporter bool
}

// ReplayMeta returns the metadata to record with a ping-pong node
// (eventlog.StreamOptions.Meta) so that the recording can be replayed.
func ReplayMeta(p ReplayParams) (map[string]string, error) {
	return replay.JSONMeta(ReplayBuilderName, p)
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
