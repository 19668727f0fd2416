package pbft_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func TestDefaults(t *testing.T) {
	if err := pbft.DefaultModuleConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	p := pbft.DefaultModuleParams()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// docs/iss.md, section 9.
	if p.MaxProposeDelay != 50*time.Millisecond || p.ViewChangeTimeout != 300*time.Millisecond ||
		p.MaxViewChangeTimeout != 10*time.Second || p.MsgBufferCount != 4096 || p.MsgBufferBytes != 4<<20 {
		t.Fatalf("defaults %+v differ from docs/iss.md", p)
	}
}

func TestValidateRejects(t *testing.T) {
	for name, change := range map[string]func(*pbft.ModuleParams){
		"no propose delay":         func(p *pbft.ModuleParams) { p.MaxProposeDelay = 0 },
		"max below the timeout":    func(p *pbft.ModuleParams) { p.MaxViewChangeTimeout = p.ViewChangeTimeout / 2 },
		"negative value size":      func(p *pbft.ModuleParams) { p.MaxValueBytes = -1 },
		"huge value size":          func(p *pbft.ModuleParams) { p.MaxValueBytes = 1 << 40 },
		"no room in the buffer":    func(p *pbft.ModuleParams) { p.MsgBufferCount = 0 },
		"no bytes in the buffer":   func(p *pbft.ModuleParams) { p.MsgBufferBytes = 0 },
		"negative view timeout":    func(p *pbft.ModuleParams) { p.ViewChangeTimeout = -1 },
		"negative propose timeout": func(p *pbft.ModuleParams) { p.MaxProposeDelay = -time.Second },
	} {
		p := pbft.DefaultModuleParams()
		change(&p)
		if p.Validate() == nil {
			t.Errorf("%s: valid", name)
		}
	}
	mc := pbft.DefaultModuleConfig()
	mc.Crypto = ""
	if mc.Validate() == nil {
		t.Error("config without a crypto module: valid")
	}
	mc = pbft.DefaultModuleConfig()
	mc.WAL, mc.Hasher = "", ""
	if err := mc.Validate(); err != nil {
		t.Errorf("config without WAL and hasher: %v", err)
	}
}

// The factory builds an orderer per segment from the NewSubmodule's
// Params, and refuses what is not a valid segment for the ID.
func TestFactory(t *testing.T) {
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	f, err := pbft.NewFactory("0", mc, testParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	seg := testSegment(voters)
	out, err := f.ApplyEvents(stdtypes.ListOf(stdevents.NewNewSubmodule(ord, 0, seg)))
	if err != nil {
		t.Fatal(err)
	}
	if reqs := of[*iss.RequestProposal](out.Slice()); len(reqs) != 1 {
		t.Fatalf("the leader's orderer asked for %d proposals at Init; want 1", len(reqs))
	}
	if subs := f.Submodules(); len(subs) != 1 || subs[0] != ord {
		t.Fatalf("submodules %v", subs)
	}
	seg1 := seg
	seg1.Index = 1
	for name, tc := range map[string]struct {
		id     stdtypes.ModuleID
		params any
		want   string
	}{
		"not a segment":        {iss.OrdererID(mc.Self, 0, 1), "hello", "Params of type"},
		"ID of another":        {iss.OrdererID(mc.Self, 0, 2), seg1, "its ID must be"},
		"nil pointer":          {iss.OrdererID(mc.Self, 0, 1), (*iss.Segment)(nil), "nil"},
		"no slots":             {iss.OrdererID(mc.Self, 0, 1), iss.Segment{Index: 1, Leader: "0", Voters: voters}, "slots"},
		"leader not a voter":   {iss.OrdererID(mc.Self, 0, 1), iss.Segment{Index: 1, Leader: "7", Voters: voters, SeqNrs: sns}, "leader"},
		"slots not increasing": {iss.OrdererID(mc.Self, 0, 1), iss.Segment{Index: 1, Leader: "0", Voters: voters, SeqNrs: []stdtypes.SeqNr{4, 4}}, "increasing"},
		"no voters":            {iss.OrdererID(mc.Self, 0, 1), iss.Segment{Index: 1, Leader: "0", SeqNrs: sns}, "voters"},
	} {
		_, err := f.ApplyEvents(stdtypes.ListOf(stdevents.NewNewSubmodule(tc.id, 0, tc.params)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one with %q", name, err, tc.want)
		}
	}
	// A pointer to a segment works too.
	if _, err := f.ApplyEvents(stdtypes.ListOf(stdevents.NewNewSubmodule(iss.OrdererID(mc.Self, 0, 1), 0, &seg1))); err != nil {
		t.Fatal(err)
	}
	// A node that is not a voter has no orderer.
	g, _ := pbft.NewFactory("9", mc, testParams(), nil)
	if _, err := g.ApplyEvents(stdtypes.ListOf(stdevents.NewNewSubmodule(ord, 0, seg))); err == nil {
		t.Error("orderer for a node that is not a voter")
	}
	if _, err := pbft.NewFactory("0", mc, pbft.ModuleParams{}, nil); err == nil {
		t.Error("factory with zero parameters")
	}
}

// InFlight grows with what it bounds.
func TestInFlight(t *testing.T) {
	p := pbft.DefaultModuleParams()
	m, b := pbft.InFlight(p, 16, 4)
	if m < 3*16 || b < 16*p.MaxValueBytes {
		t.Fatalf("InFlight(16 slots, 4 voters) = %d messages, %d bytes: below one PREPREPARE per slot", m, b)
	}
	m2, b2 := pbft.InFlight(p, 16, 7)
	if m2 <= m || b2 <= b {
		t.Fatalf("more voters, no more in flight: %d, %d", m2, b2)
	}
}

// The factory's Stats sum its orderers' counters, and keep them once the
// orderers are garbage-collected.
func TestFactoryStatsOutliveOrderers(t *testing.T) {
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	f, err := pbft.NewFactory("0", mc, testParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stranger := func(epoch stdtypes.EpochNr) {
		t.Helper()
		msg := stdevents.NewMessageReceived(iss.OrdererID(mc.Self, epoch, 0), "9", &pbft.PrepareMsg{SeqNr: 0, Digest: make([]byte, 32)})
		if _, err := f.ApplyEvents(stdtypes.ListOf(msg)); err != nil {
			t.Fatal(err)
		}
	}
	for epoch := range stdtypes.EpochNr(2) {
		seg := testSegment(voters)
		seg.Epoch = epoch
		if _, err := f.ApplyEvents(stdtypes.ListOf(stdevents.NewNewSubmodule(iss.OrdererID(mc.Self, epoch, 0), stdtypes.RetentionIndex(epoch), seg))); err != nil {
			t.Fatal(err)
		}
		stranger(epoch)
	}
	if got := f.Stats().UnknownSender; got != 2 {
		t.Fatalf("UnknownSender = %d with two orderers, want 2", got)
	}
	if _, err := f.ApplyEvents(stdtypes.ListOf(stdevents.NewGarbageCollect(mc.Self, 1))); err != nil {
		t.Fatal(err)
	}
	if subs := f.Submodules(); len(subs) != 1 {
		t.Fatalf("submodules %v after garbage collection, want 1", subs)
	}
	stranger(1)
	if got, ok := f.ReportStats().(pbft.Stats); !ok || got.UnknownSender != 3 {
		t.Fatalf("report %#v; want pbft.Stats with UnknownSender 3", f.ReportStats())
	}
}
