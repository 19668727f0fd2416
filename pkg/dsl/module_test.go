package dsl_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// apply runs ApplyEvents and fails the test on an error.
func apply(t *testing.T, m *dsl.Module, evs ...stdtypes.Event) []stdtypes.Event {
	t.Helper()
	out, err := m.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		t.Fatalf("ApplyEvents: %v", err)
	}
	return out.Slice()
}

// applyErr runs ApplyEvents, which must fail, and returns the error.
func applyErr(t *testing.T, m *dsl.Module, evs ...stdtypes.Event) error {
	t.Helper()
	out, err := m.ApplyEvents(stdtypes.ListOf(evs...))
	if err == nil {
		t.Fatal("ApplyEvents returned no error")
	}
	if out != nil {
		t.Errorf("ApplyEvents returned output %v with its error", out.Slice())
	}
	return err
}

func TestHandlersByTypeInOrder(t *testing.T) {
	m := dsl.NewModule(self)
	var trace []string
	log := func(format string, args ...any) { trace = append(trace, fmt.Sprintf(format, args...)) }
	dsl.UponInit(m, func() error { log("init"); return nil })
	dsl.UponEvent(m, func(ev *ev0) error { log("ev0 %d a", ev.N); return nil })
	dsl.UponEvent(m, func(*ev1) error { log("ev1"); return nil })
	dsl.UponEvent(m, func(ev *ev0) error { log("ev0 %d b", ev.N); return nil })
	dsl.UponMessageReceived(m, func(from stdtypes.NodeID, msg *msg0) error {
		log("msg0 %d from %s a", msg.N, from)
		return nil
	})
	dsl.UponMessageReceived(m, func(from stdtypes.NodeID, msg *msg0) error {
		log("msg0 %d from %s b", msg.N, from)
		return nil
	})
	dsl.UponMessageReceived(m, func(from stdtypes.NodeID, _ *msg1) error { log("msg1 from %s", from); return nil })
	dsl.UponCondition(m, func() error { log("cond 1"); return nil })
	dsl.UponCondition(m, func() error { log("cond 2"); return nil })

	apply(t, m,
		stdevents.NewInit(self), &ev1{hdr()}, &ev0{Header: hdr(), N: 7},
		recv("3", &msg1{}), recv("2", &msg0{N: 5}), &ev1{hdr()})
	want := []string{
		"init", "ev1", "ev0 7 a", "ev0 7 b", "msg1 from 3",
		"msg0 5 from 2 a", "msg0 5 from 2 b", "ev1", "cond 1", "cond 2",
	}
	if !slices.Equal(trace, want) {
		t.Errorf("handlers ran as\n  %q\nwant\n  %q", trace, want)
	}

	// Conditions run after every batch, even an empty one.
	trace = nil
	apply(t, m)
	if want := []string{"cond 1", "cond 2"}; !slices.Equal(trace, want) {
		t.Errorf("empty batch: %q, want %q", trace, want)
	}
	if got := m.Stats(); got != (dsl.Stats{}) {
		t.Errorf("Stats = %+v, want none dropped", got)
	}
}

func TestInitWithoutHandlerIsIgnored(t *testing.T) {
	m := dsl.NewModule(self)
	if out := apply(t, m, stdevents.NewInit(self)); len(out) != 0 {
		t.Errorf("output %v", out)
	}
	if err := applyErr(t, m, (*stdevents.Init)(nil)); !strings.Contains(err.Error(), "nil stdevents.Init") {
		t.Errorf("nil Init: %v", err)
	}
}

func TestLocalEventErrors(t *testing.T) {
	m := dsl.NewModule(self)
	dsl.UponEvent(m, func(*ev0) error { return nil })
	for _, tc := range []struct {
		name string
		ev   stdtypes.Event
		want string
	}{
		{"unhandled type", &ev1{hdr()}, `module "mod": no handler for event dsl_test.ev1`},
		{"nil event", nil, `module "mod": nil event`},
		{"nil pointer of a handled type", (*ev0)(nil), `module "mod": nil dsl_test.ev0`},
		{"nil pointer of an unhandled type", (*ev1)(nil), `module "mod": no handler for event dsl_test.ev1`},
		{"nil MessageReceived", (*stdevents.MessageReceived)(nil), `module "mod": nil stdevents.MessageReceived`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := applyErr(t, m, tc.ev); err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestUntrustedMessagesAreDropped(t *testing.T) {
	m := dsl.NewModule(self)
	var got int
	dsl.UponMessageReceived(m, func(stdtypes.NodeID, *msg0) error { got++; return nil })
	out := apply(t, m,
		recv("1", &msg1{}),          // No handler for the type.
		recv("1", nil),              // No message at all.
		recv("1", (*msg0)(nil)),     // A nil pointer of a handled type.
		recv("1", (*msg1)(nil)),     // A nil pointer of another type.
		recv("1", &msg0{N: 1}),      // The only good one.
		stdevents.NewInit(self),     // Still accepted.
		recv("", &struct{ msg0 }{}), // An unnamed type embedding a message.
	)
	if len(out) != 0 || got != 1 {
		t.Errorf("output %v, %d handled; want none, 1", out, got)
	}
	if s := m.Stats(); s != (dsl.Stats{UnknownMessages: 5}) {
		t.Errorf("Stats = %+v, want 5 unknown messages", s)
	}

	// A module without any message handler drops messages too.
	empty := dsl.NewModule(self)
	apply(t, empty, recv("1", &msg0{}))
	if s := empty.Stats(); s.UnknownMessages != 1 {
		t.Errorf("module without handlers: Stats = %+v", s)
	}
}

// registeredAt matches the site an error names: this file and a line.
var registeredAt = regexp.MustCompile(`\(registered at dsl/module_test\.go:\d+\)`)

func TestHandlerErrorNamesHandler(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		register func(m *dsl.Module)
		in       stdtypes.Event
		prefix   string
	}{
		{
			name:     "event",
			register: func(m *dsl.Module) { dsl.UponEvent(m, func(*ev0) error { return errBoom }) },
			in:       &ev0{Header: hdr()},
			prefix:   `module "mod": upon event dsl_test.ev0 (registered at`,
		},
		{
			name:     "init",
			register: func(m *dsl.Module) { dsl.UponInit(m, func() error { return errBoom }) },
			in:       stdevents.NewInit(self),
			prefix:   `module "mod": upon event stdevents.Init (registered at`,
		},
		{
			name: "message",
			register: func(m *dsl.Module) {
				dsl.UponMessageReceived(m, func(stdtypes.NodeID, *msg0) error { return errBoom })
			},
			in:     recv("1", &msg0{}),
			prefix: `module "mod": upon message dsl_test.msg0 (registered at`,
		},
		{
			name:     "condition",
			register: func(m *dsl.Module) { dsl.UponCondition(m, func() error { return errBoom }) },
			in:       stdevents.NewInit(self),
			prefix:   `module "mod": upon condition (registered at`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := dsl.NewModule(self)
			var later int
			tc.register(m)
			// Handlers after the failing one, and the output so far, are
			// not used: the node stops.
			dsl.UponEvent(m, func(*ev1) error { later++; dsl.EmitEvent(m, &ev2{hdr()}); return nil })
			err := applyErr(t, m, &ev1{hdr()}, tc.in, &ev1{hdr()})
			if !errors.Is(err, errBoom) {
				t.Errorf("error %v does not wrap the handler's", err)
			}
			if !strings.HasPrefix(err.Error(), tc.prefix) || !registeredAt.MatchString(err.Error()) ||
				!strings.HasSuffix(err.Error(), ": boom") {
				t.Errorf("error %q does not name the handler and its site", err)
			}
			// Conditions run after the batch's events; handlers stop at the
			// failing event.
			wantLater := 1
			if tc.name == "condition" {
				wantLater = 2
			}
			if later != wantLater {
				t.Errorf("%d ev1 events handled, want %d", later, wantLater)
			}
			// The next batch starts with an empty output.
			if tc.name != "condition" {
				if out := apply(t, m); len(out) != 0 {
					t.Errorf("output of the failed batch leaked into the next: %v", out)
				}
			}
		})
	}
}

func TestDrop(t *testing.T) {
	var logBuf bytes.Buffer
	m := dsl.NewModule(self, dsl.WithLogger(logging.NewStreamLogger(logging.LevelDebug, &logBuf)))
	var trace []string
	dsl.UponMessageReceived(m, func(from stdtypes.NodeID, msg *msg0) error {
		if msg.N == 0 {
			return dsl.Drop("N is %d", msg.N)
		}
		trace = append(trace, fmt.Sprintf("a %d", msg.N))
		return nil
	})
	// Each handler is its own rule: a drop by one does not skip the next.
	dsl.UponMessageReceived(m, func(_ stdtypes.NodeID, msg *msg0) error {
		trace = append(trace, fmt.Sprintf("b %d", msg.N))
		return nil
	})
	dsl.UponEvent(m, func(*ev0) error { return fmt.Errorf("bad signature: %w", dsl.ErrDropped) })
	dsl.UponCondition(m, func() error { return dsl.Drop("nothing to do") })

	apply(t, m, recv("4", &msg0{}), recv("4", &msg0{N: 1}), &ev0{Header: hdr()}, recv("5", &msg1{}))
	if want := []string{"b 0", "a 1", "b 1"}; !slices.Equal(trace, want) {
		t.Errorf("handlers ran as %q, want %q", trace, want)
	}
	want := dsl.Stats{UnknownMessages: 1, DroppedMessages: 1, DroppedEvents: 2}
	if got := m.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if got := m.ReportStats(); got != want {
		t.Errorf("ReportStats = %+v, want %+v", got, want)
	}
	logs := logBuf.String()
	for _, want := range []string{
		`msg="dropped input" module=mod handler="message dsl_test.msg0" registered=dsl/module_test.go:`,
		`reason="dropped: N is 0" from=4`,
		`handler="event dsl_test.ev0"`, `reason="bad signature: input dropped"`,
		`handler=condition`, `reason="dropped: nothing to do"`,
		`msg="dropped message of unknown type" module=mod from=5 type=dsl_test.msg1`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if !errors.Is(dsl.Drop("x"), dsl.ErrDropped) || dsl.Drop("x %d", 1).Error() != "dropped: x 1" {
		t.Error("Drop's error is not ErrDropped or has the wrong text")
	}
}

func TestEmit(t *testing.T) {
	m := dsl.NewModule(self)
	e1, e2, e3 := &ev1{hdr()}, &ev2{hdr()}, &ev3{hdr()}
	dsl.UponEvent(m, func(*ev0) error {
		dsl.EmitEvent(m, e1)
		dsl.EmitEvents(m)
		dsl.EmitEvents(m, e2, e3)
		dsl.SendMessage(m, "net", &msg0{N: 1}, "1", "2")
		dsl.SendMessageTo(m, "net", &msg1{}, stdevents.To("other", "3"))
		return nil
	})
	dsl.UponCondition(m, func() error { dsl.EmitEvent(m, e1); return nil })

	// Emitted before the first batch: goes out with it, first.
	dsl.EmitEvent(m, e3)
	out := apply(t, m, &ev0{Header: hdr()})
	if len(out) != 7 || out[0] != e3 || out[1] != e1 || out[2] != e2 || out[3] != e3 || out[6] != e1 {
		t.Fatalf("output %v", out)
	}
	send, ok := out[4].(*stdevents.SendMessage)
	if !ok || send.Dest() != "net" || send.MsgDest != self || !slices.Equal(send.Destinations, []stdtypes.NodeID{"1", "2"}) ||
		send.Msg.(*msg0).N != 1 {
		t.Errorf("SendMessage emitted %#v", out[4])
	}
	send, ok = out[5].(*stdevents.SendMessage)
	if !ok || send.Dest() != "net" || send.MsgDest != "other" || !slices.Equal(send.Destinations, []stdtypes.NodeID{"3"}) {
		t.Errorf("SendMessageTo emitted %#v", out[5])
	}

	// Each batch has its own output list: the node owns the last one.
	out2 := apply(t, m)
	if len(out2) != 1 || out2[0] != e1 || len(out) != 7 {
		t.Errorf("second batch: %v; first batch now %v", out2, out)
	}
}

func TestRegistrationErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		id       stdtypes.ModuleID
		register func(m *dsl.Module)
		want     string
	}{
		{"nil event handler", self, func(m *dsl.Module) { dsl.UponEvent[ev0](m, nil) }, "nil handler for event dsl_test.ev0"},
		{"nil init handler", self, func(m *dsl.Module) { dsl.UponInit(m, nil) }, "nil handler for Init"},
		{"nil message handler", self, func(m *dsl.Module) { dsl.UponMessageReceived[msg0](m, nil) }, "nil handler for message dsl_test.msg0"},
		{"nil condition", self, func(m *dsl.Module) { dsl.UponCondition(m, nil) }, "nil condition"},
		{
			"MessageReceived as an event", self,
			func(m *dsl.Module) { dsl.UponEvent(m, func(*stdevents.MessageReceived) error { return nil }) },
			"UponEvent for stdevents.MessageReceived: use UponMessageReceived",
		},
		{"empty module ID", "", func(*dsl.Module) {}, "dsl: empty module ID"},
		{"bad module ID", "a//b", func(*dsl.Module) {}, `dsl: invalid module ID "a//b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := dsl.NewModule(tc.id)
			tc.register(m)
			// A later, good registration does not hide the first mistake.
			dsl.UponEvent(m, func(*ev0) error { return nil })
			for range 2 { // Every batch fails, not only the first.
				err := applyErr(t, m, stdevents.NewInit(tc.id))
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %q does not contain %q", err, tc.want)
				}
				if tc.id == self && !strings.Contains(err.Error(), "registered at dsl/module_test.go:") {
					t.Errorf("error %q does not name the registration site", err)
				}
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	m := dsl.NewModule("a/b")
	if m.ID() != "a/b" || m.Logger() != nil {
		t.Errorf("ID %q, Logger %v", m.ID(), m.Logger())
	}
	l := logging.NewStreamLogger(logging.LevelInfo, &bytes.Buffer{})
	if dsl.NewModule(self, dsl.WithLogger(l)).Logger() != l {
		t.Error("Logger is not the one given")
	}
}

func TestManyTypes(t *testing.T) {
	// More types than a handful, registered interleaved: each event still
	// reaches exactly its own handlers.
	m := dsl.NewModule(self)
	var got []string
	add := func(name string) func() error { return func() error { got = append(got, name); return nil } }
	h0, h1, h2, h3, h4, h5, h6, h7 := add("0"), add("1"), add("2"), add("3"), add("4"), add("5"), add("6"), add("7")
	dsl.UponEvent(m, func(*ev7) error { return h7() })
	dsl.UponEvent(m, func(*ev0) error { return h0() })
	dsl.UponEvent(m, func(*ev6) error { return h6() })
	dsl.UponEvent(m, func(*ev1) error { return h1() })
	dsl.UponEvent(m, func(*ev5) error { return h5() })
	dsl.UponEvent(m, func(*ev2) error { return h2() })
	dsl.UponEvent(m, func(*ev4) error { return h4() })
	dsl.UponEvent(m, func(*ev3) error { return h3() })
	apply(t, m, &ev0{Header: hdr()}, &ev1{hdr()}, &ev2{hdr()}, &ev3{hdr()}, &ev4{hdr()}, &ev5{hdr()}, &ev6{hdr()}, &ev7{hdr()},
		&ev7{hdr()}, &ev0{Header: hdr()})
	if want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "7", "0"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
