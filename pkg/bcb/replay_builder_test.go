package bcb_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// ReplayBuilder rebuilds a deployed node from the metadata ReplayMeta
// makes: the BCB module passive, the others null active modules.
func TestReplayBuilder(t *testing.T) {
	cfg := bcb.DefaultModuleConfig()
	meta, err := bcb.ReplayMeta(bcb.ReplayParams{Config: cfg, Params: bcb.DefaultModuleParams(nodeIDs(4))})
	if err != nil {
		t.Fatal(err)
	}
	builders := replay.Builders{bcb.ReplayBuilder()}
	if meta[replay.MetaBuilder] != bcb.ReplayBuilderName || bcb.ReplayBuilder().Name != bcb.ReplayBuilderName {
		t.Fatalf("metadata %v", meta)
	}
	mods, err := builders.Build(meta[replay.MetaBuilder], "1", []byte(meta[replay.MetaParams]))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mods[cfg.Self].(*bcb.Module); !ok {
		t.Errorf("module %s is %T", cfg.Self, mods[cfg.Self])
	}
	for _, id := range []string{string(cfg.ReliableNet), string(cfg.Crypto), string(cfg.Timer), string(cfg.App)} {
		if _, ok := mods[stdtypes.ModuleID(id)].(modules.NullActive); !ok {
			t.Errorf("module %s is %T, want a null active module", id, mods[stdtypes.ModuleID(id)])
		}
	}
	for _, bad := range []string{`{`, `{"Unknown":1}`, `{"Config":{},"Params":{}}`} {
		if _, err := bcb.ReplayBuilder().Build("1", []byte(bad)); err == nil {
			t.Errorf("parameters %s accepted", bad)
		}
	}
}
