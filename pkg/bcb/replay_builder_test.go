package bcb_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdtypes"
)

// ReplayBuilder rebuilds a deployed node from the metadata ReplayMeta
// makes: the bcb and reliablenet modules passive, the others null active
// modules.
func TestReplayBuilder(t *testing.T) {
	cfg := bcb.DefaultModuleConfig()
	params := bcb.DefaultModuleParams(stdtypes.NumberedNodeIDs(4))
	rcfg := reliablenet.DefaultModuleConfig(cfg.Self)
	meta, err := bcb.Replay.Meta(bcb.ReplayParams{
		Config: cfg, Params: params, ReliableNetConfig: rcfg, ReliableNetParams: bcb.ReliableNetParams(params),
	})
	if err != nil {
		t.Fatal(err)
	}
	builders := replay.Builders{bcb.Replay.Builder()}
	if meta[replay.MetaBuilder] != bcb.Replay.Name || bcb.Replay.Builder().Name != bcb.Replay.Name {
		t.Fatalf("metadata %v", meta)
	}
	mods, err := builders.Build(meta[replay.MetaBuilder], "1", []byte(meta[replay.MetaParams]))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mods[cfg.Self].(*bcb.Module); !ok {
		t.Errorf("module %s is %T", cfg.Self, mods[cfg.Self])
	}
	if _, ok := mods[cfg.ReliableNet].(*reliablenet.Module); !ok {
		t.Errorf("module %s is %T", cfg.ReliableNet, mods[cfg.ReliableNet])
	}
	for _, id := range []stdtypes.ModuleID{rcfg.Net, cfg.Crypto, cfg.Timer, cfg.App} {
		if _, ok := mods[id].(modules.NullActive); !ok {
			t.Errorf("module %s is %T, want a null active module", id, mods[id])
		}
	}
	if len(mods) != 6 {
		t.Errorf("%d modules: %v", len(mods), mods)
	}
	for _, bad := range []string{
		`{`,
		`{"Unknown":1}`,
		`{"Config":{},"Params":{}}`,
		// Another reliablenet module than the bcb module sends through.
		`{"Config":{"Self":"bcb","ReliableNet":"reliablenet","Crypto":"crypto","Timer":"timer","App":"app"},` +
			`"Params":{"Nodes":["0","1","2","3"],"F":1,"MaxPayloadBytes":1,"Window":1,"TickPeriod":1},` +
			`"ReliableNetConfig":{"Self":"rnet","Net":"net","Timer":"timer","Users":["bcb"]},` +
			`"ReliableNetParams":{"TickPeriod":1,"MinBackoffTicks":1,"MaxBackoffTicks":1,"MaxPendingMessages":1,"MaxPendingBytes":1}}`,
		// Reliablenet parameters that do not validate (no tick period).
		`{"Config":{"Self":"bcb","ReliableNet":"reliablenet","Crypto":"crypto","Timer":"timer","App":"app"},` +
			`"Params":{"Nodes":["0","1","2","3"],"F":1,"MaxPayloadBytes":1,"Window":1,"TickPeriod":1},` +
			`"ReliableNetConfig":{"Self":"reliablenet","Net":"net","Timer":"timer","Users":["bcb"]},` +
			`"ReliableNetParams":{"MinBackoffTicks":1,"MaxBackoffTicks":1,"MaxPendingMessages":1,"MaxPendingBytes":1}}`,
	} {
		if _, err := bcb.Replay.Builder().Build("1", []byte(bad)); err == nil {
			t.Errorf("parameters %s accepted", bad)
		}
	}
	// The two well-formed ones above differ from a valid one only where
	// they are meant to.
	good := `{"Config":{"Self":"bcb","ReliableNet":"reliablenet","Crypto":"crypto","Timer":"timer","App":"app"},` +
		`"Params":{"Nodes":["0","1","2","3"],"F":1,"MaxPayloadBytes":1,"Window":1,"TickPeriod":1},` +
		`"ReliableNetConfig":{"Self":"reliablenet","Net":"net","Timer":"timer","Users":["bcb"]},` +
		`"ReliableNetParams":{"TickPeriod":1,"MinBackoffTicks":1,"MaxBackoffTicks":1,"MaxPendingMessages":1,"MaxPendingBytes":1}}`
	if _, err := bcb.Replay.Builder().Build("1", []byte(good)); err != nil {
		t.Errorf("valid parameters refused: %v", err)
	}
}
