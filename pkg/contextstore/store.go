package contextstore

import (
	"iter"
	"slices"

	"github.com/mirframework/mir/stdtypes"
)

// Store keeps values of type T under IDs it chooses. The zero value is an
// empty store, ready to use.
//
// Entries are kept in a slice in ID order, which IDs, only growing, keep
// sorted: a lookup is a binary search, iteration is in ID order without
// sorting, and a removed entry stays as a hole until holes are the
// majority, when the slice is compacted. Every operation is therefore
// O(log n) or amortized O(1), except the bulk removals, which are O(n).
type Store[T any] struct {
	// lastID is the latest ID given; the next is lastID+1.
	lastID uint64
	// entries holds live entries and holes, sorted by ID.
	entries []entry[T]
	// holes counts the entries that were removed but not yet compacted.
	holes int
}

// entry is one stored value, or a hole if !live.
type entry[T any] struct {
	id        uint64
	retention stdtypes.RetentionIndex
	live      bool
	value     T
}

// minCompactLen is the length below which holes are not compacted: a small
// slice costs nothing to keep.
const minCompactLen = 32

// Store keeps v and returns its ID, never 0. The entry has retention index
// 0, so any GarbageCollect above 0 removes it; use StoreWithRetention to
// tie it to an epoch or an instance.
func (s *Store[T]) Store(v T) uint64 { return s.StoreWithRetention(v, 0) }

// StoreWithRetention keeps v with retention index retIdx and returns its
// ID, never 0. GarbageCollect(r) removes it once r > retIdx.
func (s *Store[T]) StoreWithRetention(v T, retIdx stdtypes.RetentionIndex) uint64 {
	s.lastID++
	s.entries = append(s.entries, entry[T]{id: s.lastID, retention: retIdx, live: true, value: v})
	return s.lastID
}

// Get returns the value kept under id, and keeps it. It reports false if
// there is none: the ID was never given, or its entry is gone.
func (s *Store[T]) Get(id uint64) (T, bool) {
	if i, ok := s.find(id); ok {
		return s.entries[i].value, true
	}
	var zero T
	return zero, false
}

// Recover returns the value kept under id and forgets it: what a module
// does when the answer to its request arrives. It reports false if there
// is none.
func (s *Store[T]) Recover(id uint64) (T, bool) {
	i, ok := s.find(id)
	if !ok {
		var zero T
		return zero, false
	}
	v := s.entries[i].value
	s.remove(i)
	s.compact()
	return v, true
}

// Dispose forgets the value kept under id, and reports whether there was
// one.
func (s *Store[T]) Dispose(id uint64) bool {
	i, ok := s.find(id)
	if ok {
		s.remove(i)
		s.compact()
	}
	return ok
}

// DisposeIf forgets every value for which dispose returns true, asking in
// ID order, and returns how many it forgot. dispose must not use the
// store.
func (s *Store[T]) DisposeIf(dispose func(id uint64, v T) bool) int {
	if dispose == nil {
		return 0
	}
	n := 0
	for i := range s.entries {
		if e := &s.entries[i]; e.live && dispose(e.id, e.value) {
			s.remove(i)
			n++
		}
	}
	s.compact()
	return n
}

// GarbageCollect forgets every value stored with a retention index lower
// than retIdx, and returns how many it forgot.
func (s *Store[T]) GarbageCollect(retIdx stdtypes.RetentionIndex) int {
	n := 0
	for i := range s.entries {
		if e := &s.entries[i]; e.live && e.retention < retIdx {
			s.remove(i)
			n++
		}
	}
	s.compact()
	return n
}

// Len returns the number of values kept.
func (s *Store[T]) Len() int { return len(s.entries) - s.holes }

// All returns the IDs and values kept, in ID order. The store must not
// change during the iteration.
func (s *Store[T]) All() iter.Seq2[uint64, T] {
	return func(yield func(uint64, T) bool) {
		for _, e := range s.entries {
			if e.live && !yield(e.id, e.value) {
				return
			}
		}
	}
}

// find returns the index of the live entry with ID id.
func (s *Store[T]) find(id uint64) (int, bool) {
	i, ok := slices.BinarySearchFunc(s.entries, id, func(e entry[T], id uint64) int {
		switch {
		case e.id < id:
			return -1
		case e.id > id:
			return 1
		}
		return 0
	})
	return i, ok && s.entries[i].live
}

// remove turns entry i into a hole, dropping its value so that the store
// holds no reference to it.
func (s *Store[T]) remove(i int) {
	s.entries[i] = entry[T]{id: s.entries[i].id}
	s.holes++
}

// compact removes the holes once they are the majority (or all there is),
// and frees the slice's memory when it is mostly unused.
func (s *Store[T]) compact() {
	switch {
	case s.holes == 0:
		return
	case s.holes == len(s.entries):
		// Nothing live: start over, as cheaply as it gets.
	case len(s.entries) < minCompactLen || s.holes*2 <= len(s.entries):
		return
	}
	live := s.entries[:0]
	for _, e := range s.entries {
		if e.live {
			live = append(live, e)
		}
	}
	clear(s.entries[len(live):]) // Holes hold no values, but be sure.
	s.entries, s.holes = live, 0
	if cap(s.entries) > minCompactLen && len(s.entries) < cap(s.entries)/4 {
		s.entries = slices.Clone(s.entries)
	}
}
