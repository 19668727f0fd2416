package reliablenet_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func TestConfigValidate(t *testing.T) {
	if err := mc.Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	for name, tweak := range map[string]func(c *reliablenet.ModuleConfig){
		"empty self":           func(c *reliablenet.ModuleConfig) { c.Self = "" },
		"empty net":            func(c *reliablenet.ModuleConfig) { c.Net = "" },
		"bad timer":            func(c *reliablenet.ModuleConfig) { c.Timer = "a//b" },
		"bad user":             func(c *reliablenet.ModuleConfig) { c.Users = []stdtypes.ModuleID{"app/"} },
		"itself a user":        func(c *reliablenet.ModuleConfig) { c.Users = []stdtypes.ModuleID{c.Self} },
		"its submodule a user": func(c *reliablenet.ModuleConfig) { c.Users = []stdtypes.ModuleID{c.Self + "/x"} },
		"its parent a user":    func(c *reliablenet.ModuleConfig) { c.Self = "app/rnet" },
		"user twice":           func(c *reliablenet.ModuleConfig) { c.Users = []stdtypes.ModuleID{"a", "b", "a"} },
	} {
		c := reliablenet.DefaultModuleConfig(appID)
		tweak(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
		if _, err := reliablenet.NewModule("0", c, testParams(), nil); err == nil {
			t.Errorf("%s: NewModule accepted it", name)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	if err := reliablenet.DefaultModuleParams(0).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, tweak := range map[string]func(p *reliablenet.ModuleParams){
		"no tick":          func(p *reliablenet.ModuleParams) { p.TickPeriod = 0 },
		"no backoff":       func(p *reliablenet.ModuleParams) { p.MinBackoffTicks = 0 },
		"max below min":    func(p *reliablenet.ModuleParams) { p.MaxBackoffTicks = p.MinBackoffTicks - 1 },
		"huge backoff":     func(p *reliablenet.ModuleParams) { p.MaxBackoffTicks = 1 << 30 },
		"no pending":       func(p *reliablenet.ModuleParams) { p.MaxPendingMessages = 0 },
		"no pending bytes": func(p *reliablenet.ModuleParams) { p.MaxPendingBytes = -1 },
	} {
		p := testParams()
		tweak(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, p)
		}
		if _, err := reliablenet.NewModule("0", mc, p, nil); err == nil {
			t.Errorf("%s: NewModule accepted it", name)
		}
	}
	if _, err := reliablenet.NewModule("", mc, testParams(), nil); err == nil {
		t.Error("NewModule accepted an empty node ID")
	}
}

func TestEventsCodec(t *testing.T) {
	for _, v := range []any{
		send("a/1", "hi", "1", "2"),
		reliablenet.NewMarkReceived(rnetID, "a/1", stdevents.To(appID, "2")),
		reliablenet.NewCancel(rnetID, appID, "a/1"),
		reliablenet.NewCancelPrefix(rnetID, appID, "a/"),
		reliablenet.NewTick(rnetID),
		&reliablenet.DataMsg{Incarnation: 3, Seq: 9, MsgDest: appID, Msg: &note{Text: "x"}},
		&reliablenet.AckMsg{Incarnation: 3, Seqs: []uint64{9, 10}},
	} {
		var back any
		var err error
		switch v := v.(type) {
		case stdtypes.Event:
			var data []byte
			if data, err = codec.EncodeEvent(v); err == nil {
				back, err = codec.DecodeEvent(data)
			}
		case stdtypes.Message:
			var data []byte
			if data, err = codec.EncodeMessage(v); err == nil {
				back, err = codec.DecodeMessage(data)
			}
		}
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if !reflect.DeepEqual(back, v) {
			t.Errorf("%T: got %+v back, want %+v", v, back, v)
		}
	}
}

// A message goes out once, is retransmitted with a doubling wait to the
// destinations that did not acknowledge it, and is forgotten once all did.
func TestSendRetransmitAck(t *testing.T) {
	m := newModule(t, "0", nil)
	if got := apply(t, m, send("x", "hi", "1", "2", "3")); got != "data 0:hi to [1 2 3]" {
		t.Fatalf("send: %q", got)
	}
	if got := ticks(t, m, 6); !slices.Equal(got, []string{"2: data 0:hi to [1 2 3]", "6: data 0:hi to [1 2 3]"}) {
		t.Errorf("retransmissions at %q", got)
	}
	apply(t, m, ack("1", 1, 0), ack("3", 1, 0))
	// The wait is 8 ticks now, MaxBackoffTicks: it stays so.
	if got := ticks(t, m, 16); !slices.Equal(got, []string{"8: data 0:hi to [2]", "16: data 0:hi to [2]"}) {
		t.Errorf("retransmissions at %q", got)
	}
	apply(t, m, ack("2", 1, 0))
	if got := ticks(t, m, 20); len(got) != 0 {
		t.Errorf("retransmissions after every ack: %q", got)
	}
	st := m.Stats()
	if st.Sent != 1 || st.Retransmitted != 8 || st.Completed != 1 || st.Pending != 0 || st.PendingBytes != 0 {
		t.Errorf("%+v", st)
	}
}

// A destination that is this node gets the message at once.
func TestSendToSelf(t *testing.T) {
	m := newModule(t, "0", nil)
	if got := apply(t, m, send("x", "hi", "1", "0")); got != "got hi from 0 to app; data 0:hi to [1]" {
		t.Errorf("got %q", got)
	}
	if got := apply(t, m, send("y", "alone", "0")); got != "got alone from 0 to app" {
		t.Errorf("got %q", got)
	}
	if st := m.Stats(); st.Pending != 1 || st.Completed != 1 || st.Delivered != 2 {
		t.Errorf("%+v", st)
	}
}

// The receiving side delivers every copy, and acknowledges, at the end of
// the batch, one AckMsg per sender and incarnation, in the order they
// came.
func TestReceive(t *testing.T) {
	m := newModule(t, "0", nil)
	got := apply(t, m,
		data("2", 5, 7, appID, &note{Text: "a"}),
		data("1", 3, 0, appID, &note{Text: "b"}),
		data("2", 5, 8, appID+"/sub", &note{Text: "c"}), // A user's submodule is a user.
		data("2", 5, 7, appID, &note{Text: "a"}),        // A copy.
		data("2", 6, 0, appID, &note{Text: "d"}),        // The sender restarted.
	)
	want := "got a from 2 to app; got b from 1 to app; got c from 2 to app/sub; got a from 2 to app; got d from 2 to app; " +
		"ack@5 7,8,7 to [2]; ack@3 0 to [1]; ack@6 0 to [2]"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := apply(t, m, tick()); got != "" {
		t.Errorf("tick: %q", got)
	}
	if st := m.Stats(); st.Delivered != 5 || st.AcksSent != 3 || st.Pending != 0 {
		t.Errorf("%+v", st)
	}
}

// More numbers than fit in one AckMsg go in several.
func TestAckSplit(t *testing.T) {
	m := newModule(t, "0", nil)
	evs := make([]stdtypes.Event, reliablenet.MaxAcksPerMessage+1)
	for i := range evs {
		evs[i] = data("1", 1, uint64(i), appID, &note{})
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, ev := range out.Slice() {
		if s, ok := ev.(*stdevents.SendMessage); ok {
			sizes = append(sizes, len(s.Msg.(*reliablenet.AckMsg).Seqs))
		}
	}
	if !slices.Equal(sizes, []int{reliablenet.MaxAcksPerMessage, 1}) {
		t.Errorf("AckMsgs of %v numbers", sizes)
	}
}

// A protocol cancels messages by ID, by prefix, or for some destinations.
func TestCancel(t *testing.T) {
	m := newModule(t, "0", nil)
	apply(t, m,
		send("i/1/send", "a", "1", "2"),
		send("i/1/final", "b", "1", "2"),
		send("i/10/send", "c", "1", "2"),
		send("j", "d", "1", "2"),
		reliablenet.NewSendMessage(rnetID, "i/1/send", &note{Text: "e"}, stdevents.To(appID+"/sub", "1")), // Another destination module.
	)
	if got := apply(t, m,
		reliablenet.NewCancelPrefix(rnetID, appID, "i/1/"),
		reliablenet.NewCancel(rnetID, appID, "j"),
		reliablenet.NewCancel(rnetID, appID, "unknown"),
		reliablenet.NewMarkReceived(rnetID, "i/10/send", stdevents.To(appID, "2", "7")),
		reliablenet.NewMarkReceived(rnetID, "unknown", stdevents.To(appID, "2")),
	); got != "" {
		t.Errorf("cancel: %q", got)
	}
	if got := ticks(t, m, 2); !slices.Equal(got, []string{"2: data 2:c to [1]; data 4:e to [1]"}) {
		t.Errorf("retransmissions %q", got)
	}
	apply(t, m, reliablenet.NewMarkReceived(rnetID, "i/10/send", stdevents.To(appID, "1")), reliablenet.NewCancelPrefix(rnetID, appID+"/sub", ""))
	if st := m.Stats(); st.Pending != 0 || st.Cancelled != 5 || st.Completed != 0 {
		t.Errorf("%+v", st)
	}
	if got := ticks(t, m, 10); len(got) != 0 {
		t.Errorf("retransmissions after cancelling all: %q", got)
	}
}

// An ID can be used again once its message is acknowledged or cancelled:
// an acknowledgment of the first message, late, does not acknowledge the
// second.
func TestIDReuse(t *testing.T) {
	m := newModule(t, "0", nil)
	apply(t, m, send("x", "first", "1"), reliablenet.NewCancel(rnetID, appID, "x"))
	if got := apply(t, m, send("x", "second", "1")); got != "data 1:second to [1]" {
		t.Fatalf("%q", got)
	}
	apply(t, m, ack("1", 1, 0))
	if got := ticks(t, m, 2); !slices.Equal(got, []string{"2: data 1:second to [1]"}) {
		t.Errorf("retransmissions %q", got)
	}
}

// Acknowledgments for an earlier incarnation of the node, which used the
// same numbers, acknowledge nothing.
func TestStaleIncarnation(t *testing.T) {
	m := newModule(t, "0", func(p *reliablenet.ModuleParams) { p.Incarnation = 2 })
	apply(t, m, send("x", "hi", "1"))
	apply(t, m, ack("1", 1, 0))
	if got := ticks(t, m, 2); !slices.Equal(got, []string{"2: data 0:hi to [1]"}) {
		t.Errorf("retransmissions %q", got)
	}
	if st := m.Stats(); st.AcksStale != 1 || st.Pending != 1 {
		t.Errorf("%+v", st)
	}
}

// A Byzantine peer acknowledges what it was never sent, what went to
// others, the same thing again, and too much at once: nothing of it
// acknowledges anything for another node.
func TestByzantineAcks(t *testing.T) {
	m := newModule(t, "0", nil)
	apply(t, m, send("x", "hi", "1", "2"), send("y", "ho", "2"))
	huge := make([]uint64, reliablenet.MaxAcksPerMessage+1)
	if got := apply(t, m,
		ack("3", 1, 0, 1, 99, ^uint64(0)), // Not a destination; unknown numbers.
		ack("1", 1, 1),                    // Sent to 2 only.
		ack("1", 1, 0, 0),                 // Twice.
		ack("1", 1, huge...),              // Too long: dropped whole.
	); got != "" {
		t.Errorf("acks: %q", got)
	}
	if got := ticks(t, m, 2); !slices.Equal(got, []string{"2: data 0:hi to [2]; data 1:ho to [2]"}) {
		t.Errorf("retransmissions %q", got)
	}
	st := m.Stats()
	if st.AcksUnknown != 5 || st.AcksDuplicate != 1 || st.Malformed != 1 || st.Pending != 2 || st.Invalid() != 1 {
		t.Errorf("%+v", st)
	}
}

// DataMsgs that a correct peer would never send are dropped, counted, and
// neither delivered nor acknowledged.
func TestInvalidData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    stdtypes.Event
		count func(reliablenet.Stats) uint64
	}{
		{"no message", data("1", 1, 0, appID, nil), func(s reliablenet.Stats) uint64 { return s.Malformed }},
		{"empty destination", data("1", 1, 0, "", &note{}), func(s reliablenet.Stats) uint64 { return s.Malformed }},
		{"bad destination", data("1", 1, 0, "app//x", &note{}), func(s reliablenet.Stats) uint64 { return s.Malformed }},
		{"not a user", data("1", 1, 0, "crypto", &note{}), func(s reliablenet.Stats) uint64 { return s.Forbidden }},
		{"a user's prefix only", data("1", 1, 0, "apple", &note{}), func(s reliablenet.Stats) uint64 { return s.Forbidden }},
		{"the module itself", data("1", 1, 0, rnetID, &reliablenet.AckMsg{Seqs: []uint64{0}}), func(s reliablenet.Stats) uint64 { return s.Forbidden }},
		{"a huge destination", data("1", 1, 0, stdtypes.ModuleID(strings.Repeat("x", 1<<20)), &note{}), func(s reliablenet.Stats) uint64 { return s.Forbidden }},
		{"unknown type", stdevents.NewMessageReceived(rnetID, "1", &note{}), func(s reliablenet.Stats) uint64 { return s.UnknownMessages }},
		{"nil message", stdevents.NewMessageReceived(rnetID, "1", nil), func(s reliablenet.Stats) uint64 { return s.UnknownMessages }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModule(t, "0", nil)
			if got := apply(t, m, tc.in); got != "" {
				t.Errorf("emitted %q", got)
			}
			st := m.Stats()
			if tc.count(st) != 1 || st.Invalid() != 1 || st.Delivered != 0 {
				t.Errorf("%+v", st)
			}
		})
	}
}

// Mistakes of local modules stop the node, with an error that names the
// module.
func TestLocalErrors(t *testing.T) {
	long := reliablenet.MsgID(strings.Repeat("x", reliablenet.MaxMsgIDBytes+1))
	for _, tc := range []struct {
		name string
		evs  []stdtypes.Event
		is   error
	}{
		{"empty ID", []stdtypes.Event{send("", "a", "1")}, reliablenet.ErrInvalidEvent},
		{"long ID", []stdtypes.Event{send(long, "a", "1")}, reliablenet.ErrInvalidEvent},
		{"no destinations", []stdtypes.Event{send("x", "a")}, reliablenet.ErrInvalidEvent},
		{"a destination twice", []stdtypes.Event{send("x", "a", "1", "2", "1")}, reliablenet.ErrInvalidEvent},
		{"empty destination", []stdtypes.Event{send("x", "a", "")}, reliablenet.ErrInvalidEvent},
		{"no message", []stdtypes.Event{reliablenet.NewSendMessage(rnetID, "x", nil, stdevents.To(appID, "1"))}, reliablenet.ErrInvalidEvent},
		{"bad module", []stdtypes.Event{reliablenet.NewSendMessage(rnetID, "x", &note{}, stdevents.To("app/", "1"))}, reliablenet.ErrInvalidEvent},
		{"not a user", []stdtypes.Event{reliablenet.NewSendMessage(rnetID, "x", &note{}, stdevents.To("crypto", "1"))}, reliablenet.ErrInvalidEvent},
		{"ID in flight", []stdtypes.Event{send("x", "a", "1"), send("x", "b", "2")}, reliablenet.ErrInvalidEvent},
		{"unencodable", []stdtypes.Event{reliablenet.NewSendMessage(rnetID, "x", &unregistered{}, stdevents.To(appID, "1"))}, reliablenet.ErrInvalidEvent},
		{"too many", []stdtypes.Event{send("x", "a", "1"), send("y", "b", "1"), send("z", "c", "1")}, reliablenet.ErrFull},
		{"too large", []stdtypes.Event{send("x", strings.Repeat("a", 100), "1")}, reliablenet.ErrFull},
		{"MarkReceived without destinations", []stdtypes.Event{reliablenet.NewMarkReceived(rnetID, "x", stdevents.To(appID))}, reliablenet.ErrInvalidEvent},
		{"MarkReceived with a bad ID", []stdtypes.Event{reliablenet.NewMarkReceived(rnetID, long, stdevents.To(appID, "1"))}, reliablenet.ErrInvalidEvent},
		{"Cancel with an empty ID", []stdtypes.Event{reliablenet.NewCancel(rnetID, appID, "")}, reliablenet.ErrInvalidEvent},
		{"Cancel of a bad module", []stdtypes.Event{reliablenet.NewCancel(rnetID, "", "x")}, reliablenet.ErrInvalidEvent},
		{"CancelPrefix too long", []stdtypes.Event{reliablenet.NewCancelPrefix(rnetID, appID, long)}, reliablenet.ErrInvalidEvent},
		{"CancelPrefix of a bad module", []stdtypes.Event{reliablenet.NewCancelPrefix(rnetID, "/", "x")}, reliablenet.ErrInvalidEvent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams()
			p.MaxPendingMessages, p.MaxPendingBytes = 2, 64
			m, err := reliablenet.NewModule("0", mc, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.ApplyEvents(stdtypes.ListOf(tc.evs...))
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want one that wraps %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), `module "reliablenet"`) {
				t.Errorf("error does not name the module: %v", err)
			}
		})
	}
}

// Memory follows what is in flight: acknowledged and cancelled messages
// leave nothing behind, however many went through.
func TestMemoryBounded(t *testing.T) {
	m := newModule(t, "0", func(p *reliablenet.ModuleParams) { p.MaxPendingMessages = 10 })
	for i := range uint64(1000) {
		apply(t, m, send(reliablenet.MsgID(fmt.Sprint(i)), "x", "1", "2"))
		if i%3 == 0 {
			apply(t, m, reliablenet.NewCancel(rnetID, appID, reliablenet.MsgID(fmt.Sprint(i))))
		} else {
			apply(t, m, ack("1", 1, i), ack("2", 1, i))
		}
		if st := m.Stats(); st.Pending != 0 || st.PendingBytes != 0 {
			t.Fatalf("after %d: %+v", i, st)
		}
	}
	if got := ticks(t, m, 10); len(got) != 0 {
		t.Errorf("retransmissions %q", got)
	}
}

// The default parameters retransmit after 100 to 200 ms.
func TestDefaultTiming(t *testing.T) {
	p := reliablenet.DefaultModuleParams(0)
	first := time.Duration(p.MinBackoffTicks) * p.TickPeriod
	if first < 100*time.Millisecond || first > 200*time.Millisecond {
		t.Errorf("first retransmission after %v", first)
	}
}
