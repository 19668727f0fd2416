package stdmodules

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var errGenerator = errors.New("generator refuses")

// testGenerator makes the submodule named by params:
//   - "echo": answers each event with a note "<dest><-<what>", where what is
//     a note's text or the event's type;
//   - "factory": a nested factory with this same generator;
//   - "fail": no module, errGenerator;
//   - "nil": a nil module and no error;
//   - "failinit": a module whose Init fails.
func testGenerator(id stdtypes.ModuleID, params any) (modules.PassiveModule, error) {
	switch params {
	case "echo":
		return modules.NewMockPassive(echo), nil
	case "factory":
		return NewFactory(id, testGenerator, nil), nil
	case "fail":
		return nil, errGenerator
	case "nil":
		return nil, nil
	case "failinit":
		return modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			return nil, fmt.Errorf("cannot start on %s", stdtypes.TypeName(ev))
		}), nil
	}
	return nil, fmt.Errorf("test generator: unknown params %v", params)
}

// echo answers an event for an echo submodule with a note saying who got
// what. Notes go to "out", a module outside any factory.
func echo(ev stdtypes.Event) (*stdtypes.EventList, error) {
	what := stdtypes.TypeName(ev)
	switch ev := ev.(type) {
	case *note:
		what = ev.Text
	case *stdevents.MessageReceived:
		if m, ok := ev.Msg.(*testMsg); ok {
			what = string(ev.From) + ":" + m.Text
		}
	}
	return stdtypes.ListOf(newNote("out", fmt.Sprintf("%s<-%s", ev.Dest(), what))), nil
}

// newSub returns a NewSubmodule for factory, which the tests also address
// to factories that are not the submodule's parent, as only a hand-made
// event (or a decoded one) can be: stdevents.NewNewSubmodule derives the
// factory from id.
func newSub(factory, id stdtypes.ModuleID, retIdx stdtypes.RetentionIndex, params any) stdtypes.Event {
	return &stdevents.NewSubmodule{Header: stdtypes.NewHeader(factory), SubmoduleID: id, RetentionIndex: retIdx, Params: params}
}

// TestFactory feeds batches of events to a factory "f" and checks the
// output, the error of the last batch, the submodules left and the number of
// events dropped.
func TestFactory(t *testing.T) {
	type batch []stdtypes.Event
	tests := []struct {
		name        string
		in          []batch
		want        []string // output of all batches, rendered
		wantErr     string   // error of the last batch; "" for none
		wantSubs    []stdtypes.ModuleID
		wantDropped uint64
	}{{
		name: "init of the factory itself is ignored",
		in:   []batch{{stdevents.NewInit("f")}},
	}, {
		name: "create and route",
		in: []batch{
			{newSub("f", "f/1", 0, "echo"), newNote("f/1", "a"), newNote("f/1/deep", "b")},
			{newNote("f/1", "c")},
		},
		want:     []string{"f/1<-stdevents.Init", "f/1<-a", "f/1/deep<-b", "f/1<-c"},
		wantSubs: []stdtypes.ModuleID{"f/1"},
	}, {
		name: "init comes first; earlier events are dropped",
		in: []batch{{
			newNote("f/1", "early"),
			newSub("f", "f/1", 0, "echo"),
			newNote("f/1", "late"),
			newSub("f", "f/2", 0, "echo"),
			newNote("f/2", "x"),
			newNote("f/1", "y"),
		}},
		want:        []string{"f/1<-stdevents.Init", "f/1<-late", "f/2<-stdevents.Init", "f/2<-x", "f/1<-y"},
		wantSubs:    []stdtypes.ModuleID{"f/1", "f/2"},
		wantDropped: 1,
	}, {
		name:    "duplicate submodule",
		in:      []batch{{newSub("f", "f/1", 0, "echo")}, {newSub("f", "f/1", 3, "echo")}},
		want:    []string{"f/1<-stdevents.Init"},
		wantErr: `factory "f": submodule "f/1" already exists`,
	}, {
		name:    "submodule of another module",
		in:      []batch{{newSub("f", "g/1", 0, "echo")}},
		wantErr: `submodule ID "g/1": not exactly one path segment below the factory`,
	}, {
		name:    "submodule ID sharing a prefix",
		in:      []batch{{newSub("f", "fx/1", 0, "echo")}},
		wantErr: `submodule ID "fx/1": not exactly one path segment below`,
	}, {
		name:    "submodule two segments below",
		in:      []batch{{newSub("f", "f/1/2", 0, "echo")}},
		wantErr: `submodule ID "f/1/2": not exactly one path segment below`,
	}, {
		name:    "the factory as its own submodule",
		in:      []batch{{newSub("f", "f", 0, "echo")}},
		wantErr: `submodule ID "f": not exactly one path segment below`,
	}, {
		name:    "empty segment",
		in:      []batch{{newSub("f", "f/", 0, "echo")}},
		wantErr: `invalid module ID "f/"`,
	}, {
		name:    "empty submodule ID",
		in:      []batch{{newSub("f", "", 0, "echo")}},
		wantErr: "submodule ID: empty module ID",
	}, {
		name:    "generator error",
		in:      []batch{{newSub("f", "f/1", 0, "fail")}},
		wantErr: `factory "f": creating submodule "f/1": generator refuses`,
	}, {
		name:    "generator returns no module",
		in:      []batch{{newSub("f", "f/1", 0, "nil")}},
		wantErr: `creating submodule "f/1": router "f": submodule "1" is nil`,
	}, {
		name:    "init of the submodule fails",
		in:      []batch{{newSub("f", "f/1", 0, "failinit")}},
		wantErr: `submodule "f/1": cannot start on stdevents.Init`,
	}, {
		name:    "unknown event for the factory itself",
		in:      []batch{{newNote("f", "hello")}},
		wantErr: `factory "f": unexpected event stdmodules.note`,
	}, {
		name:    "timer garbage collection is not for factories",
		in:      []batch{{stdevents.NewTimerGarbageCollect("f", 1)}},
		wantErr: "unexpected event stdevents.TimerGarbageCollect",
	}, {
		name:    "event for another module",
		in:      []batch{{newNote("g/1", "lost")}},
		wantErr: `router "f": event stdmodules.note for "g/1" is not for this module or a submodule`,
	}, {
		name: "garbage collection removes lower indices",
		in: []batch{
			{newSub("f", "f/3", 3, "echo"), newSub("f", "f/1", 1, "echo"), newSub("f", "f/2", 2, "echo"), newSub("f", "f/4", 2, "echo")},
			{stdevents.NewGarbageCollect("f", 2)},
			{newNote("f/1", "gone"), newNote("f/2", "two"), newNote("f/4", "four"), newNote("f/1/x", "gone too")},
			// A lower collection is no-op.
			{stdevents.NewGarbageCollect("f", 1)},
			{stdevents.NewGarbageCollect("f", 3)},
			{newNote("f/2", "gone"), newNote("f/3", "three")},
		},
		want: []string{
			"f/3<-stdevents.Init", "f/1<-stdevents.Init", "f/2<-stdevents.Init", "f/4<-stdevents.Init",
			"f/2<-two", "f/4<-four", "f/3<-three",
		},
		wantSubs:    []stdtypes.ModuleID{"f/3"},
		wantDropped: 3,
	}, {
		name: "no submodule below the collected index",
		in: []batch{
			{stdevents.NewGarbageCollect("f", 5)},
			{newSub("f", "f/4", 4, "echo"), newSub("f", "f/5", 5, "echo")},
			{newNote("f/4", "stale"), newNote("f/5", "current")},
		},
		want:        []string{"f/5<-stdevents.Init", "f/5<-current"},
		wantSubs:    []stdtypes.ModuleID{"f/5"},
		wantDropped: 1,
	}, {
		name: "re-create after garbage collection",
		in: []batch{
			{newSub("f", "f/1", 1, "echo")},
			{stdevents.NewGarbageCollect("f", 2)},
			{newSub("f", "f/1", 2, "echo"), newNote("f/1", "again")},
		},
		want:     []string{"f/1<-stdevents.Init", "f/1<-stdevents.Init", "f/1<-again"},
		wantSubs: []stdtypes.ModuleID{"f/1"},
	}, {
		name: "nested factory",
		in: []batch{
			{newSub("f", "f/a", 0, "factory"), newSub("f/a", "f/a/1", 0, "echo"), newNote("f/a/1", "x")},
			{newNote("f/a/2", "dropped by f/a"), stdevents.NewGarbageCollect("f/a", 1), newNote("f/a/1", "dropped too")},
			{newSub("f/a", "f/a/2", 1, "echo"), newNote("f/a/2/z", "y")},
		},
		want:     []string{"f/a/1<-stdevents.Init", "f/a/1<-x", "f/a/2<-stdevents.Init", "f/a/2/z<-y"},
		wantSubs: []stdtypes.ModuleID{"f/a"},
	}, {
		name:    "nested factory error names the path",
		in:      []batch{{newSub("f", "f/a", 0, "factory"), newSub("f/a", "f/a/1", 0, "fail")}},
		wantErr: `submodule "f/a": factory "f/a": creating submodule "f/a/1": generator refuses`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFactory("f", testGenerator, nil)
			var out []string
			var err error
			for i, b := range tt.in {
				var l *stdtypes.EventList
				l, err = f.ApplyEvents(stdtypes.ListOf(b...))
				if err != nil && i < len(tt.in)-1 {
					t.Fatalf("batch %d: %v", i, err)
				}
				out = append(out, render(l.Slice()...)...)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if !slices.Equal(out, tt.want) {
				t.Errorf("output\n%s\nwant\n%s", join(out), join(tt.want))
			}
			if tt.wantErr != "" {
				return
			}
			if got := f.Submodules(); !slices.Equal(got, tt.wantSubs) {
				t.Errorf("submodules %v, want %v", got, tt.wantSubs)
			}
			if got := f.Dropped(); got != tt.wantDropped {
				t.Errorf("dropped %d events, want %d", got, tt.wantDropped)
			}
		})
	}
}

func TestFactoryGeneratorErrorIsWrapped(t *testing.T) {
	f := NewFactory("iss/ord", testGenerator, nil)
	_, err := f.ApplyEvents(stdtypes.ListOf(newSub("iss/ord", "iss/ord/5", 0, "fail")))
	if !errors.Is(err, errGenerator) || !strings.Contains(err.Error(), `"iss/ord/5"`) {
		t.Errorf("error %v, want errGenerator wrapped with the submodule ID", err)
	}
}

func TestFactoryBadSubmoduleIDIsDistinguishable(t *testing.T) {
	f := NewFactory("iss/ord", testGenerator, nil)
	_, err := f.ApplyEvents(stdtypes.ListOf(newSub("iss/ord", "iss/ord/5/1", 0, "echo")))
	if !errors.Is(err, errNotOneBelow) {
		t.Errorf("error %v, want errNotOneBelow", err)
	}
}

// TestFactoryInitReachesSubmoduleFirst checks from the submodule's side
// that it receives its Init, for its own ID, before anything else.
func TestFactoryInitReachesSubmoduleFirst(t *testing.T) {
	var sub *modules.MockPassive
	f := NewFactory("iss/ord", func(id stdtypes.ModuleID, params any) (modules.PassiveModule, error) {
		sub = modules.NewMockPassive(nil)
		return sub, nil
	}, nil)
	evs := []stdtypes.Event{newSub("iss/ord", "iss/ord/5", 5, nil), newNote("iss/ord/5", "a"), newNote("iss/ord/5", "b")}
	if _, err := f.ApplyEvents(stdtypes.ListOf(evs...)); err != nil {
		t.Fatal(err)
	}
	got := join(render(sub.Received()...))
	if want := "[stdevents.Init->iss/ord/5, a, b]"; got != want {
		t.Errorf("submodule received %s, want %s", got, want)
	}
}

func TestFactoryLogsDroppedEvents(t *testing.T) {
	var buf bytes.Buffer
	f := NewFactory("f", testGenerator, logging.NewStreamLogger(logging.LevelDebug, &buf))
	if _, err := f.ApplyEvents(stdtypes.ListOf(newNote("f/9", "nobody"))); err != nil {
		t.Fatal(err)
	}
	if log := buf.String(); !strings.Contains(log, "dropping event") || !strings.Contains(log, "dest=f/9") {
		t.Errorf("log %q does not report the dropped event", log)
	}
}
