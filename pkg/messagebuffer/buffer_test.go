package messagebuffer_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/messagebuffer"
	"github.com/mirframework/mir/stdtypes"
)

var nodes = []stdtypes.NodeID{"a", "b", "c"}

func newBuffer(t *testing.T, count, bytes int) *messagebuffer.Buffer[string] {
	t.Helper()
	b, err := messagebuffer.New[string](nodes, messagebuffer.Limits{MessagesPerSenderMax: count, BytesPerSenderMax: bytes})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// contents lists the buffer, oldest first, as "sender:message", keeping
// everything.
func contents(t *testing.T, b *messagebuffer.Buffer[string]) []string {
	t.Helper()
	var got []string
	n, err := b.Iterate(func(from stdtypes.NodeID, m string) messagebuffer.Action {
		got = append(got, string(from)+":"+m)
		return messagebuffer.Keep
	}, func(stdtypes.NodeID, string) error { t.Error("process called for a kept message"); return nil })
	if n != 0 || err != nil {
		t.Fatalf("Iterate keeping everything: %d, %v", n, err)
	}
	return got
}

func store(t *testing.T, b *messagebuffer.Buffer[string], from stdtypes.NodeID, m string, size int) {
	t.Helper()
	if err := b.Store(from, m, size); err != nil {
		t.Fatalf("Store(%s, %s, %d): %v", from, m, size, err)
	}
}

func TestNewRejectsBadArguments(t *testing.T) {
	good := messagebuffer.Limits{MessagesPerSenderMax: 1, BytesPerSenderMax: 1}
	for _, tc := range []struct {
		name    string
		senders []stdtypes.NodeID
		limits  messagebuffer.Limits
		want    string
	}{
		{"zero count", nodes, messagebuffer.Limits{BytesPerSenderMax: 1}, "MessagesPerSenderMax is 0; it must be at least 1"},
		{"negative count", nodes, messagebuffer.Limits{MessagesPerSenderMax: -1, BytesPerSenderMax: 1}, "MessagesPerSenderMax is -1"},
		{"zero bytes", nodes, messagebuffer.Limits{MessagesPerSenderMax: 1}, "BytesPerSenderMax is 0; it must be at least 1"},
		{"negative bytes", nodes, messagebuffer.Limits{MessagesPerSenderMax: 1, BytesPerSenderMax: -5}, "BytesPerSenderMax is -5"},
		{"both zero", nodes, messagebuffer.Limits{}, "MessagesPerSenderMax is 0; it must be at least 1\nBytesPerSenderMax is 0"},
		{"no senders", nil, good, "no senders"},
		{"duplicate sender", []stdtypes.NodeID{"a", "b", "a"}, good, `sender "a" listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := messagebuffer.New[string](tc.senders, tc.limits)
			if err == nil || b != nil {
				t.Fatalf("New = %v, %v; want an error", b, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", good, err)
	}
	if err := (messagebuffer.Limits{}).Validate(); !errors.Is(err, messagebuffer.ErrInvalidLimits) {
		t.Errorf("Validate of zero limits = %v, want ErrInvalidLimits", err)
	}
}

func TestStoreAndIterateInArrivalOrder(t *testing.T) {
	b := newBuffer(t, 10, 100)
	store(t, b, "b", "1", 3)
	store(t, b, "a", "2", 0) // Size 0 is allowed: only the count limits it.
	store(t, b, "c", "3", 5)
	store(t, b, "b", "4", 1)
	if want := []string{"b:1", "a:2", "c:3", "b:4"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
	if b.Len() != 4 || b.Bytes() != 9 {
		t.Errorf("Len %d, Bytes %d; want 4, 9", b.Len(), b.Bytes())
	}
	for _, tc := range []struct {
		id           stdtypes.NodeID
		count, bytes int
	}{{"a", 1, 0}, {"b", 2, 4}, {"c", 1, 5}, {"x", 0, 0}} {
		if c, by := b.SenderLen(tc.id); c != tc.count || by != tc.bytes {
			t.Errorf("SenderLen(%s) = %d, %d; want %d, %d", tc.id, c, by, tc.count, tc.bytes)
		}
	}
	if got := b.Stats(); got != (messagebuffer.Stats{Stored: 4}) {
		t.Errorf("Stats = %+v", got)
	}
	if got := b.Senders(); !slices.Equal(got, nodes) {
		t.Errorf("Senders = %v", got)
	}
	if got := b.Limits(); got != (messagebuffer.Limits{MessagesPerSenderMax: 10, BytesPerSenderMax: 100}) {
		t.Errorf("Limits = %+v", got)
	}
}

func TestStoreRejects(t *testing.T) {
	b := newBuffer(t, 2, 10)
	store(t, b, "a", "kept", 4)
	for _, tc := range []struct {
		from stdtypes.NodeID
		size int
		want error
	}{
		{"x", 1, messagebuffer.ErrUnknownSender},
		{"", 1, messagebuffer.ErrUnknownSender},
		{"a", -1, messagebuffer.ErrInvalidSize},
		{"a", 11, messagebuffer.ErrTooLarge},
		{"b", 1 << 62, messagebuffer.ErrTooLarge},
	} {
		if err := b.Store(tc.from, "bad", tc.size); !errors.Is(err, tc.want) {
			t.Errorf("Store(%q, size %d) = %v, want %v", tc.from, tc.size, err, tc.want)
		}
	}
	// A refused message evicts nothing.
	if want := []string{"a:kept"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
	if got := b.Stats(); got != (messagebuffer.Stats{Stored: 1, Rejected: 5}) {
		t.Errorf("Stats = %+v", got)
	}
	// Exactly the byte limit fits, evicting the rest.
	store(t, b, "a", "full", 10)
	if want := []string{"a:full"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
}

func TestEvictionByCount(t *testing.T) {
	b := newBuffer(t, 3, 1000)
	store(t, b, "a", "1", 1)
	store(t, b, "b", "2", 1)
	store(t, b, "a", "3", 1)
	store(t, b, "a", "4", 1)
	store(t, b, "a", "5", 1) // Evicts a:1, the oldest of a, not b's.
	store(t, b, "a", "6", 1) // Evicts a:3.
	if want := []string{"b:2", "a:4", "a:5", "a:6"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
	if got := b.Stats().Evicted; got != 2 {
		t.Errorf("Evicted = %d, want 2", got)
	}
}

func TestEvictionByBytes(t *testing.T) {
	b := newBuffer(t, 100, 10)
	store(t, b, "a", "1", 4)
	store(t, b, "c", "2", 10)
	store(t, b, "a", "3", 4)
	store(t, b, "a", "4", 2) // 10 bytes: fits exactly.
	store(t, b, "a", "5", 7) // Needs a:1 and a:3 out: 2+7 <= 10.
	if want := []string{"c:2", "a:4", "a:5"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
	if c, by := b.SenderLen("a"); c != 2 || by != 9 {
		t.Errorf("a holds %d messages, %d bytes; want 2, 9", c, by)
	}
	store(t, b, "a", "6", 10) // Evicts all of a.
	if want := []string{"c:2", "a:6"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
	if got := b.Stats(); got.Evicted != 4 || got.Stored != 6 {
		t.Errorf("Stats = %+v, want 4 evicted of 6 stored", got)
	}
	if b.Len() != 2 || b.Bytes() != 20 {
		t.Errorf("Len %d, Bytes %d; want 2, 20", b.Len(), b.Bytes())
	}
}

func TestIterateActions(t *testing.T) {
	b := newBuffer(t, 10, 100)
	for i, from := range []stdtypes.NodeID{"a", "b", "c", "a", "b", "c"} {
		store(t, b, from, fmt.Sprint(i), 1)
	}
	// Process even numbers, drop 3, keep the rest.
	var processed []string
	n, err := b.Iterate(func(_ stdtypes.NodeID, m string) messagebuffer.Action {
		switch m {
		case "0", "2", "4":
			return messagebuffer.Process
		case "3":
			return messagebuffer.Drop
		}
		return messagebuffer.Keep
	}, func(from stdtypes.NodeID, m string) error {
		processed = append(processed, string(from)+":"+m)
		return nil
	})
	if n != 3 || err != nil {
		t.Errorf("Iterate = %d, %v; want 3, nil", n, err)
	}
	if want := []string{"a:0", "c:2", "b:4"}; !slices.Equal(processed, want) {
		t.Errorf("processed %q, want %q", processed, want)
	}
	if want := []string{"b:1", "c:5"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
	if got := b.Stats(); got != (messagebuffer.Stats{Stored: 6, Processed: 3, Dropped: 1}) {
		t.Errorf("Stats = %+v", got)
	}
	if c, by := b.SenderLen("a"); c != 0 || by != 0 {
		t.Errorf("a holds %d, %d after its messages left", c, by)
	}
	// Freed room is usable again: a holds one message of the 10 allowed.
	for i := range 10 {
		store(t, b, "a", fmt.Sprint("x", i), 10)
	}
	if got := b.Stats().Evicted; got != 0 {
		t.Errorf("Evicted = %d, want 0", got)
	}
}

// TestIterateUntilStable processes a chain: each processed message makes
// the next one processable, as a node that moves from instance to
// instance does.
func TestIterateUntilStable(t *testing.T) {
	b := newBuffer(t, 10, 100)
	for _, m := range []int{4, 2, 3, 9, 1} {
		store(t, b, nodes[m%3], fmt.Sprint(m), 1)
	}
	current := 1
	var order []string
	rounds := 0
	for {
		n, err := b.Iterate(func(_ stdtypes.NodeID, m string) messagebuffer.Action {
			switch {
			case m == fmt.Sprint(current):
				return messagebuffer.Process
			case m < fmt.Sprint(current):
				return messagebuffer.Drop
			}
			return messagebuffer.Keep
		}, func(_ stdtypes.NodeID, m string) error {
			order = append(order, m)
			current++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rounds++
		if n == 0 {
			break
		}
	}
	if want := []string{"1", "2", "3", "4"}; !slices.Equal(order, want) {
		t.Errorf("processed %q, want %q", order, want)
	}
	if want := []string{"a:9"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("left %q, want %q", contents(t, b), want)
	}
	if rounds != 5 {
		t.Errorf("%d rounds, want 5", rounds)
	}
}

func TestIterateErrors(t *testing.T) {
	keep := func(stdtypes.NodeID, string) messagebuffer.Action { return messagebuffer.Keep }
	noop := func(stdtypes.NodeID, string) error { return nil }

	t.Run("nil functions", func(t *testing.T) {
		b := newBuffer(t, 10, 100)
		store(t, b, "a", "1", 1)
		if _, err := b.Iterate(nil, noop); err == nil {
			t.Error("nil decide: no error")
		}
		if _, err := b.Iterate(keep, nil); err == nil {
			t.Error("nil process: no error")
		}
		if b.Len() != 1 {
			t.Errorf("Len = %d after failed Iterates", b.Len())
		}
	})

	t.Run("process error", func(t *testing.T) {
		b := newBuffer(t, 10, 100)
		for _, m := range []string{"1", "2", "3"} {
			store(t, b, "a", m, 1)
		}
		errBoom := errors.New("boom")
		var seen []string
		n, err := b.Iterate(func(stdtypes.NodeID, string) messagebuffer.Action { return messagebuffer.Process },
			func(_ stdtypes.NodeID, m string) error {
				seen = append(seen, m)
				if m == "2" {
					return errBoom
				}
				return nil
			})
		if n != 2 || !errors.Is(err, errBoom) {
			t.Errorf("Iterate = %d, %v; want 2, boom", n, err)
		}
		if want := []string{"1", "2"}; !slices.Equal(seen, want) {
			t.Errorf("processed %q, want %q", seen, want)
		}
		if b.Len() != 0 {
			t.Errorf("Len = %d; the messages decided Process are removed", b.Len())
		}
	})

	t.Run("invalid action", func(t *testing.T) {
		b := newBuffer(t, 10, 100)
		for _, m := range []string{"1", "2", "3"} {
			store(t, b, "a", m, 1)
		}
		var processed []string
		n, err := b.Iterate(func(_ stdtypes.NodeID, m string) messagebuffer.Action {
			if m == "2" {
				return messagebuffer.Action(7)
			}
			return messagebuffer.Process
		}, func(_ stdtypes.NodeID, m string) error { processed = append(processed, m); return nil })
		if n != 2 || !errors.Is(err, messagebuffer.ErrInvalidAction) || !strings.Contains(err.Error(), "Action(7)") {
			t.Errorf("Iterate = %d, %v; want 2, invalid action", n, err)
		}
		if want := []string{"a:2"}; !slices.Equal(contents(t, b), want) {
			t.Errorf("left %q, want %q", contents(t, b), want)
		}
	})

	t.Run("changes while deciding", func(t *testing.T) {
		b := newBuffer(t, 10, 100)
		store(t, b, "a", "1", 1)
		var storeErr, iterErr error
		b.Iterate(func(stdtypes.NodeID, string) messagebuffer.Action {
			storeErr = b.Store("b", "2", 1)
			_, iterErr = b.Iterate(keep, noop)
			return messagebuffer.Keep
		}, noop)
		if !errors.Is(storeErr, messagebuffer.ErrIterating) || !errors.Is(iterErr, messagebuffer.ErrIterating) {
			t.Errorf("Store, Iterate from decide: %v, %v; want ErrIterating", storeErr, iterErr)
		}
		if want := []string{"a:1"}; !slices.Equal(contents(t, b), want) {
			t.Errorf("contents %q, want %q", contents(t, b), want)
		}
	})

	t.Run("process may store and iterate", func(t *testing.T) {
		b := newBuffer(t, 10, 100)
		store(t, b, "a", "1", 1)
		store(t, b, "b", "2", 1)
		var nested int
		_, err := b.Iterate(func(_ stdtypes.NodeID, m string) messagebuffer.Action {
			if m == "1" {
				return messagebuffer.Process
			}
			return messagebuffer.Keep
		}, func(from stdtypes.NodeID, m string) error {
			if err := b.Store(from, m+"'", 1); err != nil {
				return err
			}
			n, err := b.Iterate(keep, noop)
			nested += n
			return err
		})
		if err != nil || nested != 0 {
			t.Fatalf("Iterate: %v (nested processed %d)", err, nested)
		}
		if want := []string{"b:2", "a:1'"}; !slices.Equal(contents(t, b), want) {
			t.Errorf("contents %q, want %q", contents(t, b), want)
		}
	})
}

func TestActionString(t *testing.T) {
	for a, want := range map[messagebuffer.Action]string{
		messagebuffer.Keep: "Keep", messagebuffer.Process: "Process", messagebuffer.Drop: "Drop", -1: "Action(-1)",
	} {
		if a.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(a), a.String(), want)
		}
	}
}

// TestModel stores and removes at random, with a seed, and checks the
// buffer against a plain slice after each step: order, limits, counts.
func TestModel(t *testing.T) {
	const countMax, bytesMax = 4, 20
	b := newBuffer(t, countMax, bytesMax)
	type entry struct {
		from stdtypes.NodeID
		m    string
		size int
	}
	var model []entry
	var evicted uint64
	r := uint64(7)
	rnd := func(n int) int {
		r = r*6364136223846793005 + 1442695040888963407
		return int(r>>33) % n
	}
	for step := range 5000 {
		if rnd(4) > 0 {
			e := entry{nodes[rnd(3)], fmt.Sprint(step), rnd(bytesMax + 1)}
			store(t, b, e.from, e.m, e.size)
			// The model evicts the sender's oldest until the new one fits.
			for {
				count, bytes := 0, 0
				first := -1
				for i, x := range model {
					if x.from == e.from {
						count++
						bytes += x.size
						if first < 0 {
							first = i
						}
					}
				}
				if count < countMax && bytes+e.size <= bytesMax {
					break
				}
				model = slices.Delete(model, first, first+1)
				evicted++
			}
			model = append(model, e)
		} else {
			mod := 2 + rnd(3)
			var want []entry
			var keep []entry
			for _, x := range model {
				if len(x.m)%mod == 0 {
					want = append(want, x)
				} else {
					keep = append(keep, x)
				}
			}
			var got []entry
			b.Iterate(func(_ stdtypes.NodeID, m string) messagebuffer.Action {
				if len(m)%mod == 0 {
					return messagebuffer.Process
				}
				return messagebuffer.Keep
			}, func(from stdtypes.NodeID, m string) error {
				got = append(got, entry{from: from, m: m})
				return nil
			})
			if len(got) != len(want) {
				t.Fatalf("step %d: processed %d, want %d", step, len(got), len(want))
			}
			model = keep
		}
		var wantContents []string
		for _, x := range model {
			wantContents = append(wantContents, string(x.from)+":"+x.m)
		}
		if got := contents(t, b); !slices.Equal(got, wantContents) {
			t.Fatalf("step %d: contents\n  %q\nwant\n  %q", step, got, wantContents)
		}
	}
	if got := b.Stats().Evicted; got != evicted {
		t.Errorf("Evicted = %d, want %d", got, evicted)
	}
}

type testMsg struct {
	stdtypes.MessageBase
	Payload []byte
}

type unregisteredMsg struct{ stdtypes.MessageBase }

var _ = codec.Register[testMsg]("messagebuffer_test.testMsg")

func TestEncodedSize(t *testing.T) {
	m := &testMsg{Payload: make([]byte, 100)}
	data, err := codec.EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := messagebuffer.EncodedSize(m); n != len(data) || n < 100 || err != nil {
		t.Errorf("EncodedSize = %d, %v; want %d", n, err, len(data))
	}
	// An unregistered message type cannot be encoded.
	if _, err := messagebuffer.EncodedSize(&unregisteredMsg{}); err == nil {
		t.Error("EncodedSize of an unregistered type: no error")
	}
	if _, err := messagebuffer.EncodedSize(nil); err == nil {
		t.Error("EncodedSize(nil): no error")
	}
}

// TestHugeLimits checks that sizes near the largest int do not overflow
// the byte accounting.
func TestHugeLimits(t *testing.T) {
	const maxInt = int(^uint(0) >> 1)
	b, err := messagebuffer.New[string](nodes, messagebuffer.Limits{MessagesPerSenderMax: maxInt, BytesPerSenderMax: maxInt})
	if err != nil {
		t.Fatal(err)
	}
	store(t, b, "a", "1", maxInt-1)
	store(t, b, "a", "2", maxInt) // Evicts a:1.
	store(t, b, "a", "3", 0)      // Fits with a:2.
	if want := []string{"a:2", "a:3"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
}

func TestAddSender(t *testing.T) {
	b := newBuffer(t, 1, 10)
	if err := b.Store("x", "early", 1); !errors.Is(err, messagebuffer.ErrUnknownSender) {
		t.Fatalf("Store from an unknown sender = %v, want ErrUnknownSender", err)
	}
	if b.HasSender("x") || !b.HasSender("a") {
		t.Error("HasSender wrong before AddSender")
	}
	if !b.AddSender("x") {
		t.Fatal("AddSender(x) = false for a new sender")
	}
	if !b.HasSender("x") {
		t.Error("HasSender(x) = false after AddSender")
	}
	if b.AddSender("x") || b.AddSender("a") {
		t.Error("AddSender = true for a known sender")
	}
	store(t, b, "a", "1", 1)
	store(t, b, "x", "2", 1)
	// The new sender has a share of its own: filling it evicts only its
	// own messages.
	store(t, b, "x", "3", 1)
	if want := []string{"a:1", "x:3"}; !slices.Equal(contents(t, b), want) {
		t.Errorf("contents %q, want %q", contents(t, b), want)
	}
	if got, want := b.Senders(), append(slices.Clone(nodes), "x"); !slices.Equal(got, want) {
		t.Errorf("Senders = %v, want %v", got, want)
	}
}
