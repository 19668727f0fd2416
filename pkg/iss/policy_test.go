package iss

import (
	"errors"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

var fourVoters = membership.EqualVoters("n0", "n1", "n2", "n3")

func ids(s ...stdtypes.NodeID) []stdtypes.NodeID { return s }

func TestAllLeaders(t *testing.T) {
	p := &AllLeaders{}
	p.EpochDone(0, ids("n1"))
	if got := p.Leaders(1, fourVoters); !slices.Equal(got, fourVoters.IDs()) {
		t.Errorf("Leaders = %v", got)
	}
	st, err := p.State()
	if err != nil || len(st) != 0 {
		t.Errorf("State = %v, %v", st, err)
	}
	if err := p.SetState([]byte{1}); !errors.Is(err, ErrInvalidPolicyState) {
		t.Errorf("SetState of a non-empty state = %v", err)
	}
}

// TestBlacklist runs a Blacklist with BlacklistEpochs 2 through epochs and
// checks each epoch's leaders.
func TestBlacklist(t *testing.T) {
	type step struct {
		failed []stdtypes.NodeID // of the epoch that ends
		want   []stdtypes.NodeID // leaders of the next epoch
	}
	tests := []struct {
		name   string
		epochs int
		voters membership.Voters
		steps  []step
	}{{
		name: "an offender sits out two epochs", epochs: 2, voters: fourVoters,
		steps: []step{
			{ids("n1"), ids("n0", "n2", "n3")}, // epoch 1
			{nil, ids("n0", "n2", "n3")},       // epoch 2
			{nil, ids("n0", "n1", "n2", "n3")}, // epoch 3: back
		},
	}, {
		name: "the latest offence counts", epochs: 2, voters: fourVoters,
		steps: []step{
			{ids("n1"), ids("n0", "n2", "n3")},
			{nil, ids("n0", "n2", "n3")},
			{ids("n2"), ids("n0", "n1", "n3")}, // n1 back, n2 out
			{nil, ids("n0", "n1", "n3")},
			{nil, fourVoters.IDs()},
		},
	}, {
		name: "never fewer than one leader: the oldest offender returns", epochs: 3, voters: fourVoters,
		steps: []step{
			{ids("n2"), ids("n0", "n1", "n3")},
			{ids("n3", "n0"), ids("n1")},
			{ids("n1"), ids("n2")}, // all out: n2's offence is the oldest
		},
	}, {
		name: "ties among the oldest go to the membership's order", epochs: 5,
		voters: membership.EqualVoters("n3", "n1", "n0", "n2"),
		steps: []step{
			{ids("n0", "n1", "n2", "n3"), ids("n3")},
		},
	}, {
		name: "zero epochs leaves no one out", epochs: 0, voters: fourVoters,
		steps: []step{{ids("n0", "n1"), fourVoters.IDs()}},
	}, {
		name: "an offender outside the membership changes nothing", epochs: 2, voters: fourVoters,
		steps: []step{{ids("n9"), fourVoters.IDs()}},
	}, {
		name: "one voter always leads", epochs: 2, voters: membership.EqualVoters("n0"),
		steps: []step{{ids("n0"), ids("n0")}, {ids("n0"), ids("n0")}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBlacklist(tc.epochs)
			if got := b.Leaders(0, tc.voters); !slices.Equal(got, tc.voters.IDs()) {
				t.Fatalf("epoch 0 leaders %v", got)
			}
			for i, s := range tc.steps {
				e := stdtypes.EpochNr(i)
				b.EpochDone(e, s.failed)
				if got := b.Leaders(e+1, tc.voters); !slices.Equal(got, s.want) {
					t.Errorf("epoch %d: leaders %v, want %v (offences %v)", e+1, got, s.want, b.Offences())
				}
				// The state carries over to a fresh policy (a state
				// transfer) with the same leaders.
				st, err := b.State()
				if err != nil {
					t.Fatal(err)
				}
				c := NewBlacklist(tc.epochs)
				if err := c.SetState(st); err != nil {
					t.Fatalf("SetState(State()) = %v", err)
				}
				if got := c.Leaders(e+1, tc.voters); !slices.Equal(got, s.want) {
					t.Errorf("epoch %d after SetState: leaders %v, want %v", e+1, got, s.want)
				}
			}
		})
	}
}

func TestBlacklistForgetsOldOffences(t *testing.T) {
	b := NewBlacklist(2)
	b.EpochDone(0, ids("n1"))
	b.EpochDone(1, ids("n2"))
	b.EpochDone(2, nil)
	if got := b.Offences(); !slices.Equal(got, []Offence{{"n2", 1}}) {
		t.Errorf("offences after epoch 2: %v, want only n2's", got)
	}
	b.EpochDone(3, nil)
	if got := b.Offences(); len(got) != 0 {
		t.Errorf("offences after epoch 3: %v, want none", got)
	}
}

func TestBlacklistSetStateRejects(t *testing.T) {
	enc := func(o ...Offence) []byte {
		data, err := codec.Marshal(blacklistState{Offences: o})
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for name, data := range map[string][]byte{
		"not CBOR":   {0xff, 0x00},
		"empty node": enc(Offence{"", 1}),
		"twice":      enc(Offence{"n1", 1}, Offence{"n1", 2}),
		"unsorted":   enc(Offence{"n1", 2}, Offence{"n2", 1}),
		"too many":   enc(make([]Offence, maxBlacklistEntries+1)...),
	} {
		b := NewBlacklist(2)
		b.EpochDone(0, ids("n3"))
		if err := b.SetState(data); !errors.Is(err, ErrInvalidPolicyState) {
			t.Errorf("%s: SetState = %v, want ErrInvalidPolicyState", name, err)
		}
		if got := b.Offences(); !slices.Equal(got, []Offence{{"n3", 0}}) {
			t.Errorf("%s: a refused state changed the offences to %v", name, got)
		}
	}
}

func TestNewLeaderPolicy(t *testing.T) {
	p := DefaultParams(fourVoters)
	if pol, err := NewLeaderPolicy(p); err != nil || pol == nil {
		t.Fatalf("NewLeaderPolicy(default) = %v, %v", pol, err)
	}
	p.LeaderPolicy = PolicyAllLeaders
	if pol, err := NewLeaderPolicy(p); err != nil {
		t.Fatal(err)
	} else if _, ok := pol.(*AllLeaders); !ok {
		t.Errorf("policy %T, want AllLeaders", pol)
	}
	p.LeaderPolicy = "Random"
	if _, err := NewLeaderPolicy(p); err == nil {
		t.Error("NewLeaderPolicy accepted an unknown policy")
	}
}

// FuzzBlacklistSetState feeds SetState, which takes states from other
// nodes' checkpoints, arbitrary bytes: it never panics, and a state it
// accepts encodes back to the same bytes' meaning and keeps at least one
// leader.
func FuzzBlacklistSetState(f *testing.F) {
	b := NewBlacklist(2)
	b.EpochDone(4, ids("n1", "n2"))
	st, _ := b.State()
	f.Add(st)
	f.Add([]byte{})
	f.Add([]byte{0xa1, 0x68})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := NewBlacklist(2)
		if err := p.SetState(data); err != nil {
			return
		}
		again, err := p.State()
		if err != nil {
			t.Fatalf("State after SetState: %v", err)
		}
		q := NewBlacklist(2)
		if err := q.SetState(again); err != nil || !slices.Equal(p.Offences(), q.Offences()) {
			t.Fatalf("state does not round-trip: %v, %v vs %v", err, p.Offences(), q.Offences())
		}
		for e := range stdtypes.EpochNr(8) {
			if len(p.Leaders(e, fourVoters)) == 0 {
				t.Fatalf("no leaders in epoch %d", e)
			}
		}
	})
}
