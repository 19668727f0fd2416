package iss

import (
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

func TestEarlyOrdererMessages(t *testing.T) {
	c := EarlyOrdererMessages(DefaultParams(fourVoters))
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxSenders != 8 || c.Limits.MessagesPerSenderMax != 4096 || c.Limits.BytesPerSenderMax != 4<<20 {
		t.Errorf("config %+v", c)
	}
	for name, want := range map[stdtypes.ModuleID]struct {
		idx stdtypes.RetentionIndex
		ok  bool
	}{"7.2": {7, true}, "0.0": {0, true}, "x": {0, false}, "07.2": {0, false}} {
		if idx, ok := c.Index(name); idx != want.idx || ok != want.ok {
			t.Errorf("Index(%q) = %d, %v; want %d, %v", name, idx, ok, want.idx, want.ok)
		}
	}
}
