package testsim

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Observation is one event a node dispatched to one of its modules, or a
// crash or start of a node (Event nil, Note set), as observers, properties
// and failure reports see it.
type Observation struct {
	// Seq numbers the observations of a run from 1.
	Seq uint64
	// Time is the simulated time of the dispatch.
	Time time.Duration
	// Node is the node that dispatched the event.
	Node stdtypes.NodeID
	// Incarnation counts the node's starts: 1 until its first restart.
	Incarnation int
	// Event is the event, or nil for a note on the node's life.
	Event stdtypes.Event
	// Note says what happened to the node ("crashed", "started") when
	// Event is nil.
	Note string
}

// String describes the observation in one line: time, node, event type,
// destination and contents.
func (o *Observation) String() string {
	if o.Event == nil {
		return fmt.Sprintf("#%d %v node %s (incarnation %d) %s", o.Seq, o.Time, o.Node, o.Incarnation, o.Note)
	}
	return fmt.Sprintf("#%d %v node %s: %s to %q %s", o.Seq, o.Time, o.Node,
		stdtypes.TypeName(o.Event), o.Event.Dest(), describeContent(o.Event))
}

// describeContent prints an event's fields for a failure report:
// follow-ups, messages and other values behind pointers and interfaces
// are printed too, a few levels deep, so that the report shows what the
// messages said rather than where they were in memory.
func describeContent(ev stdtypes.Event) string {
	var b strings.Builder
	describeValue(&b, reflect.ValueOf(ev), 0)
	if b.Len() > describeMaxLen {
		return b.String()[:describeMaxLen] + "..."
	}
	return b.String()
}

// Bounds of describeContent: nesting levels, elements of a slice, and
// characters in all.
const (
	describeMaxDepth = 4
	describeMaxElems = 8
	describeMaxLen   = 400
)

var (
	headerType      = reflect.TypeFor[stdtypes.Header]()
	messageBaseType = reflect.TypeFor[stdtypes.MessageBase]()
)

func describeValue(b *strings.Builder, v reflect.Value, depth int) {
	if depth > describeMaxDepth {
		b.WriteString("...")
		return
	}
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("<nil>")
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("<nil>")
			return
		}
		e := v.Elem()
		if e.CanInterface() {
			b.WriteString(stdtypes.TypeName(e.Interface()))
		} else {
			b.WriteString(strings.TrimLeft(e.Type().String(), "*"))
		}
		describeValue(b, e, depth)
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("<nil>")
			return
		}
		describeValue(b, v.Elem(), depth)
	case reflect.Struct:
		describeStruct(b, v, depth)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			fmt.Fprintf(b, "%x", v.Bytes())
			return
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i == describeMaxElems {
				fmt.Fprintf(b, " ...%d more", v.Len()-i)
				break
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			describeValue(b, v.Index(i), depth+1)
		}
		b.WriteByte(']')
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	default:
		if v.CanInterface() {
			fmt.Fprintf(b, "%v", v.Interface())
		} else {
			fmt.Fprintf(b, "%v", v)
		}
	}
}

// describeStruct prints a struct's fields, leaving out an event's Header
// (its destination is printed already) unless it has follow-ups, and a
// message's empty MessageBase.
func describeStruct(b *strings.Builder, v reflect.Value, depth int) {
	t := v.Type()
	b.WriteByte('{')
	first := true
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Type == messageBaseType {
			continue
		}
		if f.Type == headerType {
			if next := fv.FieldByName("Next"); next.Len() > 0 {
				if !first {
					b.WriteByte(' ')
				}
				first = false
				b.WriteString("FollowUps:")
				describeValue(b, next, depth+1)
			}
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(f.Name)
		b.WriteByte(':')
		describeValue(b, fv, depth+1)
	}
	b.WriteByte('}')
}

// Property is a condition on the events of a run. The simulation calls
// Observe with every event every node dispatches, in the order of the run,
// just before the destination module gets it; a non-nil error is a
// violation of safety, which stops the run at once with a *Failure.
//
// The Observation is valid only during the call: copy what must be kept
// (the event itself may be kept; events are never modified). A property
// keeps only the state it needs, so that long runs stay in bounded memory
// where the property allows.
type Property interface {
	// Name names the property in failure reports.
	Name() string
	Observe(o *Observation) error
}

// PerRun is implemented by a Property that keeps state of a run: Check
// checks the run with the property NewRun returns, with state of its own,
// never with the value it was handed. So one value can be handed to run
// after run, or to runs at once, and every run is checked as by a new
// property. The ready checkers (Agreement, ...) implement it; a property
// of your own that keeps state should too. The value itself can still be
// fed observations directly, in a unit test of the property.
type PerRun interface {
	Property
	// NewRun returns a property like this one, with the state of a run
	// that has not started.
	NewRun() Property
}

// ForRun returns the properties that check one run: NewRun's for those
// that implement PerRun, the others as they are. Sim.Check calls it; a
// driver of runs of its own (package deploytest's real deployment) does
// too.
func ForRun(props []Property) []Property {
	out := make([]Property, len(props))
	for i, p := range props {
		if pr, ok := p.(PerRun); ok {
			p = pr.NewRun()
		}
		out[i] = p
	}
	return out
}

// Liveness is a property that also has a condition to meet by a deadline:
// the simulation calls CheckLiveness when the test asks (Sim.CheckLiveness),
// typically once every fault has healed and the system had time to
// recover, with the state of every node then.
type Liveness interface {
	Property
	CheckLiveness(nodes []NodeStatus) error
}

// NodeStatus is the state of a node when liveness is checked.
type NodeStatus struct {
	ID stdtypes.NodeID
	// Up tells whether the node is running.
	Up bool
	// Incarnation is the node's current (or last) incarnation.
	Incarnation int
}

// Failure is what a run that went wrong returns: a property was violated,
// a module failed, or a node could not be built. It holds what is needed
// to understand and reproduce the run.
type Failure struct {
	// Seed is the seed of the run.
	Seed uint64
	// Time is the simulated time of the failure.
	Time time.Duration
	// Node is the node where it happened, if any.
	Node stdtypes.NodeID
	// Property is the violated property's name, or "" if something else
	// failed.
	Property string
	// Err is the property's or the module's error.
	Err error
	// Events is the number of observations until the failure.
	Events uint64
	// Hash is the event-sequence hash up to the failure: a rerun of the
	// seed fails with the same hash. It is 0 for a failure of a real
	// deployment (package deploytest), which has no seed.
	Hash uint64
	// History holds the last observations before the failure, oldest
	// first (the last is the violating event for a property).
	History []Observation
}

func (f *Failure) Error() string {
	var b strings.Builder
	what := "run failed"
	if f.Property != "" {
		what = fmt.Sprintf("property %q violated", f.Property)
	}
	fmt.Fprintf(&b, "testsim: %s at %v", what, f.Time)
	if f.Node != "" {
		fmt.Fprintf(&b, " on node %s", f.Node)
	}
	if f.Hash != 0 {
		fmt.Fprintf(&b, " (seed %d, after %d events, hash %016x)", f.Seed, f.Events, f.Hash)
	}
	fmt.Fprintf(&b, ": %v", f.Err)
	if len(f.History) > 0 {
		fmt.Fprintf(&b, "\nlast %d events:", len(f.History))
		for i := range f.History {
			b.WriteString("\n  ")
			b.WriteString(f.History[i].String())
		}
	}
	return b.String()
}

func (f *Failure) Unwrap() error { return f.Err }

// history is a ring of the last observations, for failure reports. Its
// size is fixed, so a run of any length keeps the same memory. Entries are
// kept compact, with the node as a pointer, since one is written for every
// event.
type history struct {
	ring []historyEntry
	next int
	full bool
}

type historyEntry struct {
	seq  uint64
	time time.Duration
	node *Node
	inc  uint64
	ev   stdtypes.Event
	note string
}

func newHistory(size int) history { return history{ring: make([]historyEntry, size)} }

func (h *history) add(seq uint64, t time.Duration, n *Node, ev stdtypes.Event, note string) {
	if len(h.ring) == 0 {
		return
	}
	e := &h.ring[h.next]
	e.seq, e.time, e.node, e.inc, e.ev, e.note = seq, t, n, n.inc, ev, note
	h.next++
	if h.next == len(h.ring) {
		h.next = 0
		h.full = true
	}
}

// snapshot returns the observations in the ring, oldest first.
func (h *history) snapshot() []Observation {
	var entries []historyEntry
	if h.full {
		entries = append(entries, h.ring[h.next:]...)
	}
	entries = append(entries, h.ring[:h.next]...)
	out := make([]Observation, len(entries))
	for i, e := range entries {
		out[i] = Observation{Seq: e.seq, Time: e.time, Node: e.node.id, Incarnation: int(e.inc), Event: e.ev, Note: e.note}
	}
	return out
}

// The event-sequence hash is FNV-1a over 64-bit words: each word of the
// canonical description of an observation is XORed into the state, which
// is then multiplied by the FNV prime. Strings are hashed byte by byte,
// with their length. It is the same in every process and build.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// hasher computes the event-sequence hash over a canonical description of
// every observation: node index, time, event type and destination, and,
// with content hashing, the event's encoding.
type hasher struct {
	sum uint64
	// content makes the hash cover what events hold, not only their
	// shape (see Options.HashContent).
	content bool
	buf     []byte
	// unhashable counts events whose content could not be encoded.
	unhashable uint64
	// typeHashes caches the hash of each event type's name; recent holds
	// the last few types looked up, which a run mostly repeats.
	typeHashes map[reflect.Type]uint64
	recent     [4]typeHash
	recentNext int
}

type typeHash struct {
	t reflect.Type
	h uint64
}

func newHasher(content bool) hasher {
	return hasher{sum: fnvOffset64, content: content, typeHashes: make(map[reflect.Type]uint64)}
}

func (h *hasher) word(v uint64) { h.sum = (h.sum ^ v) * fnvPrime64 }

func (h *hasher) bytes(b []byte) {
	s := h.sum
	for _, c := range b {
		s = (s ^ uint64(c)) * fnvPrime64
	}
	h.sum = s
	h.word(uint64(len(b)))
}

func (h *hasher) str(str string) {
	s := h.sum
	for i := 0; i < len(str); i++ {
		s = (s ^ uint64(str[i])) * fnvPrime64
	}
	h.sum = s
	h.word(uint64(len(str)))
}

// event adds an event that node number node dispatched at time t.
func (h *hasher) event(node int, t time.Duration, ev stdtypes.Event) {
	h.word(uint64(node))
	h.word(uint64(t))
	h.word(h.typeHash(ev))
	h.str(string(ev.Dest()))
	if h.content {
		h.eventContent(ev)
	}
}

// note adds a note on the life of node number node.
func (h *hasher) note(node int, t time.Duration, inc uint64, what string) {
	h.word(uint64(node))
	h.word(uint64(t))
	h.word(inc)
	h.str(what)
}

// typeHash returns the hash of the event's type name, cached per type.
func (h *hasher) typeHash(ev stdtypes.Event) uint64 {
	t := reflect.TypeOf(ev)
	for _, r := range h.recent {
		if r.t == t {
			return r.h
		}
	}
	v, ok := h.typeHashes[t]
	if !ok {
		name := stdtypes.TypeName(ev)
		v = fnvOffset64
		for i := 0; i < len(name); i++ {
			v = (v ^ uint64(name[i])) * fnvPrime64
		}
		h.typeHashes[t] = v
	}
	h.recent[h.recentNext] = typeHash{t, v}
	h.recentNext = (h.recentNext + 1) % len(h.recent)
	return v
}

// eventContent adds the encoding of ev: package codec's, which is
// deterministic, for a registered event; else the CBOR encoding of its
// fields, which works for events holding no unregistered events or
// messages. An event neither can encode is counted and only its shape is
// hashed: printing it would show pointers, which differ between processes.
func (h *hasher) eventContent(ev stdtypes.Event) {
	var err error
	if _, ok := codec.Name(ev); ok {
		if h.buf, err = codec.AppendEvent(h.buf[:0], ev); err == nil {
			h.bytes(h.buf)
			return
		}
	}
	data, err := codec.Marshal(ev)
	if err != nil {
		h.unhashable++
		return
	}
	h.bytes(data)
}
