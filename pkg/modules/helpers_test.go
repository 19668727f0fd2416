package modules_test

import (
	"fmt"

	"github.com/mirframework/mir/stdtypes"
)

// note is the event these tests route: a destination and a text.
type note struct {
	stdtypes.Header
	Text string
}

func newNote(dest stdtypes.ModuleID, text string) *note {
	return &note{Header: stdtypes.NewHeader(dest), Text: text}
}

// notes returns one note to dest for each text.
func notes(dest stdtypes.ModuleID, texts ...string) []stdtypes.Event {
	evs := make([]stdtypes.Event, len(texts))
	for i, text := range texts {
		evs[i] = newNote(dest, text)
	}
	return evs
}

// render writes events as short strings for comparison: a note as its
// text, any other event as "Type->dest".
func render(evs []stdtypes.Event) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		if n, ok := ev.(*note); ok {
			out = append(out, n.Text)
			continue
		}
		out = append(out, fmt.Sprintf("%s->%s", stdtypes.TypeName(ev), ev.Dest()))
	}
	return out
}

// recorder is a passive module that records every batch it receives and
// answers each event with a note to "out" whose text is its name, a colon
// and the text of the event. With err set it returns err instead.
type recorder struct {
	name    string
	batches [][]stdtypes.Event
	err     error
}

func newRecorder(name string) *recorder { return &recorder{name: name} }

func (r *recorder) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	r.batches = append(r.batches, append([]stdtypes.Event(nil), events.Slice()...))
	if r.err != nil {
		return nil, r.err
	}
	out := stdtypes.EmptyList()
	for _, text := range render(events.Slice()) {
		out.PushBack(newNote("out", r.name+":"+text))
	}
	return out, nil
}

// received returns the rendered events of every batch, one string slice
// per batch.
func (r *recorder) received() [][]string {
	out := make([][]string, len(r.batches))
	for i, b := range r.batches {
		out[i] = render(b)
	}
	return out
}
