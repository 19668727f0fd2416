package mempool_test

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/mempool"
)

func TestDefaultsAreValid(t *testing.T) {
	if err := mempool.DefaultModuleConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := mempool.DefaultModuleParams().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestValidateParams: each parameter out of its range is named.
func TestValidateParams(t *testing.T) {
	for _, tc := range []struct {
		edit func(*mempool.ModuleParams)
		want string
	}{
		{func(p *mempool.ModuleParams) { p.NumBuckets = 0 }, "NumBuckets"},
		{func(p *mempool.ModuleParams) { p.NumBuckets = 1<<16 + 1 }, "NumBuckets"},
		{func(p *mempool.ModuleParams) { p.MaxTxBytes = -1 }, "MaxTxBytes"},
		{func(p *mempool.ModuleParams) { p.MaxClientIDBytes = -1 }, "MaxClientIDBytes"},
		{func(p *mempool.ModuleParams) { p.ClientWindow = 0 }, "ClientWindow"},
		{func(p *mempool.ModuleParams) { p.ClientWindow = 1<<20 + 1 }, "ClientWindow"},
		{func(p *mempool.ModuleParams) { p.MaxTxsPerClient = 0 }, "MaxTxsPerClient"},
		{func(p *mempool.ModuleParams) { p.MaxClients = 0 }, "MaxClients"},
		{func(p *mempool.ModuleParams) { p.MaxTxs = 0 }, "MaxTxs"},
		{func(p *mempool.ModuleParams) { p.MaxBytes = 0 }, "MaxBytes"},
		{func(p *mempool.ModuleParams) { p.MaxBatchTxs = 0 }, "MaxBatchTxs"},
		{func(p *mempool.ModuleParams) { p.MaxBatchBytes = 1 << 31 }, "MaxBatchBytes"},
		{func(p *mempool.ModuleParams) { p.MaxBatchBytes = p.MaxTxBytes }, "fit in a batch"},
		{func(p *mempool.ModuleParams) { p.MaxBytes = p.MaxTxBytes }, "fit in the mempool"},
		{func(p *mempool.ModuleParams) { p.BatchTimeout = 0 }, "BatchTimeout"},
		{func(p *mempool.ModuleParams) { p.MaxRequests = 0 }, "MaxRequests"},
	} {
		p := mempool.DefaultModuleParams()
		tc.edit(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v", tc.want, err)
		}
		if _, err := mempool.NewModule("0", mempool.DefaultModuleConfig(), p, nil); err == nil {
			t.Errorf("%s: NewModule accepted the parameters", tc.want)
		}
	}
}

func TestValidateConfig(t *testing.T) {
	mc := mempool.DefaultModuleConfig()
	mc.Timer = ""
	if err := mc.Validate(); err == nil || !strings.Contains(err.Error(), "Timer") {
		t.Fatalf("got %v", err)
	}
	if _, err := mempool.NewModule("0", mc, mempool.DefaultModuleParams(), nil); err == nil {
		t.Fatal("NewModule accepted the configuration")
	}
	if _, err := mempool.NewModule("", mempool.DefaultModuleConfig(), mempool.DefaultModuleParams(), nil); err == nil {
		t.Fatal("NewModule accepted an empty node ID")
	}
}
