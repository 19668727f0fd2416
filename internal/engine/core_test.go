package engine

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

type testEvent struct {
	stdtypes.Header
	Tag string
}

func newTestEvent(dest stdtypes.ModuleID) *testEvent {
	return &testEvent{Header: stdtypes.NewHeader(dest)}
}

func tagged(dest stdtypes.ModuleID, tag string) *testEvent {
	return &testEvent{Header: stdtypes.NewHeader(dest), Tag: tag}
}

// trace lists "module:tag" for the testEvents a set of mocks received, in
// the order the core applied them, which a single-threaded core makes exact.
type trace struct{ entries []string }

func (tr *trace) module(name string, respond func(*testEvent) []stdtypes.Event) modules.PassiveModule {
	return modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		switch ev := ev.(type) {
		case *stdevents.Init:
			tr.entries = append(tr.entries, name+":init")
		case *testEvent:
			tr.entries = append(tr.entries, name+":"+ev.Tag)
			if respond != nil {
				return stdtypes.ListOf(respond(ev)...), nil
			}
		}
		return nil, nil
	})
}

// drain runs the core until no module is ready, applying passive modules
// and handing external modules' batches straight back.
func drain(t *testing.T, c *Core) {
	t.Helper()
	for m := c.Next(); m != nil; m = c.Next() {
		if m.Passive() {
			if err := c.ApplyPassive(m); err != nil {
				t.Fatal(err)
			}
			continue
		}
		batch, err := c.TakeBatch(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Release(m, batch); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCoreRoundRobinAndInitFirst(t *testing.T) {
	tr := &trace{}
	c := New([]Spec{
		{ID: "a", Passive: tr.module("a", func(ev *testEvent) []stdtypes.Event {
			if ev.Tag == "go" {
				return []stdtypes.Event{tagged("b", "1"), tagged("b", "2"), tagged("a", "self")}
			}
			return nil
		})},
		{ID: "b", Passive: tr.module("b", nil)},
	}, 1, nil)
	c.EnqueueInit()
	if err := c.Route([]stdtypes.Event{tagged("a", "go")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if c.Buffered() != 3 {
		t.Fatalf("buffered %d, want 3", c.Buffered())
	}
	drain(t, c)
	want := "[a:init b:init a:go b:1 a:self b:2]"
	if got := fmt.Sprint(tr.entries); got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	if c.Buffered() != 0 {
		t.Errorf("buffered %d after draining", c.Buffered())
	}
	a := c.Module("a").Counters
	if a.EventsIn.Load() != 3 || a.EventsOut.Load() != 3 || a.Batches.Load() != 3 {
		t.Errorf("a's counters: in %d out %d batches %d", a.EventsIn.Load(), a.EventsOut.Load(), a.Batches.Load())
	}
}

func TestCoreExternalModuleHoldsFollowUps(t *testing.T) {
	tr := &trace{}
	c := New([]Spec{{ID: "ext"}, {ID: "p", Passive: tr.module("p", nil)}}, 10, nil)
	persist := stdtypes.WithFollowUps(tagged("ext", "persist"), tagged("p", "after"))
	if err := c.Route([]stdtypes.Event{persist, tagged("ext", "second")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	m := c.Next()
	if m == nil || m.ID != "ext" || m.Passive() {
		t.Fatalf("Next returned %v, want the external module", m)
	}
	batch, err := c.TakeBatch(m, nil)
	if err != nil || len(batch) != 2 {
		t.Fatalf("TakeBatch = %d events, %v", len(batch), err)
	}
	// While the batch is held, more events for ext wait, and the
	// follow-up is not released.
	if err := c.Route([]stdtypes.Event{tagged("ext", "third")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if next := c.Next(); next != nil {
		t.Fatalf("Next returned %s while ext holds a batch", next.ID)
	}
	if err := c.Release(m, batch); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	if got := fmt.Sprint(tr.entries); got != "[p:after]" {
		t.Errorf("p saw %s, want the follow-up once the batch was released", got)
	}
}

func TestCoreDivert(t *testing.T) {
	tr := &trace{}
	c := New([]Spec{
		{ID: "a", Passive: tr.module("a", func(*testEvent) []stdtypes.Event { return []stdtypes.Event{tagged("b", "out")} })},
		{ID: "b", Passive: tr.module("b", nil)},
	}, 10, nil)
	var diverted [][]string
	c.Divert(func(evs []stdtypes.Event) error {
		var tags []string
		for _, ev := range evs {
			tags = append(tags, ev.(*testEvent).Tag)
		}
		diverted = append(diverted, tags)
		return nil
	})
	if err := c.Route([]stdtypes.Event{stdtypes.WithFollowUps(tagged("a", "in"), tagged("b", "next"))}, nil, nil); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	if got := fmt.Sprint(diverted); got != "[[out next]]" {
		t.Errorf("diverted %s, want [[out next]]", got)
	}
	if got := fmt.Sprint(tr.entries); got != "[a:in]" {
		t.Errorf("modules saw %s; nothing diverted may be routed", got)
	}
}

func TestCoreInterceptor(t *testing.T) {
	var seen []string
	fail := errors.New("full")
	var failNow bool
	icp := eventlog.InterceptorFunc(func(evs *stdtypes.EventList) error {
		for _, ev := range evs.Slice() {
			seen = append(seen, string(ev.Dest()))
		}
		if failNow {
			return fail
		}
		return nil
	})
	c := New([]Spec{{ID: "p", Passive: modules.NullPassive{}}, {ID: "ext"}}, 10, icp)
	if err := c.Route([]stdtypes.Event{newTestEvent("p"), newTestEvent("ext")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	if got := fmt.Sprint(seen); got != "[p ext]" {
		t.Errorf("interceptor saw %s", got)
	}
	failNow = true
	for _, dest := range []stdtypes.ModuleID{"p", "ext"} {
		if err := c.Route([]stdtypes.Event{newTestEvent(dest)}, nil, nil); err != nil {
			t.Fatal(err)
		}
		m := c.Next()
		var err error
		if m.Passive() {
			err = c.ApplyPassive(m)
		} else {
			_, err = c.TakeBatch(m, nil)
		}
		if !errors.Is(err, fail) || !strings.Contains(err.Error(), "interceptor") {
			t.Errorf("%s: error %v, want the interceptor's", dest, err)
		}
	}
}

func TestCoreRouteErrors(t *testing.T) {
	c := New([]Spec{{ID: "p", Passive: modules.NullPassive{}}}, 10, nil)
	err := c.Route([]stdtypes.Event{newTestEvent("q/x")}, c.Module("p"), nil)
	if !errors.Is(err, ErrUnknownModule) || !strings.Contains(err.Error(), `module "p"`) {
		t.Errorf("unknown module: %v", err)
	}
	err = c.Route([]stdtypes.Event{nil}, nil, newTestEvent("p"))
	if err == nil || !strings.Contains(err.Error(), "the follow-ups of engine.testEvent") {
		t.Errorf("nil event: %v", err)
	}
	err = c.Route([]stdtypes.Event{newTestEvent("zz")}, nil, nil)
	if !strings.Contains(fmt.Sprint(err), "outside the node") {
		t.Errorf("unknown module from outside: %v", err)
	}
}

func TestRecover(t *testing.T) {
	err := Recover(func() error { panic("oops") })
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "oops" || !strings.Contains(err.Error(), "core_test.go") {
		t.Errorf("Recover returned %v", err)
	}
	if err := Recover(func() error { return nil }); err != nil {
		t.Errorf("Recover of a calm function: %v", err)
	}
}

func TestCoreRouteEmittedDropsUnknownDestinations(t *testing.T) {
	tr := &trace{}
	c := New([]Spec{{ID: "net"}, {ID: "p", Passive: tr.module("p", nil)}}, 10, nil)
	net := c.Module("net")
	dropped, err := c.RouteEmitted([]stdtypes.Event{tagged("ghost/x", "evil"), tagged("p", "good")}, net)
	if err != nil || dropped != 1 || net.Counters.DroppedUnknown.Load() != 1 {
		t.Fatalf("RouteEmitted: dropped %d, err %v, counter %d", dropped, err, net.Counters.DroppedUnknown.Load())
	}
	drain(t, c)
	if got := fmt.Sprint(tr.entries); got != "[p:good]" {
		t.Errorf("p saw %s", got)
	}
	if _, err := c.RouteEmitted([]stdtypes.Event{nil}, net); err == nil {
		t.Error("a nil event from a local module was accepted")
	}
}

func TestCoreRouteEmittedWithoutSource(t *testing.T) {
	c := New([]Spec{{ID: "p", Passive: modules.NullPassive{}}}, 10, nil)
	dropped, err := c.RouteEmitted([]stdtypes.Event{newTestEvent("ghost"), newTestEvent("p")}, nil)
	if err != nil || dropped != 1 || c.Buffered() != 1 {
		t.Errorf("RouteEmitted(nil source): dropped %d, err %v, buffered %d", dropped, err, c.Buffered())
	}
}

func TestCoreBusyTimingOff(t *testing.T) {
	slow := &sleeper{}
	c := New([]Spec{{ID: "p", Passive: slow}}, 10, nil)
	c.SetBusyTiming(false)
	if err := c.Route([]stdtypes.Event{newTestEvent("p")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	if busy := c.Module("p").Counters.BusyNs.Load(); busy != 0 {
		t.Errorf("BusyNs = %d with timing off", busy)
	}
	c.SetBusyTiming(true)
	if err := c.Route([]stdtypes.Event{newTestEvent("p")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	if busy := c.Module("p").Counters.BusyNs.Load(); busy <= 0 {
		t.Errorf("BusyNs = %d with timing on", busy)
	}
}

// sleeper takes a measurable time per batch.
type sleeper struct{}

func (sleeper) ApplyEvents(*stdtypes.EventList) (*stdtypes.EventList, error) {
	time.Sleep(time.Millisecond)
	return nil, nil
}

// inputRecorder is an InputInterceptor that notes "tag" for inputs and
// "tag*" for outputs.
type inputRecorder struct{ seen []string }

func (r *inputRecorder) Intercept(*stdtypes.EventList) error {
	return errors.New("Intercept called on an InputInterceptor")
}

func (r *inputRecorder) InterceptInputs(evs *stdtypes.EventList, inputs []bool) error {
	if len(inputs) != evs.Len() {
		return fmt.Errorf("%d flags for %d events", len(inputs), evs.Len())
	}
	for i, ev := range evs.Slice() {
		name := "init"
		if te, ok := ev.(*testEvent); ok {
			name = te.Tag
		}
		if !inputs[i] {
			name += "*"
		}
		r.seen = append(r.seen, name)
	}
	return nil
}

func TestCoreInputFlags(t *testing.T) {
	var tr trace
	// a answers "x" with "y" for b, which carries "z" as follow-up. b is
	// external, so z, released when b is done, is an input again.
	a := tr.module("a", func(ev *testEvent) []stdtypes.Event {
		if ev.Tag != "x" {
			return nil
		}
		y := tagged("b", "y")
		y.Next = []stdtypes.Event{tagged("a", "z")}
		return []stdtypes.Event{y, tagged("a", "self")}
	})
	rec := &inputRecorder{}
	c := New([]Spec{{ID: "a", Passive: a}, {ID: "b"}}, 2, rec)
	c.EnqueueInit()
	if err := c.Route([]stdtypes.Event{tagged("a", "x"), tagged("b", "direct")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RouteEmitted([]stdtypes.Event{tagged("a", "emitted")}, c.Module("b")); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	// Batches of at most 2: a [init x], b [init direct], a [emitted self*],
	// b [y*], a [z].
	want := "[init x init direct emitted self* y* z]"
	if got := fmt.Sprint(rec.seen); got != want {
		t.Errorf("interceptor saw %s, want %s", got, want)
	}
}

// TestCoreDropsMessagesForModulesThatTakeNone: a MessageReceived reaches
// only a module that takes messages; one for any other module is dropped
// and counted in that module's DroppedMessages, wherever it comes from:
// emitted by an external module, output of a passive one, a follow-up,
// injected. Other events for those modules are routed as ever.
func TestCoreDropsMessagesForModulesThatTakeNone(t *testing.T) {
	rcv := func(dest stdtypes.ModuleID) stdtypes.Event { return stdevents.NewMessageReceived(dest, "peer", nil) }
	forward := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if tev, ok := ev.(*testEvent); ok && tev.Tag == "forward" {
			// A passive forwarder handing on a destination a peer chose,
			// as output and as a follow-up.
			return stdtypes.ListOf(rcv("q"), stdtypes.WithFollowUps(tagged("q", "persist"), rcv("ext"))), nil
		}
		return nil, nil
	})
	q := &recorder{}
	c := New([]Spec{
		{ID: "net"},                        // external, takes no messages
		{ID: "ext"},                        // external, takes no messages
		{ID: "rx", ReceivesMessages: true}, // external, takes messages
		{ID: "p", Passive: forward},        // passive, takes messages (a MockPassive does)
		{ID: "q", Passive: q},              // passive, takes none
	}, 10, nil)
	net := c.Module("net")
	dropped, err := c.RouteEmitted([]stdtypes.Event{rcv("q/sub"), rcv("ext"), rcv("rx"), rcv("p"), rcv("net"), tagged("q", "local")}, net)
	if err != nil || dropped != 3 {
		t.Fatalf("RouteEmitted: dropped %d, err %v; want 3 dropped", dropped, err)
	}
	if err := c.Route([]stdtypes.Event{tagged("p", "forward"), rcv("q")}, nil, nil); err != nil {
		t.Fatalf("Route: %v", err)
	}
	drain(t, c)
	want := map[stdtypes.ModuleID]uint64{"net": 1, "ext": 2, "rx": 0, "p": 0, "q": 3}
	for id, n := range want {
		if got := c.Module(id).Counters.DroppedMessages.Load(); got != n {
			t.Errorf("%s: DroppedMessages = %d, want %d", id, got, n)
		}
	}
	if got := net.Counters.DroppedUnknown.Load(); got != 0 {
		t.Errorf("DroppedUnknown = %d, want 0: the modules exist", got)
	}
	if got := fmt.Sprint(q.tags()); got != "[local persist]" {
		t.Errorf("q got %s, want only its local events", got)
	}
	for _, ev := range forward.Received() {
		if _, ok := ev.(*stdevents.MessageReceived); ok {
			return
		}
	}
	t.Error("p, which takes messages, got none")
}

// TestCoreWarnsOnceAboutDroppedMessages: the first message the core drops
// for a module that takes none is logged as a warning naming the module
// and the missing marker, so that a protocol whose author forgot it does
// not lose its messages without a word; later ones, however many a peer
// sends, are only counted.
func TestCoreWarnsOnceAboutDroppedMessages(t *testing.T) {
	var buf bytes.Buffer
	rcv := func(dest stdtypes.ModuleID) stdtypes.Event { return stdevents.NewMessageReceived(dest, "peer", nil) }
	c := New([]Spec{
		{ID: "net"},                        // external, takes no messages
		{ID: "rx", ReceivesMessages: true}, // external, takes messages
		{ID: "q", Passive: &recorder{}},    // passive, takes none
	}, 10, nil)
	c.SetLogger(logging.NewStreamLogger(logging.LevelWarn, &buf))
	for range 3 {
		if _, err := c.RouteEmitted([]stdtypes.Event{rcv("q"), rcv("net"), rcv("rx"), rcv("q/sub")}, c.Module("net")); err != nil {
			t.Fatal(err)
		}
		if err := c.Route([]stdtypes.Event{rcv("q")}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want one warning per module that takes no messages:\n%s", len(lines), buf.String())
	}
	for i, mod := range []string{"q", "net"} {
		l := lines[i]
		if !strings.Contains(l, "level=WARN") || !strings.Contains(l, "module="+mod+" ") ||
			!strings.Contains(l, "does not implement modules.MessageReceiver") {
			t.Errorf("line %d: %s\nwant a warning that module %s does not implement modules.MessageReceiver", i, l, mod)
		}
	}
	if got := c.Module("q").Counters.DroppedMessages.Load(); got != 9 {
		t.Errorf("q: DroppedMessages = %d, want 9: every drop is counted", got)
	}
}

// TestCoreDivertedRefusesNothing: a core in debug mode dispatches the
// recorded events it is given as they are, messages included.
func TestCoreDivertedRefusesNothing(t *testing.T) {
	q := &recorder{}
	c := New([]Spec{{ID: "q", Passive: q}}, 10, nil)
	c.Divert(func([]stdtypes.Event) error { return nil })
	if err := c.Route([]stdtypes.Event{stdevents.NewMessageReceived("q", "peer", nil)}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if c.Buffered() != 1 || c.Module("q").Counters.DroppedMessages.Load() != 0 {
		t.Errorf("buffered %d, dropped %d; want the message queued", c.Buffered(), c.Module("q").Counters.DroppedMessages.Load())
	}
}

// recorder is a passive module that takes no messages and records the
// tags of the test events it gets.
type recorder struct{ got []stdtypes.Event }

func (r *recorder) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	r.got = append(r.got, evs.Slice()...)
	return nil, nil
}

func (r *recorder) tags() []string {
	var tags []string
	for _, ev := range r.got {
		switch ev := ev.(type) {
		case *testEvent:
			tags = append(tags, ev.Tag)
		case *stdevents.MessageReceived:
			tags = append(tags, "message")
		}
	}
	return tags
}
