package iss

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/membership"
)

func TestDefaultsAreValid(t *testing.T) {
	if err := DefaultModuleConfig().Validate(); err != nil {
		t.Errorf("DefaultModuleConfig: %v", err)
	}
	if err := DefaultParams(fourVoters).Validate(); err != nil {
		t.Errorf("DefaultParams: %v", err)
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Params)
		want   string
	}{
		{"no voters", func(p *Params) { p.Voters = nil }, "Voters"},
		{"duplicate voter", func(p *Params) { p.Voters = membership.EqualVoters("a", "a") }, "Voters"},
		{"segment length 0", func(p *Params) { p.SegmentLength = 0 }, "SegmentLength is 0"},
		{"segment length huge", func(p *Params) { p.SegmentLength = MaxSegmentLength + 1 }, "SegmentLength"},
		{"no buckets", func(p *Params) { p.NumBuckets = 0 }, "NumBuckets is 0"},
		{"negative blacklist", func(p *Params) { p.BlacklistEpochs = -1 }, "BlacklistEpochs"},
		{"config offset", func(p *Params) { p.ConfigOffset = MaxConfigOffset + 1 }, "ConfigOffset"},
		{"retained", func(p *Params) { p.RetainedEpochs = -1 }, "RetainedEpochs"},
		{"policy", func(p *Params) { p.LeaderPolicy = "Round" }, `LeaderPolicy "Round"`},
		{"propose delay", func(p *Params) { p.MaxProposeDelay = 0 }, "MaxProposeDelay"},
		{"view change", func(p *Params) { p.ViewChangeTimeout = 0 }, "ViewChangeTimeout is 0s"},
		{"max below first", func(p *Params) { p.MaxViewChangeTimeout = p.ViewChangeTimeout - 1 }, "MaxViewChangeTimeout"},
		{"buffer bytes", func(p *Params) { p.MsgBufferBytes = 0 }, "MsgBufferBytes"},
		{"buffer count", func(p *Params) { p.MsgBufferCount = 0 }, "MsgBufferCount"},
	}
	for _, tc := range tests {
		p := DefaultParams(fourVoters)
		tc.change(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

func TestModuleConfigValidate(t *testing.T) {
	mc := DefaultModuleConfig()
	mc.Timer = "timer"
	if err := mc.Validate(); err != nil {
		t.Errorf("with a timer: %v", err)
	}
	mc = DefaultModuleConfig()
	mc.App = ""
	mc.Ordering = "iss"
	err := mc.Validate()
	if err == nil || !strings.Contains(err.Error(), "ModuleConfig.App") || !strings.Contains(err.Error(), "same module") {
		t.Errorf("Validate = %v", err)
	}
	mc = DefaultModuleConfig()
	mc.Self = "iss/sub"
	if _, err := New("n0", mc, DefaultParams(fourVoters), nil); err == nil {
		t.Error("New accepted a Self below another module")
	}
	if _, err := New("n0", DefaultModuleConfig(), Params{}, nil); err == nil {
		t.Error("New accepted zero parameters")
	}
}
