package bcb

import (
	"fmt"

	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdtypes"
)

// Replay rebuilds a BCB node for replay from the ReplayParams recorded
// with it: record Replay.Meta(params) with the node
// (eventlog.StreamOptions.Meta), and give Replay.Builder() to a tool that
// replays (replay.Builders, mircat.WithReplayBuilders). Recordings name
// the builder "bcb" (Replay.Name).
//
// The builder rebuilds the node's passive modules, the bcb module and the
// reliablenet module that carries its messages, as the recorded run built
// them, and null stand-ins for the others, which a replay does not run:
// the transport, the timer, the application and the crypto module, taken
// to be active (crypto.NewPool) as on a deployed node. A recording whose
// crypto module was passive (the synchronous crypto.NewModule, as in a
// simulation) holds its outputs, which a replay compares: it replays with
// that module in place of the stand-in (the keys are not recorded).
var Replay = replay.JSON[ReplayParams]{Name: "bcb", Build: buildForReplay}

// ReplayParams is what a recording of a BCB node carries so that the node
// can be rebuilt for replay: the configuration and the parameters of its
// bcb and reliablenet modules.
type ReplayParams struct {
	Config ModuleConfig
	Params ModuleParams
	// ReliableNetConfig.Self must be Config.ReliableNet.
	ReliableNetConfig reliablenet.ModuleConfig
	ReliableNetParams reliablenet.ModuleParams
}

// buildForReplay builds the bcb and reliablenet modules as the recorded
// run did, and null active modules for the others, whose events come from
// the recording.
func buildForReplay(node stdtypes.NodeID, p ReplayParams) (modules.Modules, error) {
	if p.ReliableNetConfig.Self != p.Config.ReliableNet {
		return nil, fmt.Errorf("bcb: replay parameters: the reliablenet module is %q, the bcb module sends through %q",
			p.ReliableNetConfig.Self, p.Config.ReliableNet)
	}
	m, err := NewModule(node, p.Config, p.Params, logging.NilLogger)
	if err != nil {
		return nil, err
	}
	rn, err := reliablenet.NewModule(node, p.ReliableNetConfig, p.ReliableNetParams, logging.NilLogger)
	if err != nil {
		return nil, fmt.Errorf("bcb: replay parameters: %w", err)
	}
	mods := modules.Modules{}
	for _, id := range []stdtypes.ModuleID{p.ReliableNetConfig.Net, p.ReliableNetConfig.Timer, p.Config.Crypto, p.Config.Timer, p.Config.App} {
		mods[id] = modules.NullActive{}
	}
	mods[p.Config.Self], mods[p.Config.ReliableNet] = m, rn
	return mods, nil
}
