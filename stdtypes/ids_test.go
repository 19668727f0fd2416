package stdtypes_test

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

func TestModuleIDTopSub(t *testing.T) {
	tests := []struct {
		id, top, sub stdtypes.ModuleID
	}{
		{id: "", top: "", sub: ""},
		{id: "iss", top: "iss", sub: ""},
		{id: "iss/pbft", top: "iss", sub: "pbft"},
		{id: "iss/pbft/3", top: "iss", sub: "pbft/3"},
		{id: "a/b/c/d/e/f/g", top: "a", sub: "b/c/d/e/f/g"},
		// Invalid paths are split at the first separator all the same.
		{id: "/iss", top: "", sub: "iss"},
		{id: "iss/", top: "iss", sub: ""},
		{id: "a//b", top: "a", sub: "/b"},
		{id: "/", top: "", sub: ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.id), func(t *testing.T) {
			if got := tt.id.Top(); got != tt.top {
				t.Errorf("ModuleID(%q).Top() = %q, want %q", tt.id, got, tt.top)
			}
			if got := tt.id.Sub(); got != tt.sub {
				t.Errorf("ModuleID(%q).Sub() = %q, want %q", tt.id, got, tt.sub)
			}
		})
	}
}

func TestModuleIDParent(t *testing.T) {
	tests := []struct {
		id, want stdtypes.ModuleID
	}{
		{id: "", want: ""},
		{id: "iss", want: ""},
		{id: "iss/pbft", want: "iss"},
		{id: "iss/pbft/3", want: "iss/pbft"},
		// Invalid paths are split at the last separator all the same.
		{id: "iss/", want: "iss"},
		{id: "/iss", want: ""},
		{id: "a//b", want: "a/"},
	}
	for _, tt := range tests {
		if got := tt.id.Parent(); got != tt.want {
			t.Errorf("ModuleID(%q).Parent() = %q, want %q", tt.id, got, tt.want)
		}
		// A valid path of two or more segments is its parent and its last
		// segment joined again.
		if tt.id.Validate() == nil && tt.want != "" {
			if last := tt.id[len(tt.want)+1:]; tt.want.Then(last) != tt.id {
				t.Errorf("ModuleID(%q): Parent %q, then %q, is not the path", tt.id, tt.want, last)
			}
		}
	}
}

func TestModuleIDThen(t *testing.T) {
	tests := []struct {
		id, sub, want stdtypes.ModuleID
	}{
		{id: "", sub: "", want: ""},
		{id: "iss", sub: "", want: "iss"},
		{id: "", sub: "pbft", want: "pbft"},
		{id: "iss", sub: "pbft", want: "iss/pbft"},
		{id: "iss", sub: "pbft/3", want: "iss/pbft/3"},
		{id: "a/b", sub: "c/d", want: "a/b/c/d"},
	}
	for _, tt := range tests {
		if got := tt.id.Then(tt.sub); got != tt.want {
			t.Errorf("ModuleID(%q).Then(%q) = %q, want %q", tt.id, tt.sub, got, tt.want)
		}
	}
}

// TestModuleIDTopThenSub checks that splitting a valid path and joining it
// again gives the path back, at every depth.
func TestModuleIDTopThenSub(t *testing.T) {
	var id stdtypes.ModuleID
	for depth := range 10 {
		id = id.Then(stdtypes.ModuleID("m" + strconv.Itoa(depth)))
		if err := id.Validate(); err != nil {
			t.Fatalf("Then built invalid ID %q: %v", id, err)
		}
		if got := id.Top().Then(id.Sub()); got != id {
			t.Errorf("Top().Then(Sub()) of %q = %q", id, got)
		}
		if got, want := strings.Count(string(id), stdtypes.ModuleIDSeparator), depth; got != want {
			t.Errorf("%q has %d separators, want %d", id, got, want)
		}
	}
}

func TestModuleIDIsSubOf(t *testing.T) {
	tests := []struct {
		id, parent stdtypes.ModuleID
		want       bool
	}{
		{id: "iss", parent: "iss", want: true},
		{id: "iss/pbft", parent: "iss", want: true},
		{id: "iss/pbft/3", parent: "iss", want: true},
		{id: "iss/pbft/3", parent: "iss/pbft", want: true},
		{id: "iss/pbft/3", parent: "iss/pbft/3", want: true},
		{id: "issx", parent: "iss", want: false},
		{id: "issx/pbft", parent: "iss", want: false},
		{id: "iss/pbftx", parent: "iss/pbft", want: false},
		{id: "iss", parent: "issx", want: false},
		{id: "is", parent: "iss", want: false},
		{id: "iss", parent: "iss/pbft", want: false},
		{id: "pbft", parent: "iss", want: false},
		{id: "iss/pbft", parent: "pbft", want: false},
		{id: "", parent: "iss", want: false},
		// Everything lies below the root.
		{id: "iss", parent: "", want: true},
		{id: "iss/pbft", parent: "", want: true},
		{id: "", parent: "", want: true},
	}
	for _, tt := range tests {
		if got := tt.id.IsSubOf(tt.parent); got != tt.want {
			t.Errorf("ModuleID(%q).IsSubOf(%q) = %v, want %v", tt.id, tt.parent, got, tt.want)
		}
	}
}

func TestModuleIDValidate(t *testing.T) {
	valid := []stdtypes.ModuleID{
		"iss",
		"iss/pbft",
		"iss/pbft/3",
		"a/b/c/d/e/f/g/h/i/j",
		"0",
	}
	for _, id := range valid {
		if err := id.Validate(); err != nil {
			t.Errorf("ModuleID(%q).Validate() = %v, want nil", id, err)
		}
	}

	if err := stdtypes.ModuleID("").Validate(); err == nil {
		t.Error(`ModuleID("").Validate() = nil, want an error`)
	}

	emptySegment := []stdtypes.ModuleID{
		"/",
		"//",
		"/iss",
		"iss/",
		"iss//pbft",
		"iss/pbft/",
		"/iss/pbft",
		"a/b//c/d",
	}
	for _, id := range emptySegment {
		err := id.Validate()
		var invalid *stdtypes.InvalidModuleIDError
		if !errors.As(err, &invalid) {
			t.Errorf("ModuleID(%q).Validate() = %v, want an *InvalidModuleIDError", id, err)
			continue
		}
		if invalid.ID != id {
			t.Errorf("ModuleID(%q).Validate() names ID %q", id, invalid.ID)
		}
		if msg := err.Error(); !strings.Contains(msg, strconv.Quote(string(id))) {
			t.Errorf("error %q does not quote the ID %q", msg, id)
		}
	}
}

func TestIDStrings(t *testing.T) {
	if got := stdtypes.ModuleID("iss/pbft").String(); got != "iss/pbft" {
		t.Errorf("ModuleID.String() = %q", got)
	}
	if got := stdtypes.NodeID("node-1").String(); got != "node-1" {
		t.Errorf("NodeID.String() = %q", got)
	}
}

func TestNewNodeIDFromInt(t *testing.T) {
	tests := []struct {
		i    int
		want stdtypes.NodeID
	}{
		{0, "0"},
		{1, "1"},
		{42, "42"},
		{-3, "-3"},
		{math.MaxInt32, "2147483647"},
		{math.MinInt32, "-2147483648"},
	}
	for _, tt := range tests {
		if got := stdtypes.NewNodeIDFromInt(tt.i); got != tt.want {
			t.Errorf("NewNodeIDFromInt(%d) = %q, want %q", tt.i, got, tt.want)
		}
	}
}

func TestNumberedNodeIDs(t *testing.T) {
	for n, want := range [][]stdtypes.NodeID{{}, {"0"}, {"0", "1"}, {"0", "1", "2"}} {
		if got := stdtypes.NumberedNodeIDs(n); !slices.Equal(got, want) {
			t.Errorf("NumberedNodeIDs(%d) = %q, want %q", n, got, want)
		}
	}
	if got := stdtypes.NumberedNodeIDs(-1); len(got) != 0 {
		t.Errorf("NumberedNodeIDs(-1) = %q, want none", got)
	}
}
