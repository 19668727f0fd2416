package modules_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

var (
	_ modules.PassiveModule = modules.NullPassive{}
	_ modules.ActiveModule  = modules.NullActive{}
	_ modules.PassiveModule = (*modules.MockPassive)(nil)
	_ modules.ActiveModule  = (*modules.MockActive)(nil)
)

// wrongSignature has an ApplyEvents, but not a module's.
type wrongSignature struct{}

func (wrongSignature) ApplyEvents([]stdtypes.Event) error { return nil }

func TestModulesValidate(t *testing.T) {
	tests := []struct {
		name    string
		mods    modules.Modules
		wantErr string // a part of the error message; "" for no error
	}{
		{name: "none", mods: modules.Modules{}},
		{name: "nil map", mods: nil},
		{name: "passive and active", mods: modules.Modules{
			"app":    modules.NullPassive{},
			"net":    modules.NullActive{},
			"mock":   modules.NewMockPassive(nil),
			"mockA":  modules.NewMockActive(1, nil),
			"router": modules.NewRouter("router", nil),
		}},
		{name: "nil module", mods: modules.Modules{"app": nil}, wantErr: `module "app" is nil`},
		{name: "wrong type", mods: modules.Modules{"app": "not a module"}, wantErr: "string is neither"},
		{name: "wrong signature", mods: modules.Modules{"app": wrongSignature{}}, wantErr: "modules_test.wrongSignature is neither"},
		{name: "pointer to module", mods: modules.Modules{"app": &modules.NullPassive{}}},
		{name: "multi-segment", mods: modules.Modules{"iss/pbft": modules.NullPassive{}}, wantErr: `"iss"`},
		{name: "empty ID", mods: modules.Modules{"": modules.NullPassive{}}, wantErr: "empty"},
		{name: "leading separator", mods: modules.Modules{"/iss": modules.NullPassive{}}, wantErr: `"/iss"`},
		{name: "trailing separator", mods: modules.Modules{"iss/": modules.NullPassive{}}, wantErr: `"iss/"`},
		{name: "one bad among good", mods: modules.Modules{
			"a": modules.NullPassive{},
			"b": 42,
			"c": modules.NullActive{},
		}, wantErr: `module "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.mods.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("Validate() = nil, want an error mentioning %s", tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("Validate() = %q, want it to mention %s", err, tt.wantErr)
			}
		})
	}

	var invalid *stdtypes.InvalidModuleIDError
	if err := (modules.Modules{"a//b": modules.NullPassive{}}).Validate(); !errors.As(err, &invalid) {
		t.Errorf("Validate() of %q = %v, want an *InvalidModuleIDError", "a//b", err)
	}
}

func TestApplyAllFuncOrder(t *testing.T) {
	var seen []string
	out, err := modules.ApplyAllFunc(stdtypes.ListOf(notes("m", "a", "b", "c", "d")...),
		func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			text := ev.(*note).Text
			seen = append(seen, text)
			switch text {
			case "a":
				return stdtypes.ListOf(notes("out", "a1", "a2")...), nil
			case "b":
				return nil, nil // no output
			case "c":
				return stdtypes.EmptyList(), nil
			}
			return stdtypes.ListOf(newNote("out", text+"1")), nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"a", "b", "c", "d"}) {
		t.Errorf("apply called for %q", seen)
	}
	checkOutput(t, out, "a1", "a2", "d1")
}

func TestApplyAllFuncFirstOutputLater(t *testing.T) {
	out, err := modules.ApplyAllFunc(stdtypes.ListOf(notes("m", "a", "b", "c")...),
		func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if text := ev.(*note).Text; text != "a" {
				return stdtypes.ListOf(newNote("out", text)), nil
			}
			return nil, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "b", "c")
}

func TestApplyAllFuncNoOutput(t *testing.T) {
	calls := 0
	out, err := modules.ApplyAllFunc(stdtypes.ListOf(notes("m", "a", "b")...),
		func(stdtypes.Event) (*stdtypes.EventList, error) {
			calls++
			return nil, nil
		})
	if err != nil || out.Len() != 0 || calls != 2 {
		t.Errorf("ApplyAllFunc = %v, %v after %d calls; want no output, no error, 2 calls", out, err, calls)
	}

	for _, in := range []*stdtypes.EventList{nil, stdtypes.EmptyList()} {
		out, err := modules.ApplyAllFunc(in, func(stdtypes.Event) (*stdtypes.EventList, error) {
			t.Error("apply called for an empty input")
			return nil, nil
		})
		if err != nil || out.Len() != 0 {
			t.Errorf("ApplyAllFunc(empty) = %v, %v", out, err)
		}
	}
}

func TestApplyAllFuncErrorStops(t *testing.T) {
	errBad := errors.New("bad")
	var seen []string
	out, err := modules.ApplyAllFunc(stdtypes.ListOf(notes("m", "a", "bad", "c")...),
		func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			text := ev.(*note).Text
			seen = append(seen, text)
			if text == "bad" {
				return stdtypes.ListOf(newNote("out", "ignored")), errBad
			}
			return stdtypes.ListOf(newNote("out", text)), nil
		})
	if err != errBad {
		t.Errorf("error %v, want %v unchanged", err, errBad)
	}
	if out != nil {
		t.Errorf("output %q returned with the error", render(out.Slice()))
	}
	if !slices.Equal(seen, []string{"a", "bad"}) {
		t.Errorf("apply called for %q, want it to stop at the error", seen)
	}
}

func TestNullModules(t *testing.T) {
	out, err := modules.NullPassive{}.ApplyEvents(stdtypes.ListOf(notes("x", "a", "b")...))
	if out != nil || err != nil {
		t.Errorf("NullPassive.ApplyEvents = %v, %v", out, err)
	}
	if _, err := (modules.NullPassive{}).ApplyEvents(nil); err != nil {
		t.Errorf("NullPassive.ApplyEvents(nil) = %v", err)
	}

	var a modules.NullActive
	if err := a.ApplyEvents(t.Context(), stdtypes.ListOf(notes("x", "a")...)); err != nil {
		t.Errorf("NullActive.ApplyEvents = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.ApplyEvents(ctx, nil); err != nil {
		t.Errorf("NullActive.ApplyEvents after the context ended = %v", err)
	}
	if ch := a.EventsOut(); ch != nil {
		t.Errorf("NullActive.EventsOut() = %v, want a nil channel", ch)
	}
}
