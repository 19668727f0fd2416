package modules_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

var _ modules.PassiveModule = (*modules.Router)(nil)

// newISS returns a router "iss" with a self module and submodules "pbft"
// and "log", all recorders.
func newISS(t *testing.T) (r *modules.Router, self, pbft, log *recorder) {
	t.Helper()
	self, pbft, log = newRecorder("self"), newRecorder("pbft"), newRecorder("log")
	r = modules.NewRouter("iss", self)
	for seg, m := range map[stdtypes.ModuleID]*recorder{"pbft": pbft, "log": log} {
		if err := r.Add(seg, m); err != nil {
			t.Fatalf("Add(%q): %v", seg, err)
		}
	}
	return r, self, pbft, log
}

func checkBatches(t *testing.T, r *recorder, want ...[]string) {
	t.Helper()
	if got := r.received(); !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Errorf("%s received batches %q, want %q", r.name, got, want)
	}
}

func checkOutput(t *testing.T, out *stdtypes.EventList, want ...string) {
	t.Helper()
	if got := render(out.Slice()); !slices.Equal(got, want) {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestRouterID(t *testing.T) {
	if got := modules.NewRouter("iss/pbft", nil).ID(); got != "iss/pbft" {
		t.Errorf("ID() = %q", got)
	}
}

func TestRouterRoutesBySegment(t *testing.T) {
	r, self, pbft, log := newISS(t)
	deep := newNote("iss/pbft/3", "deep")
	out, err := r.ApplyEvents(stdtypes.ListOf(deep))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "pbft:deep")
	if got := pbft.batches; len(got) != 1 || len(got[0]) != 1 || got[0][0] != stdtypes.Event(deep) {
		t.Fatalf("pbft received %v, want the event itself", got)
	}
	if got := pbft.batches[0][0].Dest(); got != "iss/pbft/3" {
		t.Errorf("submodule sees destination %q, want the full path %q", got, "iss/pbft/3")
	}

	for _, ev := range []stdtypes.Event{
		newNote("iss/pbft", "direct"),
		newNote("iss/log/a/b/c", "log-deep"),
		newNote("iss", "mine"),
	} {
		if _, err := r.ApplyEvents(stdtypes.ListOf(ev)); err != nil {
			t.Fatalf("event for %q: %v", ev.Dest(), err)
		}
	}
	checkBatches(t, self, []string{"mine"})
	checkBatches(t, pbft, []string{"deep"}, []string{"direct"})
	checkBatches(t, log, []string{"log-deep"})
}

func TestRouterBatchesRuns(t *testing.T) {
	r, self, pbft, log := newISS(t)
	in := stdtypes.ListOf(
		newNote("iss/pbft", "p1"),
		newNote("iss/pbft/3", "p2"),
		newNote("iss/log", "l1"),
		newNote("iss/pbft/4", "p3"),
		newNote("iss", "s1"),
		newNote("iss", "s2"),
		newNote("iss/log", "l2"),
		newNote("iss/log/x", "l3"),
		newNote("iss/pbft", "p4"),
	)
	out, err := r.ApplyEvents(in)
	if err != nil {
		t.Fatal(err)
	}
	checkBatches(t, pbft, []string{"p1", "p2"}, []string{"p3"}, []string{"p4"})
	checkBatches(t, log, []string{"l1"}, []string{"l2", "l3"})
	checkBatches(t, self, []string{"s1", "s2"})
	checkOutput(t, out,
		"pbft:p1", "pbft:p2", "log:l1", "pbft:p3", "self:s1", "self:s2", "log:l2", "log:l3", "pbft:p4")
	// The input list is left as it was.
	if got := render(in.Slice()); !slices.Equal(got, []string{"p1", "p2", "l1", "p3", "s1", "s2", "l2", "l3", "p4"}) {
		t.Errorf("router changed its input to %q", got)
	}
}

func TestRouterEmptyInput(t *testing.T) {
	r, self, pbft, log := newISS(t)
	for _, in := range []*stdtypes.EventList{nil, stdtypes.EmptyList()} {
		out, err := r.ApplyEvents(in)
		if err != nil || out.Len() != 0 {
			t.Errorf("ApplyEvents(%v) = %v, %v; want no output and no error", in, out, err)
		}
	}
	checkBatches(t, self)
	checkBatches(t, pbft)
	checkBatches(t, log)
}

// TestRouterOutputOfMixedModules routes to modules that answer with nil,
// with an empty list and with events, and checks the output is the
// concatenation, whichever answers first.
func TestRouterOutputOfMixedModules(t *testing.T) {
	r := modules.NewRouter("r", modules.NullPassive{})
	mustAdd(t, r, "echo", newRecorder("echo"))
	mustAdd(t, r, "null", modules.NullPassive{})
	mustAdd(t, r, "empty", passiveFunc(func(*stdtypes.EventList) (*stdtypes.EventList, error) {
		return stdtypes.EmptyList(), nil
	}))

	out, err := r.ApplyEvents(stdtypes.ListOf(
		newNote("r/null", "n1"),
		newNote("r/empty", "e1"),
		newNote("r/echo", "a"),
		newNote("r", "self"),
		newNote("r/empty", "e2"),
		newNote("r/echo", "b"),
		newNote("r/null", "n2"),
	))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "echo:a", "echo:b")
}

// appender appends to its input list, which the contract allows it to
// treat as its own for the call, and reports what it saw.
type appender struct{ seen [][]string }

func (a *appender) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	events.PushBack(newNote("junk", "junk1"))
	events.PushBackSlice(notes("junk", "junk2", "junk3"))
	a.seen = append(a.seen, render(events.Slice()))
	return nil, nil
}

func TestRouterSubmoduleAppendingToInput(t *testing.T) {
	r, self, _, log := newISS(t)
	app := &appender{}
	mustAdd(t, r, "app", app)
	in := stdtypes.ListOf(
		newNote("iss/app", "a1"),
		newNote("iss/log", "l1"),
		newNote("iss/log", "l2"),
		newNote("iss/app", "a2"),
		newNote("iss", "s1"),
	)
	out, err := r.ApplyEvents(in)
	if err != nil {
		t.Fatal(err)
	}
	checkBatches(t, log, []string{"l1", "l2"})
	checkBatches(t, self, []string{"s1"})
	checkOutput(t, out, "log:l1", "log:l2", "self:s1")
	want := [][]string{{"a1", "junk1", "junk2", "junk3"}, {"a2", "junk1", "junk2", "junk3"}}
	if !reflect.DeepEqual(app.seen, want) {
		t.Errorf("appender saw %q, want %q", app.seen, want)
	}
	if got := render(in.Slice()); !slices.Equal(got, []string{"a1", "l1", "l2", "a2", "s1"}) {
		t.Errorf("router's input became %q", got)
	}
}

func TestRouterSelfNil(t *testing.T) {
	r := modules.NewRouter("iss", nil)
	pbft := newRecorder("pbft")
	mustAdd(t, r, "pbft", pbft)

	out, err := r.ApplyEvents(stdtypes.ListOf(newNote("iss", "mine")))
	if err == nil {
		t.Fatalf("event for a router without self module: no error, output %q", render(out.Slice()))
	}
	for _, want := range []string{`"iss"`, "itself", "modules_test.note"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}

	// Events for submodules still work.
	if _, err := r.ApplyEvents(stdtypes.ListOf(newNote("iss/pbft", "p"))); err != nil {
		t.Errorf("event for submodule of a router without self module: %v", err)
	}
	checkBatches(t, pbft, []string{"p"})
}

func TestRouterUnknownSubmodule(t *testing.T) {
	r, _, pbft, _ := newISS(t)
	for _, dest := range []stdtypes.ModuleID{"iss/nope", "iss/nope/1", "iss/pbftx", "iss/pbf"} {
		out, err := r.ApplyEvents(stdtypes.ListOf(newNote(dest, "x")))
		if err == nil {
			t.Errorf("event for %q: no error, output %q", dest, render(out.Slice()))
			continue
		}
		if out != nil {
			t.Errorf("event for %q: output %q with the error", dest, render(out.Slice()))
		}
		for _, want := range []string{"no such submodule", fmt.Sprintf("%q", dest), `"iss"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %s", err, want)
			}
		}
	}
	checkBatches(t, pbft)
}

func TestRouterEventNotBelow(t *testing.T) {
	r, self, pbft, log := newISS(t)
	for _, dest := range []stdtypes.ModuleID{"other", "issx", "issx/pbft", "", "pbft"} {
		if _, err := r.ApplyEvents(stdtypes.ListOf(newNote(dest, "x"))); err == nil {
			t.Errorf("event for %q reached router \"iss\" without an error", dest)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("%q", dest)) {
			t.Errorf("error %q does not name the destination %q", err, dest)
		}
	}
	checkBatches(t, self)
	checkBatches(t, pbft)
	checkBatches(t, log)
}

// TestRouterEmptySegmentDest: an event whose destination has an empty
// segment right below the router ("iss/" or "iss//x") names no submodule
// and is not for the router itself either. It must not be handed to the
// self module as if it were addressed to "iss".
func TestRouterEmptySegmentDest(t *testing.T) {
	r, self, _, _ := newISS(t)
	for _, dest := range []stdtypes.ModuleID{"iss/", "iss//pbft", "iss//"} {
		_, err := r.ApplyEvents(stdtypes.ListOf(newNote(dest, string(dest))))
		if err == nil {
			t.Errorf("event for invalid destination %q: no error", dest)
		}
	}
	checkBatches(t, self)
}

func TestRouterErrorStopsBatch(t *testing.T) {
	r, self, pbft, log := newISS(t)
	out, err := r.ApplyEvents(stdtypes.ListOf(
		newNote("iss/pbft", "p1"),
		newNote("iss/nope", "x"),
		newNote("iss/log", "l1"),
		newNote("iss", "s1"),
	))
	if err == nil {
		t.Fatal("no error for unknown submodule")
	}
	if out != nil {
		t.Errorf("output %q returned with the error", render(out.Slice()))
	}
	checkBatches(t, pbft, []string{"p1"})
	checkBatches(t, log)
	checkBatches(t, self)
}

func TestRouterCustomOnUnknown(t *testing.T) {
	r, _, pbft, _ := newISS(t)
	var dropped []string
	r.OnUnknown = func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		dropped = append(dropped, render([]stdtypes.Event{ev})...)
		return nil, nil
	}
	out, err := r.ApplyEvents(stdtypes.ListOf(
		newNote("iss/gone", "g1"),
		newNote("iss/gone/2", "g2"),
		newNote("iss/pbft", "p1"),
		newNote("iss/other", "o1"),
	))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "pbft:p1")
	checkBatches(t, pbft, []string{"p1"})
	if want := []string{"g1", "g2", "o1"}; !slices.Equal(dropped, want) {
		t.Errorf("OnUnknown saw %q, want %q", dropped, want)
	}

	// OnUnknown may answer, too; its output takes its place in order.
	r.OnUnknown = func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		return stdtypes.ListOf(newNote("out", "unknown:"+ev.Dest().String())), nil
	}
	out, err = r.ApplyEvents(stdtypes.ListOf(
		newNote("iss/pbft", "p2"),
		newNote("iss/gone", "g"),
		newNote("iss/pbft", "p3"),
	))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "pbft:p2", "unknown:iss/gone", "pbft:p3")

	// Its error stops the batch unchanged.
	errGone := errors.New("gone")
	r.OnUnknown = func(stdtypes.Event) (*stdtypes.EventList, error) { return nil, errGone }
	if _, err := r.ApplyEvents(stdtypes.ListOf(newNote("iss/gone", "g"))); !errors.Is(err, errGone) {
		t.Errorf("error %v, want %v", err, errGone)
	}
}

func TestRouterOnUnknownHandlesMissingSelf(t *testing.T) {
	r := modules.NewRouter("iss", nil)
	var dropped []string
	r.OnUnknown = func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		dropped = append(dropped, render([]stdtypes.Event{ev})...)
		return nil, nil
	}
	if _, err := r.ApplyEvents(stdtypes.ListOf(notes("iss", "s1", "s2")...)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, []string{"s1", "s2"}) {
		t.Errorf("OnUnknown saw %q", dropped)
	}
}

func TestRouterWrapsSubmoduleErrors(t *testing.T) {
	errBoom := errors.New("boom")
	r, self, pbft, _ := newISS(t)
	pbft.err = errBoom
	out, err := r.ApplyEvents(stdtypes.ListOf(newNote("iss", "s"), newNote("iss/pbft/3", "p")))
	if !errors.Is(err, errBoom) {
		t.Fatalf("error %v does not wrap the submodule's %v", err, errBoom)
	}
	if out != nil {
		t.Errorf("output %q returned with the error", render(out.Slice()))
	}
	if !strings.Contains(err.Error(), `submodule "iss/pbft"`) {
		t.Errorf("error %q does not name the submodule by its full ID", err)
	}

	// The self module's error is the router's error.
	self.err = errBoom
	if _, err := r.ApplyEvents(stdtypes.ListOf(newNote("iss", "s"))); err != errBoom {
		t.Errorf("self module's error came back as %v, want %v", err, errBoom)
	}
}

func TestRouterAdd(t *testing.T) {
	r := modules.NewRouter("iss", nil)
	mustAdd(t, r, "pbft", newRecorder("pbft"))

	tests := []struct {
		name string
		seg  stdtypes.ModuleID
		m    modules.PassiveModule
	}{
		{"duplicate", "pbft", newRecorder("other")},
		{"multi-segment", "a/b", newRecorder("ab")},
		{"nil module", "nilmod", nil},
		{"empty name", "", newRecorder("empty")},
		{"leading separator", "/a", newRecorder("a")},
		{"trailing separator", "a/", newRecorder("a")},
		{"separator only", "/", newRecorder("slash")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Add(tt.seg, tt.m)
			if err == nil {
				t.Fatalf("Add(%q, %v) succeeded", tt.seg, tt.m)
			}
			if !strings.Contains(err.Error(), `"iss"`) {
				t.Errorf("error %q does not name the router", err)
			}
		})
	}
	if got, want := r.Submodules(), []stdtypes.ModuleID{"pbft"}; !slices.Equal(got, want) {
		t.Errorf("after failed Adds, submodules are %q, want %q", got, want)
	}

	var invalid *stdtypes.InvalidModuleIDError
	if err := r.Add("a//b", newRecorder("x")); !errors.As(err, &invalid) {
		t.Errorf("Add(%q) = %v, want an error wrapping *InvalidModuleIDError", "a//b", err)
	}

	// The duplicate did not replace the original.
	out, err := r.ApplyEvents(stdtypes.ListOf(newNote("iss/pbft", "p")))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "pbft:p")
}

func TestRouterRemoveGetSubmodules(t *testing.T) {
	r := modules.NewRouter("iss", nil)
	if got := r.Submodules(); len(got) != 0 {
		t.Errorf("new router has submodules %q", got)
	}
	mods := map[stdtypes.ModuleID]*recorder{}
	for _, seg := range []stdtypes.ModuleID{"c", "a", "b", "b2", "A"} {
		mods[seg] = newRecorder(string(seg))
		mustAdd(t, r, seg, mods[seg])
	}
	if got, want := r.Submodules(), []stdtypes.ModuleID{"A", "a", "b", "b2", "c"}; !slices.Equal(got, want) {
		t.Errorf("Submodules() = %q, want %q", got, want)
	}
	for seg, m := range mods {
		got, ok := r.Get(seg)
		if !ok || got != modules.PassiveModule(m) {
			t.Errorf("Get(%q) = %v, %v; want the added module", seg, got, ok)
		}
	}
	if got, ok := r.Get("zzz"); ok || got != nil {
		t.Errorf("Get of a missing submodule = %v, %v", got, ok)
	}

	r.Remove("b")
	r.Remove("zzz") // Removing a missing submodule does nothing.
	if got, want := r.Submodules(), []stdtypes.ModuleID{"A", "a", "b2", "c"}; !slices.Equal(got, want) {
		t.Errorf("after Remove(b), Submodules() = %q, want %q", got, want)
	}
	if _, ok := r.Get("b"); ok {
		t.Error("Get finds a removed submodule")
	}
	if _, err := r.ApplyEvents(stdtypes.ListOf(newNote("iss/b", "x"))); err == nil {
		t.Error("event for a removed submodule: no error")
	}

	// The name can be used again.
	again := newRecorder("again")
	mustAdd(t, r, "b", again)
	out, err := r.ApplyEvents(stdtypes.ListOf(newNote("iss/b", "x")))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "again:x")
	checkBatches(t, mods["b"])
}

// TestRouterChangesBetweenBatches adds and removes submodules from within a
// submodule, as a factory does, and checks that each batch is routed with
// the submodules of its time.
func TestRouterChangesBetweenBatches(t *testing.T) {
	r := modules.NewRouter("f", nil)
	late := newRecorder("late")
	mustAdd(t, r, "ctl", passiveFunc(func(events *stdtypes.EventList) (*stdtypes.EventList, error) {
		for ev := range events.All() {
			switch ev.(*note).Text {
			case "add":
				if err := r.Add("late", late); err != nil {
					return nil, err
				}
			case "remove":
				r.Remove("late")
			}
		}
		return nil, nil
	}))
	out, err := r.ApplyEvents(stdtypes.ListOf(
		newNote("f/ctl", "add"),
		newNote("f/late", "1"),
		newNote("f/ctl", "remove"),
	))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "late:1")
	if got := r.Submodules(); !slices.Equal(got, []stdtypes.ModuleID{"ctl"}) {
		t.Errorf("Submodules() = %q", got)
	}
}

func TestNestedRouters(t *testing.T) {
	outerSelf, innerSelf, leaf, sibling := newRecorder("outer"), newRecorder("inner"), newRecorder("leaf"), newRecorder("sibling")
	outer := modules.NewRouter("a", outerSelf)
	inner := modules.NewRouter("a/b", innerSelf)
	mustAdd(t, inner, "c", leaf)
	mustAdd(t, outer, "b", inner)
	mustAdd(t, outer, "s", sibling)

	deep := newNote("a/b/c/d", "deep")
	out, err := outer.ApplyEvents(stdtypes.ListOf(
		newNote("a/b/c", "c1"),
		deep,
		newNote("a/b", "b1"),
		newNote("a", "a1"),
		newNote("a/s", "s1"),
		newNote("a/b/c", "c2"),
	))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "leaf:c1", "leaf:deep", "inner:b1", "outer:a1", "sibling:s1", "leaf:c2")
	checkBatches(t, leaf, []string{"c1", "deep"}, []string{"c2"})
	checkBatches(t, innerSelf, []string{"b1"})
	checkBatches(t, outerSelf, []string{"a1"})
	checkBatches(t, sibling, []string{"s1"})
	if leaf.batches[0][1] != stdtypes.Event(deep) || deep.Dest() != "a/b/c/d" {
		t.Error("the leaf did not get the event itself, with its full destination")
	}

	// Errors name the path at each level, innermost last.
	errBoom := errors.New("boom")
	leaf.err = errBoom
	_, err = outer.ApplyEvents(stdtypes.ListOf(newNote("a/b/c", "c3")))
	if !errors.Is(err, errBoom) {
		t.Fatalf("error %v does not wrap %v", err, errBoom)
	}
	msg := err.Error()
	if i, j := strings.Index(msg, `"a/b"`), strings.Index(msg, `"a/b/c"`); i < 0 || j < 0 || i > j {
		t.Errorf("error %q does not name \"a/b\" and then \"a/b/c\"", msg)
	}

	// An unknown module deep down is reported by the router that owns it.
	_, err = outer.ApplyEvents(stdtypes.ListOf(newNote("a/b/x/y", "x")))
	if err == nil || !strings.Contains(err.Error(), `router "a/b"`) {
		t.Errorf("unknown submodule of the inner router: error %v", err)
	}
}

func TestRootRouter(t *testing.T) {
	self, x := newRecorder("self"), newRecorder("x")
	r := modules.NewRouter("", self)
	mustAdd(t, r, "x", x)
	out, err := r.ApplyEvents(stdtypes.ListOf(newNote("x/y", "xy"), newNote("x", "x"), newNote("", "root")))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "x:xy", "x:x", "self:root")
	if _, err := r.ApplyEvents(stdtypes.ListOf(newNote("z", "z"))); err == nil || !strings.Contains(err.Error(), `"z"`) {
		t.Errorf("unknown submodule of the root router: error %v", err)
	}
}

// TestRouterReuse applies many batches in turn to check that the batch the
// router reuses carries nothing from one call to the next.
func TestRouterReuse(t *testing.T) {
	r, _, pbft, log := newISS(t)
	var want []string
	for i := range 50 {
		dest := stdtypes.ModuleID("iss/pbft")
		if i%3 == 0 {
			dest = "iss/log"
		}
		text := fmt.Sprint(i)
		out, err := r.ApplyEvents(stdtypes.ListOf(newNote(dest, text)))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, dest.Sub().String()+":"+text)
		checkOutput(t, out, want[len(want)-1])
	}
	if got := len(pbft.batches) + len(log.batches); got != 50 {
		t.Errorf("%d batches delivered, want 50", got)
	}
}

func TestSubmoduleOf(t *testing.T) {
	tests := []struct {
		parent, dest stdtypes.ModuleID
		seg          stdtypes.ModuleID
		ok           bool
	}{
		{parent: "iss", dest: "iss/pbft/3", seg: "pbft", ok: true},
		{parent: "iss", dest: "iss/pbft", seg: "pbft", ok: true},
		{parent: "iss", dest: "iss", seg: "", ok: true},
		{parent: "iss/pbft", dest: "iss/pbft/3", seg: "3", ok: true},
		{parent: "iss/pbft", dest: "iss/pbft/3/x", seg: "3", ok: true},
		{parent: "iss/pbft", dest: "iss/pbft", seg: "", ok: true},
		{parent: "iss", dest: "issx", seg: "", ok: false},
		{parent: "iss", dest: "issx/pbft", seg: "", ok: false},
		{parent: "iss", dest: "is", seg: "", ok: false},
		{parent: "iss", dest: "other/iss", seg: "", ok: false},
		{parent: "iss", dest: "", seg: "", ok: false},
		{parent: "iss/pbft", dest: "iss", seg: "", ok: false},
		{parent: "iss/pbft", dest: "iss/pbftx/1", seg: "", ok: false},
		{parent: "", dest: "iss/pbft/3", seg: "iss", ok: true},
		{parent: "", dest: "iss", seg: "iss", ok: true},
		{parent: "", dest: "", seg: "", ok: true},
	}
	for _, tt := range tests {
		seg, ok := modules.SubmoduleOf(tt.parent, tt.dest)
		if seg != tt.seg || ok != tt.ok {
			t.Errorf("SubmoduleOf(%q, %q) = %q, %v; want %q, %v", tt.parent, tt.dest, seg, ok, tt.seg, tt.ok)
		}
	}
}

// TestSubmoduleOfEmptySegment: "" with true means "dest is parent itself",
// which a destination with an empty segment right below parent is not.
func TestSubmoduleOfEmptySegment(t *testing.T) {
	for _, tt := range []struct{ parent, dest stdtypes.ModuleID }{
		{"iss", "iss/"},
		{"iss", "iss//pbft"},
		{"", "/iss"},
	} {
		if seg, ok := modules.SubmoduleOf(tt.parent, tt.dest); ok && seg == "" {
			t.Errorf("SubmoduleOf(%q, %q) = %q, true: %q taken for the parent itself", tt.parent, tt.dest, seg, tt.dest)
		}
	}
}

func mustAdd(t *testing.T, r *modules.Router, seg stdtypes.ModuleID, m modules.PassiveModule) {
	t.Helper()
	if err := r.Add(seg, m); err != nil {
		t.Fatalf("Add(%q): %v", seg, err)
	}
}

// passiveFunc makes a function a passive module.
type passiveFunc func(*stdtypes.EventList) (*stdtypes.EventList, error)

func (f passiveFunc) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return f(events)
}
