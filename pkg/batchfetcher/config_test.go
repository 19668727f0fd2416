package batchfetcher_test

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

func TestDefaultsValid(t *testing.T) {
	ip := iss.DefaultParams(membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...))
	p := batchfetcher.DefaultModuleParams(ip)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := batchfetcher.DefaultModuleConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if p.NumBuckets != ip.NumBuckets {
		t.Errorf("NumBuckets %d, ISS's %d", p.NumBuckets, ip.NumBuckets)
	}
	// ConfigOffset 2, SegmentLength 16, at least 64 leaders.
	if want := 3 * 16 * 64; p.MaxPendingSlots != want {
		t.Errorf("MaxPendingSlots %d, want %d", p.MaxPendingSlots, want)
	}
}

func TestValidateRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*batchfetcher.ModuleParams)
	}{
		{"NumBuckets", func(p *batchfetcher.ModuleParams) { p.NumBuckets = 0 }},
		{"ClientWindow", func(p *batchfetcher.ModuleParams) { p.ClientWindow = 0 }},
		{"MaxClients", func(p *batchfetcher.ModuleParams) { p.MaxClients = 0 }},
		{"MaxClientIDBytes", func(p *batchfetcher.ModuleParams) { p.MaxClientIDBytes = 1 << 20 }},
		{"MaxAppStateBytes", func(p *batchfetcher.ModuleParams) { p.MaxAppStateBytes = -1 }},
		{"MaxPendingSlots", func(p *batchfetcher.ModuleParams) { p.MaxPendingSlots = 0 }},
		{"MaxStateBytes", func(p *batchfetcher.ModuleParams) { p.MaxClients, p.ClientWindow = 1<<16, 1<<15 }},
	} {
		p := testParams()
		tc.change(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: error %v", tc.name, err)
		}
		if _, err := batchfetcher.NewModule("n0", batchfetcher.DefaultModuleConfig(), p, nil); err == nil {
			t.Errorf("%s: NewModule accepted the parameters", tc.name)
		}
	}
	mc := batchfetcher.DefaultModuleConfig()
	mc.App = ""
	if _, err := batchfetcher.NewModule("n0", mc, testParams(), nil); err == nil || !strings.Contains(err.Error(), "ModuleConfig.App") {
		t.Errorf("empty App: error %v", err)
	}
	if _, err := batchfetcher.NewModule("", batchfetcher.DefaultModuleConfig(), testParams(), nil); err == nil {
		t.Error("empty node ID accepted")
	}
}

// The default parameters' largest snapshot fits the checkpoint module's
// default bound on a state.
func TestDefaultStateFitsCheckpoint(t *testing.T) {
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	p := batchfetcher.DefaultModuleParams(iss.DefaultParams(voters))
	if got, limit := p.MaxStateBytes(), checkpoint.DefaultModuleParams(voters).MaxStateBytes; got > limit {
		t.Fatalf("MaxStateBytes %d, the checkpoint's default bound %d", got, limit)
	}
}
