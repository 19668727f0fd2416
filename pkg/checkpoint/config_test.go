package checkpoint_test

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

func TestDefaultsValid(t *testing.T) {
	if err := checkpoint.DefaultModuleConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	p := checkpoint.DefaultModuleParams(membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...))
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := checkpoint.NewModule("0", checkpoint.DefaultModuleConfig(), p, nil); err != nil {
		t.Fatal(err)
	}
}

func TestParamsValidate(t *testing.T) {
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	for _, tc := range []struct {
		name  string
		tweak func(*checkpoint.ModuleParams)
		want  string
	}{
		{"no voters", func(p *checkpoint.ModuleParams) { p.Voters = nil }, "Voters"},
		{"repeated voter", func(p *checkpoint.ModuleParams) { p.Voters = membership.EqualVoters("0", "0") }, "twice"},
		{"negative offset", func(p *checkpoint.ModuleParams) { p.ConfigOffset = -1 }, "ConfigOffset"},
		{"huge offset", func(p *checkpoint.ModuleParams) { p.ConfigOffset = 1000 }, "ConfigOffset"},
		{"no state", func(p *checkpoint.ModuleParams) { p.MaxStateBytes = 0 }, "MaxStateBytes"},
		{"huge state", func(p *checkpoint.ModuleParams) { p.MaxStateBytes = 1 << 31 }, "MaxStateBytes"},
		{"no resend", func(p *checkpoint.ModuleParams) { p.ResendPeriod = 0 }, "ResendPeriod"},
		{"no timeout", func(p *checkpoint.ModuleParams) { p.SnapshotTimeout = -1 }, "SnapshotTimeout"},
		{"none retained", func(p *checkpoint.ModuleParams) { p.RetainedCheckpoints = 0 }, "RetainedCheckpoints"},
		{"no window", func(p *checkpoint.ModuleParams) { p.EpochWindow = 0 }, "EpochWindow"},
		{"huge window", func(p *checkpoint.ModuleParams) { p.EpochWindow = 1 << 20 }, "EpochWindow"},
		{"negative serves", func(p *checkpoint.ModuleParams) { p.MaxServesPerPeriod = -1 }, "MaxServesPerPeriod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := checkpoint.DefaultModuleParams(voters)
			tc.tweak(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error about %s", err, tc.want)
			}
			if _, err := checkpoint.NewModule("0", checkpoint.DefaultModuleConfig(), p, nil); err == nil {
				t.Fatal("NewModule accepted invalid parameters")
			}
		})
	}
	mc := checkpoint.DefaultModuleConfig()
	mc.Hasher = ""
	if err := mc.Validate(); err == nil || !strings.Contains(err.Error(), "Hasher") {
		t.Fatalf("Validate() = %v, want an error about Hasher", err)
	}
}
