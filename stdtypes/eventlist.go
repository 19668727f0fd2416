package stdtypes

import "iter"

// EventList is an ordered list of events, backed by a slice.
//
// A nil *EventList is a valid empty list for reading (Len, Slice, All) and
// clearing, so a module with nothing to say may return nil; appending needs
// a list. An EventList is used by pointer and must not be copied by
// value: a list of one event keeps that event inline, which saves an
// allocation on the hottest path of every protocol (one event in, one out).
type EventList struct {
	evs []Event
	one [1]Event
}

// EmptyList returns a new empty list.
func EmptyList() *EventList { return &EventList{} }

// ListOf returns a new list holding evs, in order. It does not keep the
// slice it is given.
func ListOf(evs ...Event) *EventList {
	l := &EventList{}
	l.evs = append(l.one[:0], evs...)
	return l
}

// Len returns the number of events in the list; 0 for a nil list.
func (l *EventList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.evs)
}

// Get returns the i-th event. It panics if i is out of range, like a slice.
func (l *EventList) Get(i int) Event { return l.evs[i] }

// PushBack appends ev and returns the list.
func (l *EventList) PushBack(ev Event) *EventList {
	l.evs = l.grow(1)
	l.evs = append(l.evs, ev)
	return l
}

// PushBackSlice appends evs and returns the list.
func (l *EventList) PushBackSlice(evs []Event) *EventList {
	l.evs = l.grow(len(evs))
	l.evs = append(l.evs, evs...)
	return l
}

// PushBackList appends the events of other (which may be nil) and returns
// the list.
func (l *EventList) PushBackList(other *EventList) *EventList {
	if other.Len() == 0 {
		return l
	}
	return l.PushBackSlice(other.evs)
}

// grow returns l.evs with room for n more events. The first append to an
// empty list uses the inline slot when one event fits.
func (l *EventList) grow(n int) []Event {
	if l.evs == nil && n <= 1 {
		return l.one[:0]
	}
	return l.evs
}

// Slice returns the events as a slice. The slice shares memory with the
// list: a caller that wants to keep it while the list changes must copy it.
func (l *EventList) Slice() []Event {
	if l == nil {
		return nil
	}
	return l.evs
}

// All returns an iterator over the events, in order:
//
//	for ev := range list.All() { ... }
func (l *EventList) All() iter.Seq[Event] {
	return func(yield func(Event) bool) {
		for _, ev := range l.Slice() {
			if !yield(ev) {
				return
			}
		}
	}
}

// Clear removes all events, keeping the allocated space for reuse. Clearing
// a nil list does nothing.
func (l *EventList) Clear() {
	if l == nil {
		return
	}
	clear(l.evs)
	l.evs = l.evs[:0]
}

// SetSlice makes the list hold exactly evs, without copying: the list and
// the caller share the slice from then on. The node uses it to hand a batch
// to a module without copying events.
func (l *EventList) SetSlice(evs []Event) { l.evs = evs }
