package membership_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

func TestVotersQuorums(t *testing.T) {
	tests := []struct {
		name         string
		voters       membership.Voters
		ids          []stdtypes.NodeID
		weight       uint64
		strong, weak bool
	}{
		{"4 equal, 3 of them", membership.EqualVoters("a", "b", "c", "d"), []stdtypes.NodeID{"a", "b", "c"}, 3, true, true},
		{"4 equal, 2 of them", membership.EqualVoters("a", "b", "c", "d"), []stdtypes.NodeID{"a", "b"}, 2, false, true},
		{"4 equal, 1 of them", membership.EqualVoters("a", "b", "c", "d"), []stdtypes.NodeID{"a"}, 1, false, false},
		{"repetitions count once", membership.EqualVoters("a", "b", "c", "d"), []stdtypes.NodeID{"a", "a", "a"}, 1, false, false},
		{"strangers count nothing", membership.EqualVoters("a", "b", "c", "d"), []stdtypes.NodeID{"a", "x", "y"}, 1, false, false},
		{"7 equal, 5 of them", membership.EqualVoters("0", "1", "2", "3", "4", "5", "6"), []stdtypes.NodeID{"0", "1", "2", "3", "4"}, 5, true, true},
		{"7 equal, 4 of them", membership.EqualVoters("0", "1", "2", "3", "4", "5", "6"), []stdtypes.NodeID{"0", "1", "2", "3"}, 4, false, true},
		{"a heavy node alone is a weak quorum", weighted(6, 1, 1, 1), []stdtypes.NodeID{"0"}, 6, false, true},
		{"heavy and one more: strong", weighted(6, 1, 1, 1), []stdtypes.NodeID{"0", "1"}, 7, true, true},
		{"all light ones: not even weak", weighted(6, 1, 1, 1), []stdtypes.NodeID{"1", "2", "3"}, 3, false, false},
		// W = 3: 2 is exactly 2W/3, which is not more than two thirds.
		{"exactly two thirds is no strong quorum", weighted(1, 1, 1), []stdtypes.NodeID{"0", "1"}, 2, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.voters.Validate(); err != nil {
				t.Fatal(err)
			}
			w := tt.voters.WeightOf(tt.ids)
			if w != tt.weight {
				t.Errorf("WeightOf(%v) = %d, want %d", tt.ids, w, tt.weight)
			}
			if got := tt.voters.IsStrongQuorum(w); got != tt.strong {
				t.Errorf("IsStrongQuorum(%d) of total %d = %v, want %v", w, tt.voters.Total(), got, tt.strong)
			}
			if got := tt.voters.IsWeakQuorum(w); got != tt.weak {
				t.Errorf("IsWeakQuorum(%d) of total %d = %v, want %v", w, tt.voters.Total(), got, tt.weak)
			}
		})
	}
}

// TestStrongQuorumsIntersect checks the property quorums exist for, by
// brute force over small weighted sets: any two strong quorums share voters
// of weight more than a third of the total.
func TestStrongQuorumsIntersect(t *testing.T) {
	for _, ws := range [][]uint64{{1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}, {5, 1, 1, 1}, {3, 2, 2, 1, 1}, {1, 2, 3, 4, 5}} {
		v := weighted(ws...)
		n := len(v)
		for a := range 1 << n {
			for b := range 1 << n {
				wa, wb, both := subsetWeight(v, a), subsetWeight(v, b), subsetWeight(v, a&b)
				if v.IsStrongQuorum(wa) && v.IsStrongQuorum(wb) && !v.IsWeakQuorum(both) {
					t.Fatalf("weights %v: strong quorums %b and %b share weight %d only", ws, a, b, both)
				}
			}
		}
	}
}

func TestVotersValidate(t *testing.T) {
	tests := []struct {
		name   string
		voters membership.Voters
		want   string
	}{
		{"none", nil, "none"},
		{"empty ID", membership.Voters{{ID: "", Weight: 1}}, "empty ID"},
		{"zero weight", membership.Voters{{ID: "a", Weight: 0}}, "weight 0"},
		{"too heavy", membership.Voters{{ID: "a", Weight: membership.MaxWeight + 1}}, "weight"},
		{"twice", membership.Voters{{ID: "a", Weight: 1}, {ID: "a", Weight: 2}}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.voters.Validate()
			if !errors.Is(err, membership.ErrInvalidVoters) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want ErrInvalidVoters mentioning %q", err, tt.want)
			}
		})
	}
}

func TestVotersLookups(t *testing.T) {
	v := weighted(5, 1, 2)
	if w, ok := v.Weight("2"); !ok || w != 2 {
		t.Errorf("Weight(2) = %d, %v", w, ok)
	}
	if _, ok := v.Weight("9"); ok {
		t.Error("Weight of a stranger found")
	}
	if v.Index("1") != 1 || v.Index("9") != -1 || !v.Contains("0") || v.Contains("9") {
		t.Error("Index or Contains wrong")
	}
	if got := v.IDs(); !slices.Equal(got, []stdtypes.NodeID{"0", "1", "2"}) {
		t.Errorf("IDs() = %v", got)
	}
	if v.Total() != 8 {
		t.Errorf("Total() = %d, want 8", v.Total())
	}
}

func TestMembershipWeights(t *testing.T) {
	m, _, err := membership.Local(3, "127.0.0.1", 7000)
	if err != nil {
		t.Fatal(err)
	}
	nodes := m.Nodes()
	nodes[1].Weight = 7
	weighted, err := membership.New(nodes)
	if err != nil {
		t.Fatal(err)
	}
	want := membership.Voters{{ID: nodes[0].ID, Weight: 1}, {ID: nodes[1].ID, Weight: 7}, {ID: nodes[2].ID, Weight: 1}}
	if got := weighted.Voters(); !slices.Equal(got, want) {
		t.Errorf("Voters() = %v, want %v", got, want)
	}
	data := weighted.Marshal()
	if strings.Count(string(data), `"weight"`) != 1 || !strings.Contains(string(data), `"weight": 7`) {
		t.Errorf("the file names the weights other than 1, and only those:\n%s", data)
	}
	back, err := membership.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Voters(); !slices.Equal(got, want) {
		t.Errorf("after a round trip through the file: Voters() = %v, want %v", got, want)
	}
	nodes[1].Weight = membership.MaxWeight + 1
	if _, err := membership.New(nodes); !errors.Is(err, membership.ErrInvalid) {
		t.Errorf("New with a weight above MaxWeight: %v, want ErrInvalid", err)
	}
}

// weighted returns voters "0", "1", ... with the weights given.
func weighted(ws ...uint64) membership.Voters {
	v := make(membership.Voters, len(ws))
	for i, w := range ws {
		v[i] = membership.Voter{ID: stdtypes.NewNodeIDFromInt(i), Weight: w}
	}
	return v
}

func subsetWeight(v membership.Voters, mask int) uint64 {
	var w uint64
	for i := range v {
		if mask&(1<<i) != 0 {
			w += v[i].Weight
		}
	}
	return w
}
