package bcb

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// ReplayBuilderName is the name by which a recording of a BCB node names
// its replay builder (replay.MetaBuilder).
const ReplayBuilderName = "bcb"

// ReplayBuilder returns the builder that rebuilds a BCB node for replay
// from the parameters ReplayMeta records: give it to a tool that replays
// (replay.Builders, mircat.WithReplayBuilders).
func ReplayBuilder() replay.Builder {
	return replay.Builder{Name: ReplayBuilderName, Build: buildForReplay}
}

// ReplayParams is what a recording of a BCB node carries so that the node
// can be rebuilt for replay.
type ReplayParams struct {
	Config ModuleConfig
	Params ModuleParams
}

// ReplayMeta returns the metadata to record with a BCB node
// (eventlog.StreamOptions.Meta) so that the recording can be replayed.
func ReplayMeta(p ReplayParams) (map[string]string, error) {
	params, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("bcb: replay parameters: %w", err)
	}
	return map[string]string{replay.MetaBuilder: ReplayBuilderName, replay.MetaParams: string(params)}, nil
}

// buildForReplay builds the BCB module as the recorded run did. The
// transport, the crypto module, the timer and the application are not run
// in a replay (their events come from the recording), so null modules
// stand in for them.
func buildForReplay(node stdtypes.NodeID, params []byte) (modules.Modules, error) {
	var p ReplayParams
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("bcb: replay parameters: %w", err)
	}
	m, err := NewModule(node, p.Config, p.Params, logging.NilLogger)
	if err != nil {
		return nil, err
	}
	mods := modules.Modules{p.Config.Self: m}
	for _, id := range []stdtypes.ModuleID{p.Config.ReliableNet, p.Config.Crypto, p.Config.Timer, p.Config.App} {
		mods[id] = modules.NullActive{}
	}
	return mods, nil
}
