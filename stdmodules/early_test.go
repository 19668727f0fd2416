package stdmodules

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/messagebuffer"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// testMsg is a message from another node in the tests.
type testMsg struct {
	stdtypes.MessageBase
	Text string
}

var _ = codec.Register[testMsg]("stdmodulestest.Msg")

// msg returns a message with text from node from to dest.
func msg(dest stdtypes.ModuleID, from stdtypes.NodeID, text string) *stdevents.MessageReceived {
	return stdevents.NewMessageReceived(dest, from, &testMsg{Text: text})
}

// decimalIndex is the index function of the tests: a submodule named by a
// decimal number has that number as its retention index.
func decimalIndex(name stdtypes.ModuleID) (stdtypes.RetentionIndex, bool) {
	n, err := strconv.ParseUint(string(name), 10, 64)
	return stdtypes.RetentionIndex(n), err == nil
}

// textSize measures a test message by its text.
func textSize(m stdtypes.Message) (int, error) {
	if t, ok := m.(*testMsg); ok {
		return len(t.Text), nil
	}
	return 0, errors.New("not a test message")
}

func earlyConfig() EarlyMessages {
	return EarlyMessages{
		Index:      decimalIndex,
		Limits:     messagebuffer.Limits{MessagesPerSenderMax: 2, BytesPerSenderMax: 10},
		MaxSenders: 2,
		SizeBytes:  textSize,
	}
}

// runEarly feeds batches to a factory "f" built with c and returns its
// rendered output; any error fails the test.
func runEarly(t *testing.T, c EarlyMessages, batches ...[]stdtypes.Event) (*Factory, []string) {
	t.Helper()
	f := NewFactory("f", testGenerator, nil, WithEarlyMessages(c))
	var got []string
	for _, b := range batches {
		got = append(got, applyFactory(t, f, b...)...)
	}
	return f, got
}

func TestEarlyMessagesHandedOverAfterInit(t *testing.T) {
	f, got := runEarly(t, earlyConfig(),
		[]stdtypes.Event{msg("f/2", "a", "a1"), msg("f/3", "b", "b1"), msg("f/2/deep", "b", "b2"), msg("f/2", "a", "a2")},
		[]stdtypes.Event{newSub("f", "f/2", 2, "echo"), msg("f/2", "a", "a3")},
	)
	// a3, queued behind the NewSubmodule, comes before the early ones,
	// which the factory emits back to itself; they keep their order.
	want := []string{"f/2<-stdevents.Init", "f/2<-a:a3", "f/2<-a:a1", "f/2/deep<-b:b2", "f/2<-a:a2"}
	if !slices.Equal(got, want) {
		t.Errorf("output %s, want %s", join(got), join(want))
	}
	// The message for f/3 waits for its submodule.
	if s := f.EarlyStats(); s.Buffered != 1 || s.Buffer.Stored != 4 || s.Buffer.Processed != 3 || s.Refused != 0 {
		t.Errorf("EarlyStats = %+v", s)
	}
	out := applyFactory(t, f, newSub("f", "f/3", 3, "echo"))
	if want := []string{"f/3<-stdevents.Init", "f/3<-b:b1"}; !slices.Equal(out, want) {
		t.Errorf("f/3 got %s, want %s", join(out), join(want))
	}
	if f.Dropped() != 0 {
		t.Errorf("Dropped = %d, want 0", f.Dropped())
	}
}

// applyFactory hands evs to f as one batch, then, as a node does, its
// output addressed to f or below back to it, until there is none, and
// returns the rest of the output, rendered. An error fails the test.
func applyFactory(t *testing.T, f *Factory, evs ...stdtypes.Event) []string {
	t.Helper()
	var got []string
	for len(evs) > 0 {
		out, err := f.ApplyEvents(stdtypes.ListOf(evs...))
		if err != nil {
			t.Fatal(err)
		}
		evs = nil
		for _, ev := range out.Slice() {
			if ev.Dest().IsSubOf(f.ID()) {
				evs = append(evs, ev)
			} else {
				got = append(got, render(ev)...)
			}
		}
	}
	return got
}

// TestEarlyMessagesAfterWhatTheCreatorSent checks that the events sent
// right after a NewSubmodule (a restarted instance's records) reach the
// submodule before the early messages, which could otherwise contradict
// them.
func TestEarlyMessagesAfterWhatTheCreatorSent(t *testing.T) {
	_, got := runEarly(t, earlyConfig(),
		[]stdtypes.Event{msg("f/1", "a", "early")},
		[]stdtypes.Event{newSub("f", "f/1", 1, "echo"), newNote("f/1", "record 1"), newNote("f/1", "record 2")},
	)
	want := []string{"f/1<-stdevents.Init", "f/1<-record 1", "f/1<-record 2", "f/1<-a:early"}
	if !slices.Equal(got, want) {
		t.Errorf("output %s, want %s", join(got), join(want))
	}
}

func TestEarlyMessagesDroppedWhenNoSubmoduleWillTakeThem(t *testing.T) {
	f, got := runEarly(t, earlyConfig(),
		[]stdtypes.Event{stdevents.NewGarbageCollect("f", 5)},
		[]stdtypes.Event{
			msg("f/4", "a", "old"),          // below the GC index
			msg("f/x", "a", "made up"),      // no index
			msg("f", "a", "for f itself"),   // the factory takes no messages
			newNote("f/6", "not a message"), // only messages are kept
		},
		[]stdtypes.Event{newSub("f", "f/6", 6, "echo")},
	)
	if want := []string{"f/6<-stdevents.Init"}; !slices.Equal(got, want) {
		t.Errorf("output %s, want %s", join(got), join(want))
	}
	if f.Dropped() != 4 || f.EarlyStats().Buffer.Stored != 0 {
		t.Errorf("Dropped = %d, EarlyStats = %+v; want 4 dropped, none stored", f.Dropped(), f.EarlyStats())
	}
}

func TestEarlyMessagesGarbageCollected(t *testing.T) {
	f, got := runEarly(t, earlyConfig(),
		[]stdtypes.Event{msg("f/1", "a", "one"), msg("f/2", "a", "two"), msg("f/3", "b", "three")},
		[]stdtypes.Event{stdevents.NewGarbageCollect("f", 3)},
		[]stdtypes.Event{newSub("f", "f/2", 2, "echo"), newSub("f", "f/3", 3, "echo")},
	)
	// f/2 is below the index and not created; f/3 gets its message.
	if want := []string{"f/3<-stdevents.Init", "f/3<-b:three"}; !slices.Equal(got, want) {
		t.Errorf("output %s, want %s", join(got), join(want))
	}
	s := f.EarlyStats()
	if s.Buffered != 0 || s.Buffer.Dropped != 2 || s.Buffer.Processed != 1 {
		t.Errorf("EarlyStats = %+v", s)
	}
}

func TestEarlyMessagesBoundedPerSender(t *testing.T) {
	c := earlyConfig()
	var flood []stdtypes.Event
	for i := range 10 {
		flood = append(flood, msg("f/1", "byz", "x"+strconv.Itoa(i)))
	}
	f, got := runEarly(t, c,
		[]stdtypes.Event{msg("f/1", "a", "a1")},
		flood,
		[]stdtypes.Event{
			msg("f/1", "third", "refused: MaxSenders"),
			msg("f/1", "a", "too large for a share"),
			&stdevents.MessageReceived{Header: stdtypes.NewHeader("f/1"), From: "a", Msg: nil}, // unmeasurable
		},
		[]stdtypes.Event{newSub("f", "f/1", 1, "echo")},
	)
	// The Byzantine sender evicted only its own messages: a's stays.
	want := []string{"f/1<-stdevents.Init", "f/1<-a:a1", "f/1<-byz:x8", "f/1<-byz:x9"}
	if !slices.Equal(got, want) {
		t.Errorf("output %s, want %s", join(got), join(want))
	}
	s := f.EarlyStats()
	if s.Refused != 3 || s.Buffer.Evicted != 8 {
		t.Errorf("EarlyStats = %+v; want 3 refused, 8 evicted", s)
	}
	if f.Dropped() != 3 {
		t.Errorf("Dropped = %d, want 3", f.Dropped())
	}
	// The buffer emptied, so its senders are forgotten: a new one fits.
	out := applyFactory(t, f, msg("f/2", "third", "t"), newSub("f", "f/2", 2, "echo"))
	if want := []string{"f/2<-stdevents.Init", "f/2<-third:t"}; !slices.Equal(out, want) {
		t.Errorf("after emptying: %s, want %s", join(out), join(want))
	}
}

func TestEarlyMessagesDefaultSize(t *testing.T) {
	c := earlyConfig()
	c.SizeBytes = nil
	size, err := messagebuffer.EncodedSize(&testMsg{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	c.Limits.BytesPerSenderMax = size
	f, got := runEarly(t, c,
		[]stdtypes.Event{msg("f/1", "a", "hi"), msg("f/1", "b", "too long")},
		[]stdtypes.Event{newSub("f", "f/1", 1, "echo")},
	)
	if want := []string{"f/1<-stdevents.Init", "f/1<-a:hi"}; !slices.Equal(got, want) {
		t.Errorf("output %s, want %s", join(got), join(want))
	}
	if f.EarlyStats().Refused != 1 {
		t.Errorf("EarlyStats = %+v, want 1 refused", f.EarlyStats())
	}
}

func TestEarlyMessagesForASubmoduleThatTakesNone(t *testing.T) {
	gen := func(id stdtypes.ModuleID, params any) (modules.PassiveModule, error) {
		return modules.NullPassive{}, nil
	}
	f := NewFactory("f", gen, nil, WithEarlyMessages(earlyConfig()))
	if _, err := f.ApplyEvents(stdtypes.ListOf(msg("f/1", "a", "m"), newSub("f", "f/1", 1, nil))); err != nil {
		t.Fatal(err)
	}
	if f.Dropped() != 1 || f.EarlyStats().Buffered != 0 {
		t.Errorf("Dropped = %d, EarlyStats = %+v; want the message dropped", f.Dropped(), f.EarlyStats())
	}
}

func TestEarlyMessagesValidate(t *testing.T) {
	if err := earlyConfig().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	bad := EarlyMessages{}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidEarlyMessages) {
		t.Fatalf("Validate of the zero config = %v", err)
	}
	for _, want := range []string{"Index is nil", "MessagesPerSenderMax", "MaxSenders is 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "MaxSenders") {
			t.Errorf("NewFactory with an invalid option: recovered %v, want a panic naming the problem", r)
		}
	}()
	NewFactory("f", testGenerator, nil, WithEarlyMessages(bad))
}

func TestWithoutEarlyMessagesNothingIsKept(t *testing.T) {
	f := NewFactory("f", testGenerator, nil)
	got := applyFactory(t, f, msg("f/1", "a", "m"), newSub("f", "f/1", 1, "echo"))
	if want := []string{"f/1<-stdevents.Init"}; !slices.Equal(got, want) {
		t.Errorf("output %s, want %s", join(got), join(want))
	}
	if f.Dropped() != 1 || f.EarlyStats() != (EarlyStats{}) {
		t.Errorf("Dropped = %d, EarlyStats = %+v", f.Dropped(), f.EarlyStats())
	}
}
